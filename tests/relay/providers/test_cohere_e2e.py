"""The official openai SDK → the gateway → a fake Cohere v1 on loopback that checks what it receives."""

from __future__ import annotations

import json

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel, ChannelStatus
from config.options import option_set
from logs_app.models import Log
from relay.services import channel_test, text_charge
from tests.fakes.cohere import FakeCohere
from tests.fakes.server import ServerThread
from tests.relay.providers.test_cohere import WEATHER_TOOL

MODEL = "command-r"


@pytest.fixture(scope="module")
def cohere_server():
    fake = FakeCohere()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def cohere(relay, cohere_server):
    fake, server = cohere_server
    fake.reset()

    def channel(key: str, **fields) -> Channel:
        fields.setdefault("model_names", f"{MODEL},command-r-internet,embed-english-v3.0")
        return relay.channel(key, type=35, base_url=server.url, **fields)

    fake.channel = channel
    yield fake
    fake.reset()


def charged(relay, channel: Channel, usage: Usage, model: str = MODEL) -> int:
    return text_charge(model, channel, relay.user.group, usage).quota


def test_a_chat_reaches_cohere_translated_and_bills_billed_units(relay, cohere):
    channel = cohere.channel("co-1")
    cohere.plan("co-1", text="Large language models predict text.", billed=(9, 6))
    answer = relay.client().chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello!"},
            {"role": "user", "content": "What are LLMs?"},
        ],
        max_tokens=50,
        top_p=1.0,
    )
    assert answer.choices[0].message.content == "Large language models predict text."
    assert answer.choices[0].finish_reason == "stop" and answer.usage.total_tokens == 15
    got = cohere.last()
    assert got.path == "/v1/chat" and got.headers["authorization"] == "Bearer co-1"
    assert got.body["preamble"] == "Be brief." and got.body["message"] == "What are LLMs?"
    assert got.body["chat_history"] == [
        {"role": "USER", "message": "Hi"},
        {"role": "CHATBOT", "message": "Hello!"},
    ]
    assert got.body["p"] == 0.99 and got.body["max_tokens"] == 50
    relay.refresh()
    log = Log.objects.get(type=2)
    assert (log.prompt_tokens, log.completion_tokens) == (9, 6)
    assert relay.user.used_quota == charged(relay, channel, Usage(9, 6))


def test_a_stream_with_web_search(relay, cohere):
    channel = cohere.channel("co-2")
    cohere.plan("co-2", chunks=["It ", "rained ", "today."], billed=(4, 3))
    stream = relay.client().chat.completions.create(
        model="command-r-internet", messages=[{"role": "user", "content": "Weather news?"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "It rained today."
    assert chunks[-1].usage.prompt_tokens == 4 and chunks[-1].usage.completion_tokens == 3
    body = cohere.last().body
    assert (
        body["model"] == "command-r"
        and body["connectors"] == [{"id": "web-search"}]
        and body["stream"] is True
    )
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, Usage(4, 3), "command-r-internet")


def test_a_tool_call_round_trip(relay, cohere):
    cohere.channel("co-3")
    cohere.plan("co-3", text="", calls=[{"name": "weather", "parameters": {"city": "Oslo"}}])
    messages = [{"role": "user", "content": "Weather in Oslo?"}]
    answer = relay.client().chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.function.name == "weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
    assert cohere.last().body["tools"][0]["parameter_definitions"]["city"]["type"] == "str"

    cohere.plan("co-3", text="It is -3C in Oslo.")
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": '{"temp": -3}'}]  # fmt: skip
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "It is -3C in Oslo. "
    body = cohere.last().body
    assert body["tool_results"] == [
        {"call": {"name": "weather", "parameters": {"city": "Oslo"}}, "outputs": [{"temp": -3}]}
    ]


def test_a_streamed_tool_call(relay, cohere):
    cohere.channel("co-4")
    cohere.plan("co-4", text="Checking.", calls=[{"name": "weather", "parameters": {"city": "Rome"}}])
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Rome?"}], tools=[WEATHER_TOOL], stream=True
    )
    chunks = [c for c in stream if c.choices]
    calls = [t for c in chunks for t in c.choices[0].delta.tool_calls or []]
    assert len(calls) == 1 and json.loads(calls[0].function.arguments) == {"city": "Rome"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_an_unknown_stream_event_ends_the_stream_with_an_error(relay, cohere):
    cohere.channel("co-5")
    cohere.plan("co-5", chunks=["Half "], unknown_event=True)
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    with pytest.raises(openai.APIError) as raised:
        list(stream)
    assert "unknown stream event" in raised.value.message


def test_an_invalid_token_disables_the_channel(relay, cohere):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = cohere.channel("co-unknown")
    with pytest.raises(openai.AuthenticationError) as raised:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "invalid api token" in raised.value.message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_embeddings(relay, cohere):
    channel = cohere.channel("co-6")
    cohere.plan("co-6", billed=(3, 0))
    result = relay.client().embeddings.create(model="embed-english-v3.0", input=["a", "b"])
    assert [d.embedding for d in result.data] == [[0.5, 0.0], [0.5, 1.0]] and result.usage.prompt_tokens == 3
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, Usage(3, 0), "embed-english-v3.0")


def test_the_channel_test_works_through_the_adaptor(relay, cohere):
    channel = cohere.channel("co-7", model_names=MODEL)
    cohere.plan("co-7", text=MODEL)
    result = channel_test(channel)
    assert result.success, result.message
    assert cohere.last().body["message"]
