"""AWS Bedrock adaptor, pure: model ids, SigV4-signed InvokeModel requests, eventstream decoding, errors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from relay.errors import RelayError
from relay.providers.aws import AwsAdaptor
from relay.providers.aws.models import bedrock_model_id
from relay.providers.base import StreamState
from relay.schemas import RelayRequest
from tests.fakes.aws import SECRETS, signature_problem
from tests.relay.providers.builders import adaptor_for, relay_request

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "aws"
KEY = f"AKIDFAKE|{SECRETS['AKIDFAKE']}|us-east-1"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def adaptor(**fields) -> AwsAdaptor:
    return adaptor_for(AwsAdaptor, 33, **{"name": "bedrock", "key": KEY, **fields})


def chat(body: dict, headers: dict | None = None) -> RelayRequest:
    return relay_request(
        body, model="claude-3-5-sonnet-20240620", path="/v1/chat/completions", headers=headers
    )


async def replay(a: AwsAdaptor, raw: bytes, state: StreamState) -> list[dict]:
    response = httpx.Response(
        200, content=raw, headers={"content-type": "application/vnd.amazon.eventstream"}
    )
    chunks: list[dict] = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks


@pytest.mark.parametrize(
    ("model", "region", "expected"),
    [
        ("claude-3-5-sonnet-20240620", "us-east-1", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
        ("claude-3-5-sonnet-20241022", "us-west-2", "anthropic.claude-3-5-sonnet-20241022-v2:0"),
        ("claude-3-haiku-20240307", "eu-central-1", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("claude-3-7-sonnet-20250219", "us-east-1", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
        ("claude-sonnet-4-20250514", "eu-west-1", "eu.anthropic.claude-sonnet-4-20250514-v1:0"),
        ("claude-opus-4-1-20250805", "ap-northeast-1", "apac.anthropic.claude-opus-4-1-20250805-v1:0"),
        ("llama3-70b-8192", "us-east-1", "meta.llama3-70b-instruct-v1:0"),
        (
            "arn:aws:bedrock:us-east-1:123:inference-profile/x",
            "us-east-1",
            "arn:aws:bedrock:us-east-1:123:inference-profile/x",
        ),
    ],
)
def test_gateway_model_names_map_to_bedrock_ids(model, region, expected):
    assert bedrock_model_id(model, region) == expected


def test_a_claude_request_is_the_anthropic_body_for_bedrock_and_is_signed():
    req = chat({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
                "max_tokens": 100}, headers={"anthropic-beta": "token-efficient-tools-2025-02-19"})  # fmt: skip
    upstream = adaptor().build_request(req, req.model)
    assert upstream.url == (
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke"
    )
    assert json.loads(upstream.content) == {
        "anthropic_version": "bedrock-2023-05-31", "anthropic_beta": ["token-efficient-tools-2025-02-19"],
        "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 100,
    }  # fmt: skip
    headers = {k.lower(): v for k, v in upstream.headers.items()}
    headers["host"] = "bedrock-runtime.us-east-1.amazonaws.com"
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDFAKE/")
    assert "/us-east-1/bedrock/aws4_request" in headers["authorization"]
    path = "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/invoke"
    assert signature_problem("POST", path, headers, upstream.content) == ""
    assert signature_problem("POST", path, headers, upstream.content + b" ") != ""


def test_streams_use_the_stream_action_and_the_config_credentials_and_base_url():
    a = adaptor(
        key="", config={"ak": "AKIDFAKE", "sk": "s", "region": "eu-west-1"}, base_url="http://vpce.local/"
    )
    upstream = a.build_request(
        chat({"messages": [{"role": "user", "content": "hi"}], "stream": True}), "claude-3-haiku-20240307"
    )
    assert (
        upstream.url
        == "http://vpce.local/model/anthropic.claude-3-haiku-20240307-v1%3A0/invoke-with-response-stream"
    )
    assert (
        "stream" not in json.loads(upstream.content)
        and "/eu-west-1/bedrock/" in upstream.headers["Authorization"]
    )
    assert upstream.headers["Accept"] == "application/vnd.amazon.eventstream"


def test_a_channel_without_credentials_is_a_clear_error():
    with pytest.raises(RelayError, match="AK|SK|Region"):
        adaptor(key="just-a-key").build_request(
            chat({"messages": [{"role": "user", "content": "x"}]}), "claude-3-haiku-20240307"
        )


def test_a_llama_request_is_a_templated_prompt():
    req = chat({"model": "llama3-8b-8192", "max_tokens": 64, "temperature": 0.5,
                "messages": [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]})  # fmt: skip
    upstream = adaptor().build_request(req, req.model)
    assert "/model/meta.llama3-8b-instruct-v1%3A0/invoke" in upstream.url
    assert json.loads(upstream.content) == {
        "prompt": "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|>"
        "<|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        "max_gen_len": 64, "temperature": 0.5,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"), [("tools", [{"type": "function", "function": {"name": "f"}}]), ("n", 3)]
)
def test_llama_refuses_what_it_lacks_by_name(field, value):
    req = chat({"model": "llama3-8b-8192", "messages": [{"role": "user", "content": "x"}], field: value})
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(req, req.model)
    assert (caught.value.status, caught.value.code, caught.value.param) == (
        400,
        "unsupported_parameter",
        field,
    )
    assert caught.value.message == f"AWS Bedrock Llama does not support {field}"


def test_claude_refuses_what_it_lacks_naming_bedrock():
    with pytest.raises(RelayError, match="AWS Bedrock does not support n"):
        adaptor().build_request(
            chat({"messages": [{"role": "user", "content": "x"}], "n": 2}), "claude-3-haiku-20240307"
        )


def test_answers_translate_for_claude_tools_and_llama():
    body, usage = adaptor().parse_response(chat({}), 200, fixture("chat.json"))
    assert json.loads(body)["choices"][0]["message"]["content"] == "Hi! I'm Claude on Bedrock."
    assert (usage.prompt_tokens, usage.completion_tokens) == (14, 11)
    body, _ = adaptor().parse_response(chat({}), 200, fixture("tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city":"Seattle"}',
    }
    body, usage = adaptor().parse_response(chat({"model": "llama3-8b-8192"}), 200, fixture("llama_chat.json"))
    answer = json.loads(body)
    assert answer["choices"][0]["message"]["content"] == "Hello! How can I help?"
    assert answer["choices"][0]["finish_reason"] == "stop" and answer["usage"]["total_tokens"] == 25


async def test_an_eventstream_decodes_into_chunks_with_bedrock_usage():
    state = StreamState(model="claude-3-5-haiku-20241022", hide_usage=False)
    chunks = await replay(adaptor(), fixture("chat_stream.eventstream"), state)
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "Hi from Bedrock"
    )
    assert state.done and state.finished and state.error is None
    assert (state.usage.prompt_tokens, state.usage.completion_tokens) == (15, 5)  # the invocation metrics win
    assert chunks[-1]["usage"]["total_tokens"] == 20


async def test_an_exception_frame_ends_the_stream_with_a_retryable_error():
    state = StreamState(model="claude")
    chunks = await replay(adaptor(), fixture("stream_exception.eventstream"), state)
    assert chunks[-1]["choices"][0]["delta"] == {"content": "Hi"}
    assert (state.error.status, state.error.type, state.error.retryable) == (429, "throttlingException", True)
    assert state.error.message == "Too many requests, please wait before trying again."


async def test_a_corrupted_frame_ends_the_stream_with_an_error():
    raw = bytearray(fixture("chat_stream.eventstream"))
    raw[-1] ^= 0xFF
    state = StreamState(model="claude")
    await replay(adaptor(), bytes(raw), state)
    assert state.error is not None and not state.done


async def test_a_llama_stream_translates_and_ends_on_its_stop_reason():
    from tests.fakes.aws import chunk_frame

    raw = b"".join(chunk_frame(json.loads(line)) for line in fixture("llama_stream.jsonl").splitlines())
    state = StreamState(model="llama3-8b-8192")
    chunks = await replay(adaptor(), raw, state)
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]) == "Hello world"
    )
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and state.done
    assert chunks[-1]["usage"] == {"prompt_tokens": 17, "completion_tokens": 3, "total_tokens": 20}
    assert (state.usage.prompt_tokens, state.usage.completion_tokens) == (17, 3)


@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [
        (403, "error_403.json", (403, "AccessDeniedException", True, True)),
        (403, "error_model_access.json", (403, "AccessDeniedException", True, False)),
        (429, "error_throttling.json", (429, "ThrottlingException", True, False)),
    ],
)
def test_errors_carry_their_consequence(status, name, expected):
    error = adaptor().map_error(status, fixture(name))
    assert (error.status, error.type, error.retryable, error.disable_channel) == expected
    assert error.message == json.loads(fixture(name))["message"]
