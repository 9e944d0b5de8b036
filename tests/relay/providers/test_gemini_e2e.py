"""The official openai SDK → the gateway → a fake Gemini on loopback that checks what it receives."""

from __future__ import annotations

import json

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel, ChannelStatus
from config.options import option_set
from logs_app.models import Log
from relay import tokens
from relay.services import channel_test, text_charge
from tests.fakes.gemini import FakeGemini, fixture
from tests.fakes.server import ServerThread
from tests.relay.providers.test_gemini import PNG, PYDANTIC_SCHEMA

MODEL = "gemini-2.0-flash"


@pytest.fixture(scope="module")
def gemini_server():
    fake = FakeGemini()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def gemini(relay, gemini_server):
    fake, server = gemini_server
    fake.reset()

    def channel(key: str, **fields) -> Channel:
        fields.setdefault("model_names", f"{MODEL},text-embedding-004")
        return relay.channel(key, type=24, base_url=server.url, **fields)

    fake.channel = channel
    yield fake
    fake.reset()


def charged(relay, channel: Channel, usage: Usage, model: str = MODEL) -> int:
    return text_charge(model, channel, relay.user.group, usage).quota


def test_a_chat_reaches_gemini_translated_and_bills_its_usage(relay, gemini):
    channel = gemini.channel("AIza-1")
    usage = {
        "promptTokenCount": 11,
        "candidatesTokenCount": 5,
        "thoughtsTokenCount": 7,
        "totalTokenCount": 23,
    }
    gemini.plan("AIza-1", text="Bonjour, je suis Gemini.", usage=usage)
    answer = relay.client().chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Answer in French."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Hello, who is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                ],
            },
        ],  # fmt: skip
        max_tokens=300,
        temperature=0.5,
        stop=["\n\n"],
    )
    assert answer.choices[0].message.content == "Bonjour, je suis Gemini."
    assert answer.choices[0].finish_reason == "stop"
    assert (
        answer.usage.completion_tokens == 12 and answer.usage.completion_tokens_details.reasoning_tokens == 7
    )
    got = gemini.last()
    assert got.path == f"/v1beta/models/{MODEL}:generateContent" and got.headers["x-goog-api-key"] == "AIza-1"
    assert got.body["systemInstruction"] == {"parts": [{"text": "Answer in French."}]}
    assert got.body["contents"] == [{"role": "user", "parts": [
        {"text": "Hello, who is this?"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}]}]  # fmt: skip
    assert got.body["generationConfig"] == {
        "temperature": 0.5,
        "maxOutputTokens": 300,
        "stopSequences": ["\n\n"],
    }
    relay.refresh()
    expected = charged(relay, channel, Usage(11, 12))
    assert relay.user.used_quota == expected
    log = Log.objects.get(type=2)
    assert (log.prompt_tokens, log.completion_tokens, log.quota) == (11, 12, expected)


def test_a_stream_arrives_in_chunks_with_usage_when_asked(relay, gemini):
    channel = gemini.channel("AIza-2")
    usage = {"promptTokenCount": 6, "candidatesTokenCount": 4, "totalTokenCount": 10}
    gemini.plan("AIza-2", chunks=["Un", ", deux", ", trois", "."], usage=usage)
    stream = relay.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count to three in French"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Un, deux, trois."
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == 10
    got = gemini.last()
    assert got.path == f"/v1beta/models/{MODEL}:streamGenerateContent" and got.query == {"alt": "sse"}
    relay.refresh()
    assert relay.user.used_quota == charged(relay, channel, Usage(6, 4))


