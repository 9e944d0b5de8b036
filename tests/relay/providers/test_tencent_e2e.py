"""Tencent Hunyuan end to end: the openai SDK → the gateway → a fake Hunyuan that recomputes the TC3 signature."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from billing.usage import Usage
from channels_app.models import ChannelStatus
from channels_app.routing import channel_snapshot
from config.options import option_set
from logs_app.models import Log
from relay.services import channel_test, text_charge
from tests.fakes.native import fixture
from tests.fakes.server import ServerThread
from tests.fakes.tencent import FakeTencent

SECRET_ID, SECRET_KEY = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
KEY = f"1300000000|{SECRET_ID}|{SECRET_KEY}"
HELLO = [{"role": "user", "content": "你好"}]


@pytest.fixture(scope="module")
def tencent_server():
    fake = FakeTencent()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def fake(tencent_server):
    fake, server = tencent_server
    fake.reset()
    fake.secrets = {SECRET_ID: SECRET_KEY}
    fake.url = server.url
    yield fake
    assert fake.problems == []


@pytest.fixture
def channel(relay, fake):
    return relay.channel(KEY, type=23, base_url=fake.url, model_names="hunyuan-turbo,hunyuan-embedding")


def charged(channel, model: str, prompt: int, completion: int) -> int:
    return text_charge(model, channel_snapshot(channel), "default", Usage(prompt, completion)).quota


def test_a_signed_chat_is_answered_and_billed(relay, fake, channel):
    answer = relay.client().chat.completions.create(model="hunyuan-turbo", messages=HELLO, temperature=0.3)
    assert answer.choices[0].message.content == "你好！我是腾讯混元大模型。"
    assert fake.requests[0].json == {
        "Model": "hunyuan-turbo",
        "Messages": [{"Role": "user", "Content": "你好"}],
        "Stream": False,
        "Temperature": 0.3,
    }
    relay.refresh()
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens) == (5, 9)
    assert log.quota == relay.user.used_quota == charged(channel, "hunyuan-turbo", 5, 9)


def test_stream_and_tool_calls(relay, fake, channel):
    chunks = list(
        relay.client().chat.completions.create(
            model="hunyuan-turbo", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "你好！我是混元。"
    assert chunks[-1].usage.completion_tokens == 6
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    answer = relay.client().chat.completions.create(model="hunyuan-turbo", messages=HELLO, tools=tools)
    call = answer.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "call_cq8rq3ggj2v7n5d1m0tg",
        "get_weather",
        {"location": "北京"},
    )
    chunks = list(
        relay.client().chat.completions.create(
            model="hunyuan-turbo", messages=HELLO, tools=tools, stream=True
        )
    )
    assert chunks[0].choices[0].delta.tool_calls[0].function.name == "get_weather"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    relay.refresh()
    assert sorted((log.prompt_tokens, log.completion_tokens) for log in Log.objects.all()) == [
        (5, 6),
        (96, 18),
        (96, 18),
    ]


def test_a_bad_signature_is_a_401_and_disables_the_channel_when_the_option_is_on(relay, fake, channel):
    option_set("AutomaticDisableChannelEnabled", "true")
    fake.secrets = {SECRET_ID: "a-different-secret"}
    with pytest.raises(openai.AuthenticationError) as caught:
        relay.client().chat.completions.create(model="hunyuan-turbo", messages=HELLO)
    assert "credentials could not be validated" in caught.value.message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_arrears_in_a_stream_request_are_an_http_error(relay, fake, channel):
    fake.fail_next(200, fixture("tencent", "error_in_arrears.json"))  # JSON although Stream was true
    with pytest.raises(openai.PermissionDeniedError) as caught:
        list(relay.client().chat.completions.create(model="hunyuan-turbo", messages=HELLO, stream=True))
    assert "账号已欠费" in caught.value.message
    relay.refresh()
    assert relay.user.used_quota == 0


def test_rate_limits_are_retried_on_another_channel(relay, fake, channel):
    option_set("RetryTimes", "1")
    other = relay.channel(KEY, type=23, base_url=fake.url, model_names="hunyuan-turbo", name="second")
    fake.fail_next(200, fixture("tencent", "error_limit_exceeded.json"))
    answer = relay.client().chat.completions.create(model="hunyuan-turbo", messages=HELLO)
    assert answer.choices[0].message.content == "你好！我是腾讯混元大模型。" and len(fake.requests) == 2
    relay.refresh()
    assert Log.objects.get().channel_id in (channel.id, other.id)


def test_a_cut_stream_ends_with_an_error(relay, fake, channel):
    cut = fixture("tencent", "chat_stream.sse").split(b"\n\n")[0] + b"\n\n"
    fake.fail_next(200, cut, "text/event-stream")
    with httpx.stream(
        "POST",
        f"{relay.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {relay.api_key}"},
        json={"model": "hunyuan-turbo", "messages": HELLO, "stream": True},
        timeout=20,
    ) as response:
        text = response.read().decode()
    assert "你好" in text and '"error"' in text and text.endswith("data: [DONE]\n\n")


def test_embeddings(relay, fake, channel):
    result = relay.client().embeddings.create(model="hunyuan-embedding", input=["a", "b"])
    assert result.data[1].embedding == pytest.approx([-0.0789, 0.0123, -0.0456], abs=1e-6)
    assert fake.requests[0].headers["x-tc-action"] == "GetEmbedding"


def test_the_channel_test_passes_through_the_adaptor(relay, fake, channel):
    result = channel_test(channel, "hunyuan-turbo")
    assert result.success, result.message
