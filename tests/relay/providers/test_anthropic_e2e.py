"""The official openai SDK → the gateway → a fake Anthropic on loopback that checks what it receives."""

from __future__ import annotations

import json

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel
from config.options import option_set
from logs_app.models import Log
from relay.services import channel_test, text_charge
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.server import ServerThread

MODEL = "claude-3-5-haiku-20241022"


@pytest.fixture(scope="module")
def anthropic_server():
    fake = FakeAnthropic()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def claude(relay, anthropic_server):
    fake, server = anthropic_server
    fake.reset()

    def channel(key: str, **fields) -> Channel:
        fields.setdefault("model_names", MODEL)
        return relay.channel(key, type=14, base_url=server.url, **fields)

    fake.channel = channel
    yield fake
    fake.reset()


def charged(relay, channel: Channel, usage: Usage) -> int:
    return text_charge(MODEL, channel, relay.user.group, usage).quota


def test_a_chat_reaches_claude_translated_and_bills_its_usage(relay, claude):
    channel = claude.channel("ant-1")
    usage = {
        "input_tokens": 12,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 200,
        "output_tokens": 7,
    }
    claude.plan("ant-1", text="Bonjour, je suis Claude.", usage=usage)
    answer = relay.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Answer in French."}, {"role": "user", "content": "Hello"}],
        max_tokens=300,
        stop=["\n\n"],
    )
    assert answer.choices[0].message.content == "Bonjour, je suis Claude."
    assert answer.choices[0].finish_reason == "stop"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (312, 7)
    assert answer.usage.prompt_tokens_details.cached_tokens == 200
    [sent] = claude.requests
    assert sent.headers["x-api-key"] == "ant-1" and sent.headers["anthropic-version"] == "2023-06-01"
    messages = [{"role": "user", "content": "Hello"}]
    assert sent.body == {"model": MODEL, "system": "Answer in French.", "messages": messages,
                         "max_tokens": 300, "stop_sequences": ["\n\n"]}  # fmt: skip
    relay.refresh()
    expected = charged(relay, channel, Usage(312, 7))
    assert relay.user.used_quota == expected > 0
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens, log.quota) == (312, 7, expected)


def test_a_stream_arrives_in_pieces_with_usage_when_asked(relay, claude):
    channel = claude.channel("ant-2")
    claude.plan(
        "ant-2", text="one two three four", usage={"input_tokens": 9, "output_tokens": 4}, no_space=True
    )
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "count"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "one two three four"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (9, 4)
    assert claude.requests[0].body["stream"] is True
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, Usage(9, 4))


def test_tool_calls_come_back_whole_and_streamed(relay, claude):
    claude.channel("ant-3")
    tool = {"id": "toolu_01", "name": "get_weather", "input": {"city": "Paris", "unit": "c"}}
    claude.plan("ant-3", text="Checking.", tool=tool)
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    answer = relay.client().chat.completions.create(
        model=MODEL, messages=messages, tools=tools, tool_choice="required"
    )
    assert answer.choices[0].finish_reason == "tool_calls"
    [call] = answer.choices[0].message.tool_calls
    assert (call.id, call.function.name) == ("toolu_01", "get_weather")
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "c"}
    sent = claude.requests[0].body
    assert sent["tool_choice"] == {"type": "any"} and sent["tools"][0]["name"] == "get_weather"

    stream = relay.client().chat.completions.create(model=MODEL, messages=messages, tools=tools, stream=True)
    fragments, ids, finish = [], set(), None
    for chunk in stream:
        for delta_call in chunk.choices[0].delta.tool_calls or []:
            ids.add(delta_call.id) if delta_call.id else None
            fragments.append(delta_call.function.arguments or "")
        finish = chunk.choices[0].finish_reason or finish
    assert ids == {"toolu_01"} and finish == "tool_calls"
    assert json.loads("".join(fragments)) == {"city": "Paris", "unit": "c"}


