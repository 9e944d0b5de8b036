"""The openai SDK → the gateway → a fake Bedrock that recomputes every SigV4 signature and frames streams."""

from __future__ import annotations

import json

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel
from config.options import option_set
from logs_app.models import Log
from relay.services import channel_test, text_charge
from tests.fakes.aws import SECRETS, FakeBedrock, claude_events
from tests.fakes.server import ServerThread

HAIKU = "claude-3-5-haiku-20241022"
HAIKU_ID = "us.anthropic.claude-3-5-haiku-20241022-v1:0"  # us-east-1 serves it through an inference profile
LLAMA = "llama3-8b-8192"
LLAMA_ID = "meta.llama3-8b-instruct-v1:0"


@pytest.fixture(scope="module")
def bedrock_server():
    fake = FakeBedrock()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def bedrock(relay, bedrock_server):
    fake, server = bedrock_server
    fake.reset()

    def channel(name: str, secret: str = SECRETS["AKIDFAKE"], **fields) -> Channel:
        fields.setdefault("model_names", f"{HAIKU},{LLAMA}")
        return relay.channel(
            f"AKIDFAKE|{secret}|us-east-1", name=name, type=33, base_url=server.url, **fields
        )

    fake.channel = channel
    yield fake
    fake.reset()


def charged(relay, channel: Channel, model: str, usage: Usage) -> int:
    return text_charge(model, channel, relay.user.group, usage).quota


def test_a_signed_claude_chat_reaches_bedrock_and_bills_its_usage(relay, bedrock):
    channel = bedrock.channel("bedrock-1")
    bedrock.plan(
        HAIKU_ID, text="Hello from Claude on Bedrock.", usage={"input_tokens": 21, "output_tokens": 8}
    )
    answer = relay.client().chat.completions.create(
        model=HAIKU, messages=[{"role": "system", "content": "Be kind."}, {"role": "user", "content": "Hi"}]
    )
    assert answer.choices[0].message.content == "Hello from Claude on Bedrock."
    assert answer.choices[0].finish_reason == "stop"
    [sent] = bedrock.requests
    assert sent.signature_ok and sent.path == "/model/us.anthropic.claude-3-5-haiku-20241022-v1%3A0/invoke"
    assert sent.body == {"anthropic_version": "bedrock-2023-05-31", "system": "Be kind.",
                         "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4096}  # fmt: skip
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, HAIKU, Usage(21, 8)) > 0


def test_a_stream_is_decoded_from_eventstream_frames_and_billed_by_the_invocation_metrics(relay, bedrock):
    channel = bedrock.channel("bedrock-2")
    metrics = {"inputTokenCount": 30, "outputTokenCount": 6, "invocationLatency": 100, "firstByteLatency": 50}
    bedrock.plan(
        HAIKU_ID, text="one two three", usage={"input_tokens": 29, "output_tokens": 5}, metrics=metrics
    )
    stream = relay.client().chat.completions.create(
        model=HAIKU,
        messages=[{"role": "user", "content": "count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (30, 6)
    assert (
        bedrock.requests[0].path.endswith("/invoke-with-response-stream") and bedrock.requests[0].signature_ok
    )
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, HAIKU, Usage(30, 6))


def test_streamed_tool_calls_arrive_as_openai_fragments(relay, bedrock):
    bedrock.channel("bedrock-3")
    block = {"type": "tool_use", "id": "toolu_b1", "name": "lookup", "input": {}}
    events = [
        {
            "type": "message_start",
            "message": {"id": "msg_t", "usage": {"input_tokens": 40, "output_tokens": 1}},
        },
        {"type": "content_block_start", "index": 0, "content_block": block},
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '{"q": '},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "input_json_delta", "partial_json": '"cats"}'},
        },
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 12}},
        {"type": "message_stop"},
    ]
    bedrock.plan(HAIKU_ID, events=events)
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
    stream = relay.client().chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": "find cats"}], tools=tools, stream=True
    )
    fragments, finish = [], None
    for chunk in stream:
        for call in chunk.choices[0].delta.tool_calls or []:
            assert call.index == 0 and call.id in (None, "toolu_b1")
            fragments.append(call.function.arguments or "")
        finish = chunk.choices[0].finish_reason or finish
    assert json.loads("".join(fragments)) == {"q": "cats"} and finish == "tool_calls"
    assert bedrock.requests[0].body["tools"] == [{"name": "lookup", "input_schema": {"type": "object"}}]


def test_llama_chats_work_whole_and_streamed(relay, bedrock):
    bedrock.channel("bedrock-4")
    bedrock.plan(LLAMA_ID, text="Llama here.", usage={"input_tokens": 9, "output_tokens": 3})
    answer = relay.client().chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "Hi"}])
    assert answer.choices[0].message.content == "Llama here." and answer.usage.total_tokens == 12
    assert bedrock.requests[0].body["prompt"].endswith("<|start_header_id|>assistant<|end_header_id|>\n\n")

    events = [
        {"generation": "Llama", "prompt_token_count": 9, "generation_token_count": 1, "stop_reason": None},
        {"generation": " streams.", "prompt_token_count": None, "generation_token_count": 2, "stop_reason": "length",
         "amazon-bedrock-invocationMetrics": {"inputTokenCount": 9, "outputTokenCount": 2}},
    ]  # fmt: skip
    bedrock.plan(LLAMA_ID, events=events)
    stream = relay.client().chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Llama streams."
    assert chunks[-1].choices[0].finish_reason == "length"


def test_a_wrong_secret_is_refused_by_the_signature_check_and_disables_the_channel(relay, bedrock):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = bedrock.channel("bedrock-5", secret="not-the-secret")
    bedrock.plan(HAIKU_ID)
    with pytest.raises(openai.PermissionDeniedError, match="signature we calculated does not match"):
        relay.client().chat.completions.create(model=HAIKU, messages=[{"role": "user", "content": "Hi"}])
    assert not bedrock.requests[0].signature_ok
    relay.refresh()
    channel.refresh_from_db()
    assert channel.status != 1 and relay.user.used_quota == 0


def test_an_exception_frame_mid_stream_ends_the_stream_and_bills_what_was_delivered(relay, bedrock):
    channel = bedrock.channel("bedrock-6")
    events = claude_events("alpha beta", {"input_tokens": 5, "output_tokens": 2}, None)
    bedrock.plan(HAIKU_ID, events=events[:4], exception=("modelStreamErrorException", "The model failed."))
    stream = relay.client().chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": "go"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError, match="The model failed."):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "alpha beta"
    relay.refresh()
    log = Log.objects.get()
    assert log.completion_tokens == 2 and log.quota == charged(
        relay, channel, HAIKU, Usage(log.prompt_tokens, 2)
    )


def test_a_corrupted_frame_ends_the_stream_with_an_error(relay, bedrock):
    bedrock.channel("bedrock-7")
    bedrock.plan(HAIKU_ID, text="almost done", bad_crc=True)
    stream = relay.client().chat.completions.create(
        model=HAIKU, messages=[{"role": "user", "content": "go"}], stream=True
    )
    with pytest.raises(openai.APIError):
        list(stream)


def test_the_channel_test_works_through_the_adaptor(relay, bedrock):
    channel = bedrock.channel("bedrock-8", model_names=HAIKU)
    bedrock.plan(HAIKU_ID, text="pong")
    result = channel_test(channel)
    assert result.success, result.message
    assert bedrock.requests[0].signature_ok and bedrock.requests[0].body["max_tokens"] == 64
