"""The official openai SDK → the gateway → a fake Coze on loopback (errors with HTTP 200 included)."""

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
from tests.fakes.coze import FakeCoze
from tests.fakes.server import ServerThread

MODEL = "bot-7340001"


@pytest.fixture(scope="module")
def coze_server():
    fake = FakeCoze()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def coze(relay, coze_server):
    fake, server = coze_server
    fake.reset()

    def channel(key: str, **fields) -> Channel:
        fields.setdefault("model_names", MODEL)
        return relay.channel(
            key, type=34, base_url=server.url, config=json.dumps({"user_id": "u-1"}), **fields
        )

    fake.channel = channel
    yield fake
    fake.reset()


def test_a_chat_reaches_the_bot_and_is_billed_by_local_counts(relay, coze):
    channel = coze.channel("pat-1")
    coze.bots[("pat-1", "7340001")] = "It is sunny today."
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                {"role": "user", "content": "Weather?"}]  # fmt: skip
    answer = relay.client().chat.completions.create(model=MODEL, messages=messages)
    assert answer.choices[0].message.content == "It is sunny today."
    got = coze.last()
    assert got.headers["authorization"] == "Bearer pat-1"
    assert (got.body["bot_id"], got.body["user"], got.body["query"]) == ("7340001", "u-1", "Weather?")
    relay.refresh()
    log = Log.objects.get(type=2)
    assert log.completion_tokens == tokens.count_completion("It is sunny today.", MODEL)
    assert log.prompt_tokens == tokens.count_messages(messages, MODEL)
    usage = Usage(log.prompt_tokens, log.completion_tokens)
    assert relay.user.used_quota == text_charge(MODEL, channel, relay.user.group, usage).quota


def test_a_stream_from_no_space_sse(relay, coze):
    coze.channel("pat-2")
    coze.bots[("pat-2", "7340001")] = "one two three"
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "count"}], stream=True
    )
    chunks = [c for c in stream if c.choices]
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "one two three "
    assert chunks[-1].choices[0].finish_reason == "stop"
    relay.refresh()
    assert Log.objects.get(type=2).completion_tokens == tokens.count_completion("one two three ", MODEL)


def test_an_http_200_auth_error_is_a_401_that_disables_the_channel(relay, coze):
    option_set("AutomaticDisableChannelEnabled", "true")
    first, second = coze.channel("pat-unknown-1", priority=1), coze.channel("pat-unknown-2")
    coze.bots[("pat-other", "7340001")] = "x"
    with pytest.raises(openai.AuthenticationError) as raised:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    assert "authentication is invalid" in raised.value.message
    first.refresh_from_db()
    assert first.status == ChannelStatus.AUTO_DISABLED
    # A stream request gets the same JSON error with HTTP 200 instead of a stream.
    with pytest.raises(openai.AuthenticationError):
        relay.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
        )
    second.refresh_from_db()
    assert second.status == ChannelStatus.AUTO_DISABLED
    relay.refresh()
    assert relay.user.used_quota == 0


def test_a_mid_stream_error_event(relay, coze):
    coze.channel("pat-3")
    coze.bots[("pat-3", "7340001")] = "partial answer here"
    coze.stream_error[("pat-3", "7340001")] = 4013
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
    )
    with pytest.raises(openai.APIError) as raised:
        list(stream)
    assert "busy" in raised.value.message


def test_the_channel_test_works_through_the_adaptor(relay, coze):
    channel = coze.channel("pat-4")
    coze.bots[("pat-4", "7340001")] = "I am a bot."
    result = channel_test(channel)
    assert result.success, result.message
    missing = coze.channel("pat-4", name="other bot", model_names="bot-999")
    result = channel_test(missing)
    assert not result.success and result.error.status == 404
