"""iFlytek Spark adaptor, pure: version table, signed URL, request frame, answer frames to OpenAI objects."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from relay.errors import RelayError
from relay.providers import xunfei
from relay.providers.base import StreamState
from relay.providers.xunfei import XunfeiAdaptor
from relay.schemas import RelayRequest
from tests.fakes.native import fixture as load
from tests.relay.providers.builders import adaptor_for, relay_request

APP_ID, SECRET, API_KEY = "4c8a9e1f", "ZmQ3NGU5YzA0ZGNkYjE4OWFmMTU2NjU3", "9b1e7d3c5a2f4e6b8d0c1a3e5f7b9d2c"
KEY = f"{APP_ID}|{SECRET}|{API_KEY}"


def fixture(name: str) -> bytes:
    return load("xunfei", name)


def adaptor(**fields) -> XunfeiAdaptor:
    return adaptor_for(XunfeiAdaptor, 18, **{"name": "spark", "key": KEY, **fields})


def chat(**body) -> RelayRequest:
    body = {"messages": [{"role": "user", "content": "你好"}], **body}
    return relay_request(body, model="Spark-Max", path="/v1/chat/completions")


def frames_body(name: str) -> bytes:
    return b"[" + b",".join(line for line in fixture(name).splitlines() if line.strip()) + b"]"


@pytest.mark.parametrize(
    ("model", "config", "version", "path", "domain"),
    [
        ("Spark-Lite", "", "v1.1", "/v1.1/chat", "lite"),
        ("Spark-Pro", "", "v3.1", "/v3.1/chat", "generalv3"),
        ("Spark-Pro-128K", "", "v3.1-128K", "/chat/pro-128k", "pro-128k"),
        ("Spark-Max", "", "v3.5", "/v3.5/chat", "generalv3.5"),
        ("Spark-Max-32K", "", "v3.5-32K", "/chat/max-32k", "max-32k"),
        ("Spark-4.0-Ultra", "", "v4.0", "/v4.0/chat", "4.0Ultra"),
        ("SparkDesk-v2.1", "", "v2.1", "/v2.1/chat", "generalv2"),
        ("spark", "v3.5", "v3.5", "/v3.5/chat", "generalv3.5"),
        ("spark", "", "v1.1", "/v1.1/chat", "lite"),
    ],
)
def test_the_version_comes_from_the_model_then_the_config(model, config, version, path, domain):
    assert xunfei.version_for(model, config) == version
    assert xunfei.path_and_domain(version) == (path, domain)


def test_the_url_is_signed_over_host_date_and_request_line():
    url = xunfei.signed_url(
        "ws://127.0.0.1:9000", "/v3.5/chat", API_KEY, SECRET, "Fri, 05 May 2023 10:43:39 GMT"
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("ws", "127.0.0.1:9000", "/v3.5/chat")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["date"] == "Fri, 05 May 2023 10:43:39 GMT" and query["host"] == "127.0.0.1:9000"
    origin = base64.b64decode(query["authorization"]).decode()
    assert origin.startswith(
        f'api_key="{API_KEY}", algorithm="hmac-sha256", headers="host date request-line"'
    )
    import hashlib
    import hmac

    signed = f"host: 127.0.0.1:9000\ndate: {query['date']}\nGET /v3.5/chat HTTP/1.1"
    expected = base64.b64encode(hmac.new(SECRET.encode(), signed.encode(), hashlib.sha256).digest()).decode()
    assert origin.endswith(f'signature="{expected}"')


def test_build_request_uses_the_default_host_or_the_channel_base():
    up = adaptor().build_request(chat(), "Spark-Max")
    assert up.url.startswith("wss://spark-api.xf-yun.com/v3.5/chat?authorization=")
    up = adaptor(base_url="ws://proxy.local:8080", config={"api_version": "v3.1"}).build_request(
        chat(), "spark"
    )
    assert up.url.startswith("ws://proxy.local:8080/v3.1/chat?") and "host=proxy.local%3A8080" in up.url


def test_the_request_frame():
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    up = adaptor(system_prompt="你是助手").build_request(
        chat(temperature=0, max_tokens=256, user="u-1", tools=tools), "Spark-4.0-Ultra"
    )
    assert up.system_prompt_reset
    assert json.loads(up.content) == {
        "header": {"app_id": APP_ID, "uid": "u-1"},
        "parameter": {"chat": {"domain": "4.0Ultra", "temperature": 0.01, "max_tokens": 256}},
        "payload": {
            "message": {
                "text": [{"role": "system", "content": "你是助手"}, {"role": "user", "content": "你好"}]
            },
            "functions": {"text": [tools[0]["function"]]},
        },
    }


@pytest.mark.parametrize(
    ("extra", "model", "param"),
    [
        ({"stop": "x"}, "Spark-Max", "stop"),
        ({"n": 2}, "Spark-Max", "n"),
        ({"top_p": 0.5}, "Spark-Max", "top_p"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "Spark-Lite", "tools"),
        ({"messages": [{"role": "tool", "tool_call_id": "c", "content": "x"}]}, "Spark-Max", "tool messages"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                    }
                ]
            },
            "Spark-Max",
            "image_url",
        ),
    ],
)
def test_what_spark_lacks_is_a_400(extra, model, param):
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(**extra), model)
    assert (caught.value.status, caught.value.param) == (400, param)
    assert "iFlytek Spark" in caught.value.message and param in caught.value.message


def test_a_bad_key_disables_and_other_modes_are_refused():
    with pytest.raises(RelayError) as caught:
        adaptor(key="only-app-id").build_request(chat(), "Spark-Max")
    assert caught.value.disable_channel
    embed = RelayRequest(mode="embeddings", path="/v1/embeddings", model="x", raw=b"{}", body={"input": "x"})
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(embed, "Spark-Max")
    assert caught.value.code == "unsupported_endpoint"


def test_non_stream_frames_are_accumulated():
    body, usage = adaptor().parse_response(chat(), 200, frames_body("chat_frames.jsonl"))
    answer = json.loads(body)
    assert answer["choices"][0]["message"]["content"] == "你好！我是讯飞星火认知大模型，很高兴为你服务。"
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 16)


def test_a_function_call_frame_becomes_a_tool_call():
    body, _ = adaptor().parse_response(chat(), 200, frames_body("function_call_frames.jsonl"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["id"].startswith("call_") and call["function"] == {
        "name": "get_weather",
        "arguments": '{"location":"北京"}',
    }


@pytest.mark.parametrize(
    ("name", "status", "retry", "disable"),
    [("error_10013.json", 400, False, False), ("error_11200.json", 403, True, True)],
)
def test_error_frames(name, status, retry, disable):
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, b"[" + fixture(name) + b"]")
    assert (caught.value.status, caught.value.retryable, caught.value.disable_channel) == (
        status,
        retry,
        disable,
    )
    assert adaptor().map_error(200, fixture(name)).status == status


def test_frames_without_the_last_one_are_incomplete():
    lines = [line for line in fixture("chat_frames.jsonl").splitlines() if line.strip()]
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, b"[" + b",".join(lines[:2]) + b"]")
    assert caught.value.code == "bad_response"


async def replay(name: str, raw: bytes | None = None, hide_usage: bool = True):
    a = adaptor()
    response = httpx.Response(200, content=raw if raw is not None else fixture(name))
    state = StreamState(model="Spark-Max", hide_usage=hide_usage)
    chunks = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks, state


async def test_stream_frames_become_chunks_ending_at_status_2():
    chunks, state = await replay("chat_frames.jsonl", hide_usage=False)
    assert [c["choices"][0]["delta"].get("content") for c in chunks[:3]] == [
        "你好！",
        "我是讯飞星火认知大模型，",
        "很高兴为你服务。",
    ]
    assert chunks[3]["choices"][0]["finish_reason"] == "stop" and chunks[4]["usage"]["total_tokens"] == 21
    assert state.done and state.usage.completion_tokens == 16


async def test_a_streamed_function_call():
    chunks, state = await replay("function_call_frames.jsonl")
    assert chunks[0]["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_an_error_frame_mid_stream_and_garbage():
    first = fixture("chat_frames.jsonl").splitlines()[0]
    chunks, state = await replay("", first + b"\n" + fixture("error_10013.json") + b"\n")
    assert len(chunks) == 1 and state.error.status == 400
    chunks, state = await replay("", first + b"\nnot json\n")
    assert state.error.code == "bad_response"