def test_tool_results_go_back_as_tool_result_blocks(relay, claude):
    claude.channel("ant-4")
    claude.plan("ant-4", text="It is sunny.")
    answer = relay.client().chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "Weather?"},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "toolu_9", "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
            {"role": "tool", "tool_call_id": "toolu_9", "content": "sunny"},
        ],
    )  # fmt: skip
    assert answer.choices[0].message.content == "It is sunny."
    assert claude.requests[0].body["messages"][1:] == [
        {"role": "assistant",
         "content": [{"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Paris"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_9", "content": "sunny"}]},
    ]  # fmt: skip


def test_the_clients_anthropic_version_header_is_honoured(relay, claude):
    claude.channel("ant-5")
    claude.plan("ant-5")
    relay.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"anthropic-version": "2099-01-01"},
    )
    assert claude.requests[0].headers["anthropic-version"] == "2099-01-01"


def test_a_bad_key_fails_over_and_disables_the_channel(relay, claude):
    option_set("RetryTimes", "1")
    option_set("AutomaticDisableChannelEnabled", "true")
    bad = claude.channel("ant-unknown", priority=5)  # the fake answers 401 for keys it has no plan for
    good = claude.channel("ant-6", priority=0)
    claude.plan("ant-6", text="from the good channel")
    answer = relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "from the good channel"
    relay.refresh()
    bad.refresh_from_db()
    good.refresh_from_db()
    assert bad.status != 1 and good.status == 1


def test_a_low_balance_error_reaches_the_client_and_disables_the_channel(relay, claude):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = claude.channel("ant-7")
    message = "Your credit balance is too low to access the Anthropic API."
    claude.plan(
        "ant-7",
        status=400,
        error={"type": "error", "error": {"type": "invalid_request_error", "message": message}},
    )
    with pytest.raises(openai.BadRequestError) as caught:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert message in str(caught.value)
    relay.refresh()
    channel.refresh_from_db()
    assert channel.status != 1 and relay.user.used_quota == 0


def test_a_mid_stream_error_ends_the_stream_and_bills_what_was_delivered(relay, claude):
    channel = claude.channel("ant-8")
    claude.plan("ant-8", text="alpha beta gamma delta", stream_error_after=2)
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "alpha beta" and "Overloaded" in str(caught.value)
    relay.refresh()
    log = Log.objects.get()
    assert log.completion_tokens == 2 and relay.user.used_quota == log.quota
    assert log.quota == charged(relay, channel, Usage(log.prompt_tokens, 2))


def test_a_stream_without_its_final_event_ends_with_an_error(relay, claude):
    claude.channel("ant-9")
    claude.plan("ant-9", text="cut short", omit_message_stop=True, stop_reason="max_tokens")
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
    )
    finishes = [c.choices[0].finish_reason for c in stream if c.choices]
    # The finish reason arrived (message_delta) before the stream broke off: the answer is complete.
    assert finishes[-1] == "length"

    start = {"type": "message_start", "message": {"id": "m", "usage": {"input_tokens": 3}}}
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
    raw = f"event: message_start\ndata: {json.dumps(start)}\n\n"
    raw += f"event: content_block_delta\ndata: {json.dumps(delta)}\n\n"
    claude.plan("ant-9", raw_sse=raw.encode())
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "go"}], stream=True
    )
    with pytest.raises(openai.APIError, match="ended before the answer was complete"):
        list(stream)


def test_features_claude_lacks_get_a_clear_400(relay, claude):
    claude.channel("ant-10")
    with pytest.raises(openai.BadRequestError) as caught:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], n=2)
    assert caught.value.body["code"] == "unsupported_parameter" and caught.value.body["param"] == "n"
    assert "Anthropic does not support n" in caught.value.body["message"]
    assert claude.requests == []


def test_the_channel_test_works_through_the_adaptor(relay, claude):
    channel = claude.channel("ant-11")
    claude.plan("ant-11", text="pong")
    result = channel_test(channel)
    assert result.success, result.message
    assert claude.requests[0].body["max_tokens"] == 64 and claude.requests[0].body["model"] == MODEL
