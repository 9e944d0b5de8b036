"""The official openai SDK → the gateway → a fake DeepL on loopback that checks key, host and body."""

from __future__ import annotations

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel, ChannelStatus
from config.options import option_set
from logs_app.models import Log
from relay.services import channel_test, text_charge
from tests.fakes.deepl import FakeDeepL
from tests.fakes.server import ServerThread

MODEL = "deepl-zh"


@pytest.fixture(scope="module")
def deepl_server():
    fake = FakeDeepL()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def deepl(relay, deepl_server):
    fake, server = deepl_server
    fake.reset()

    def channel(key: str, quota: int = 1000, **fields) -> Channel:
        fake.quota_left[key] = quota
        fields.setdefault("model_names", "deepl-zh,deepl-ja,deepl-en")
        return relay.channel(key, type=38, base_url=server.url, **fields)

    fake.channel = channel
    yield fake
    fake.reset()


def test_a_translation_as_a_chat_answer_billed_by_characters(relay, deepl):
    channel = deepl.channel("k1:fx")
    answer = relay.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Translate."}, {"role": "user", "content": "Hello, world!"}],
        temperature=0.2,
    )
    assert answer.choices[0].message.content == "你好，世界！" and answer.choices[0].finish_reason == "stop"
    assert answer.usage.prompt_tokens == 13 and answer.usage.completion_tokens == 0
    got = deepl.last()
    assert got.headers["authorization"] == "DeepL-Auth-Key k1:fx"
    assert got.body == {"text": ["Hello, world!"], "target_lang": "ZH"}
    relay.refresh()
    log = Log.objects.get(type=2)
    assert (log.prompt_tokens, log.completion_tokens) == (13, 0)
    assert relay.user.used_quota == text_charge(MODEL, channel, relay.user.group, Usage(13, 0)).quota


def test_a_stream_request_gets_one_chunk_then_the_finish(relay, deepl):
    deepl.channel("k2:fx")
    stream = relay.client().chat.completions.create(
        model="deepl-ja", messages=[{"role": "user", "content": "Hello, world!"}], stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    chunks = list(stream)
    assert [c.choices[0].delta.content for c in chunks if c.choices] == ["こんにちは、世界！", None]
    assert [c.choices[0].finish_reason for c in chunks if c.choices] == [None, "stop"]
    assert chunks[-1].usage.prompt_tokens == 13
    relay.refresh()
    assert relay.user.used_quota > 0


def test_quota_exceeded_disables_the_channel(relay, deepl):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = deepl.channel("k3:fx", quota=5)
    with pytest.raises(openai.APIStatusError) as raised:
        relay.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "Hello, world!"}]
        )
    assert raised.value.status_code == 456 and "Quota Exceeded" in raised.value.message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED
    relay.refresh()
    assert relay.user.used_quota == 0


def test_tools_are_refused_before_reaching_deepl(relay, deepl):
    deepl.channel("k4:fx")
    with pytest.raises(openai.BadRequestError) as raised:
        relay.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
        )  # fmt: skip
    assert "DeepL does not support tools" in raised.value.message and deepl.received == []


def test_the_channel_test_works_through_the_adaptor(relay, deepl):
    assert channel_test(deepl.channel("k5:fx", model_names=MODEL)).success
    result = channel_test(deepl.channel("pro-key", model_names=MODEL))  # a pro key on the free host
    assert not result.success and "Wrong endpoint" in result.message and result.error.disable_channel