def test_tools_with_pydantic_schemas_are_accepted_and_calls_round_trip(relay, gemini):
    gemini.channel("AIza-3")
    gemini.plan("AIza-3", calls=[{"name": "get_weather", "args": {"place": {"city": "Paris"}, "days": 2}}])
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather",
                                               "parameters": PYDANTIC_SCHEMA, "strict": True}}]  # fmt: skip
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    answer = relay.client().chat.completions.create(model=MODEL, messages=messages, tools=tools)
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.id.startswith("call_") and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"place": {"city": "Paris"}, "days": 2}
    declaration = gemini.last().body["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_weather" and "$defs" not in json.dumps(declaration)
    assert declaration["parameters"]["properties"]["additionalProperties"] == {"type": "boolean"}

    gemini.plan("AIza-3", text="It is sunny in Paris.")
    messages += [choice.message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": '{"sky": "sunny"}'}]  # fmt: skip
    answer = relay.client().chat.completions.create(model=MODEL, messages=messages, tools=tools)
    assert answer.choices[0].message.content == "It is sunny in Paris."
    args = {"place": {"city": "Paris"}, "days": 2}
    assert gemini.last().body["contents"][1:] == [
        {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": args}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"sky": "sunny"}}}]},
    ]  # fmt: skip


def test_a_streamed_tool_call_reaches_the_sdk(relay, gemini):
    gemini.channel("AIza-4")
    gemini.plan("AIza-4", calls=[{"name": "lookup", "args": {"q": "x"}}])
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {
        "type": "object", "properties": {"q": {"type": "string"}}}}}]  # fmt: skip
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "look x up"}], tools=tools, stream=True
    )
    chunks = [c for c in stream if c.choices]
    call = chunks[0].choices[0].delta.tool_calls[0]
    assert call.function.name == "lookup" and json.loads(call.function.arguments) == {"q": "x"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_a_bad_key_disables_the_channel(relay, gemini):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = gemini.channel("AIza-unknown")  # no plan: the fake answers Gemini's 400 API_KEY_INVALID
    with pytest.raises(openai.AuthenticationError) as raised:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "API key not valid" in raised.value.message
    relay.refresh()
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED and relay.user.used_quota == 0


def test_resource_exhausted_fails_over_to_another_channel(relay, gemini):
    option_set("RetryTimes", "1")
    option_set("AutomaticDisableChannelEnabled", "true")
    busy = gemini.channel("AIza-busy", priority=10)
    gemini.plan("AIza-busy", status=429, error=json.loads(fixture("error_429.json")))
    gemini.channel("AIza-ok", priority=0)
    gemini.plan("AIza-ok", text="Served by the second channel.")
    answer = relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "Served by the second channel."
    busy.refresh_from_db()
    assert busy.status == ChannelStatus.ENABLED  # a rate limit never disables


def test_a_stream_that_ends_without_a_finish_reason_ends_with_an_error(relay, gemini):
    channel = gemini.channel("AIza-5")
    gemini.plan("AIza-5", chunks=["partial ", "answer "], stop_early=True)
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError) as raised:
        for chunk in stream:
            received.append(chunk.choices[0].delta.content)
    assert "ended before the answer was complete" in raised.value.message
    assert "".join(received) == "partial answer "
    relay.refresh()
    # Only what was delivered is billed: the prompt plus the two words counted locally.
    log = Log.objects.get(type=2)
    assert log.completion_tokens == tokens.count_completion("partial answer ", MODEL)
    assert relay.user.used_quota == log.quota > 0
    assert log.channel_id == channel.id


def test_unsupported_fields_get_a_400_naming_gemini(relay, gemini):
    gemini.channel("AIza-6")
    gemini.plan("AIza-6")
    with pytest.raises(openai.BadRequestError) as raised:
        relay.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], logprobs=True
        )
    assert "Gemini does not support logprobs" in raised.value.message
    assert gemini.received == []


def test_embeddings_come_back_as_floats(relay, gemini):
    channel = gemini.channel("AIza-7")
    gemini.plan("AIza-7")
    result = relay.client().embeddings.create(model="text-embedding-004", input=["alpha", "beta gamma"])
    assert [d.embedding for d in result.data] == [[0.5, -0.25, 0.0], [0.5, -0.25, 1.0]]
    got = gemini.last()
    assert (
        got.path == "/v1/models/text-embedding-004:batchEmbedContents"
    )  # GEMINI_VERSION for non-Gemini models
    assert [r["content"]["parts"][0]["text"] for r in got.body["requests"]] == ["alpha", "beta gamma"]
    relay.refresh()
    assert relay.user.used_quota == charged(
        relay, channel, Usage(result.usage.prompt_tokens, 0), "text-embedding-004"
    )


def test_the_channel_test_works_through_the_adaptor(relay, gemini):
    channel = gemini.channel("AIza-8", model_names=MODEL)
    gemini.plan("AIza-8", text=MODEL)
    result = channel_test(channel)
    assert result.success, result.message
    assert gemini.last().path == f"/v1beta/models/{MODEL}:generateContent"
    bad = gemini.channel("AIza-bad", model_names=MODEL)
    result = channel_test(bad)
    assert not result.success and "API key not valid" in result.message and result.error.disable_channel
