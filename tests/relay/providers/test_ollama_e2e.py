"""The official openai SDK → the gateway → a fake Ollama on loopback that checks what it receives."""

from __future__ import annotations

import json

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel
from logs_app.models import Log
from relay import tokens
from relay.services import channel_test, text_charge
from tests.fakes.ollama import FakeOllama
from tests.fakes.server import ServerThread
from tests.relay.providers.test_ollama import PNG

MODEL = "llama3.2"


@pytest.fixture(scope="module")
def ollama_server():
    fake = FakeOllama()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def ollama(relay, ollama_server):
    fake, server = ollama_server
    fake.reset()

    def channel(key: str = "", **fields) -> Channel:
        fields.setdefault("model_names", f"{MODEL},nomic-embed-text")
        return relay.channel(key, type=30, base_url=server.url, **fields)

    fake.channel = channel
    yield fake
    fake.reset()


def charged(relay, channel: Channel, usage: Usage, model: str = MODEL) -> int:
    return text_charge(model, channel, relay.user.group, usage).quota


def test_a_chat_reaches_ollama_translated_and_bills_its_counts(relay, ollama):
    channel = ollama.channel("", name="local")
    ollama.plan(MODEL, text="A pixel.", prompt_eval_count=31, eval_count=3)
    answer = relay.client().chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "What is in the image?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            },
        ],  # fmt: skip
        max_tokens=20,
        temperature=0,
    )
    assert answer.choices[0].message.content == "A pixel." and answer.choices[0].finish_reason == "stop"
    got = ollama.last()
    assert got.path == "/api/chat" and "authorization" not in got.headers
    assert got.body["stream"] is False and got.body["options"] == {"temperature": 0, "num_predict": 20}
    assert got.body["messages"][1] == {"role": "user", "content": "What is in the image?", "images": [PNG]}
    relay.refresh()
    log = Log.objects.get(type=2)
    assert (log.prompt_tokens, log.completion_tokens) == (31, 3)
    assert relay.user.used_quota == log.quota == charged(relay, channel, Usage(31, 3))


def test_an_ndjson_stream_reaches_the_sdk_as_sse(relay, ollama):
    channel = ollama.channel("ollama-cloud-key")
    ollama.plan(
        MODEL, key="ollama-cloud-key", chunks=["The", " sky", " is blue."], prompt_eval_count=12, eval_count=5
    )
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Why is the sky blue?"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The sky is blue."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.prompt_tokens == 12 and chunks[-1].usage.completion_tokens == 5
    assert ollama.last().headers["authorization"] == "Bearer ollama-cloud-key"
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, Usage(12, 5))


def test_a_tool_call_round_trip(relay, ollama):
    ollama.channel()
    ollama.plan(MODEL, calls=[{"name": "get_weather", "arguments": {"city": "Paris"}}])
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]  # fmt: skip
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    answer = relay.client().chat.completions.create(model=MODEL, messages=messages, tools=tools)
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris"}
    assert ollama.last().body["tools"][0]["function"]["name"] == "get_weather"

    ollama.plan(MODEL, text="Sunny.")
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"}]  # fmt: skip
    stream = relay.client().chat.completions.create(model=MODEL, messages=messages, tools=tools, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Sunny. "
    sent = ollama.last().body["messages"]
    assert sent[1]["tool_calls"] == [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
    assert sent[2] == {"role": "tool", "content": "sunny, 21C", "tool_name": "get_weather"}


def test_a_mid_stream_error_ends_the_stream_with_an_error_and_bills_what_was_delivered(relay, ollama):
    ollama.channel()
    ollama.plan(MODEL, chunks=["Once ", "upon "], error="model runner has unexpectedly stopped")
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "story"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as raised:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "model runner has unexpectedly stopped" in raised.value.message
    assert "".join(received) == "Once upon "
    relay.refresh()
    assert Log.objects.get(type=2).completion_tokens == tokens.count_completion("Once upon ", MODEL)


def test_a_missing_model_is_a_404_that_does_not_disable(relay, ollama):
    channel = ollama.channel()
    with pytest.raises(openai.NotFoundError) as raised:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "try pulling it first" in raised.value.message
    channel.refresh_from_db()
    assert channel.status == 1


def test_embeddings_through_api_embed(relay, ollama):
    channel = ollama.channel()
    ollama.plan("nomic-embed-text")
    result = relay.client().embeddings.create(model="nomic-embed-text", input=["a", "b"])
    assert [d.embedding for d in result.data] == [[0.25, 0.0], [0.25, 1.0]]
    assert ollama.last().path == "/api/embed"
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, Usage(7, 0), "nomic-embed-text")


def test_unsupported_n_is_a_400(relay, ollama):
    ollama.channel()
    with pytest.raises(openai.BadRequestError) as raised:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], n=2)
    assert "Ollama does not support n" in raised.value.message and ollama.received == []


def test_the_channel_test_works_through_the_adaptor(relay, ollama):
    channel = ollama.channel(model_names=MODEL)
    ollama.plan(MODEL, text="llama3.2")
    result = channel_test(channel)
    assert result.success, result.message
    assert ollama.last().body["stream"] is False
