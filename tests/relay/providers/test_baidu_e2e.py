"""Baidu ERNIE end to end: the openai SDK → the gateway → a fake Qianfan with a real token exchange."""

from __future__ import annotations

import httpx
import openai
import pytest

from billing.usage import Usage
from channels_app.models import ChannelStatus
from channels_app.routing import channel_snapshot
from config.options import option_set
from logs_app.models import Log
from relay.providers import baidu
from relay.services import channel_test, text_charge
from tests.fakes.baidu import TOKEN, FakeBaidu
from tests.fakes.native import fixture
from tests.fakes.server import ServerThread

API_KEY, SECRET = "rQ8vT2nX5kL9mB3c", "Zt7wY4pH1sD6fG8jK0aV3eN5uQ2xC9bM"
HELLO = [{"role": "system", "content": "简洁"}, {"role": "user", "content": "你好"}]


@pytest.fixture(scope="module")
def baidu_server():
    fake = FakeBaidu()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def fake(baidu_server):
    fake, server = baidu_server
    fake.reset()
    fake.credentials = (API_KEY, SECRET)
    fake.url = server.url
    baidu._tokens.clear()
    yield fake
    baidu._tokens.clear()
    assert fake.problems == []


@pytest.fixture
def channel(relay, fake):
    return relay.channel(
        f"{API_KEY}|{SECRET}", type=15, base_url=fake.url, model_names="ERNIE-3.5-8K,Embedding-V1"
    )


def charged(channel, model: str, prompt: int, completion: int) -> int:
    return text_charge(model, channel_snapshot(channel), "default", Usage(prompt, completion)).quota


def test_chat_exchanges_the_key_once_and_bills_ernies_usage(relay, fake, channel):
    answer = relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO)
    assert answer.choices[0].message.content == "您好，我是文心一言，英文名是ERNIE Bot。"
    stream = relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO, stream=True)
    assert (
        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        == "以下是北京的景点：故宫、长城。"
    )
    assert fake.exchanges == 1
    chat = fake.requests[1]
    assert chat.path.endswith("/wenxinworkshop/chat/completions") and chat.query == f"access_token={TOKEN}"
    assert chat.json["system"] == "简洁" and chat.json["messages"] == [{"role": "user", "content": "你好"}]
    relay.refresh()
    assert sorted((log.prompt_tokens, log.completion_tokens) for log in Log.objects.all()) == [
        (4, 14),
        (5, 11),
    ]
    assert relay.user.used_quota == charged(channel, "ERNIE-3.5-8K", 4, 14) + charged(
        channel, "ERNIE-3.5-8K", 5, 11
    )


def test_tools_round_trip_as_functions(relay, fake, channel):
    tools = [
        {"type": "function", "function": {"name": "get_current_weather", "parameters": {"type": "object"}}}
    ]
    answer = relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO, tools=tools)
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, call.function.arguments) == ("get_current_weather", '{"location":"北京"}')
    chunks = list(
        relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO, tools=tools, stream=True)
    )
    assert chunks[0].choices[0].delta.tool_calls[0].function.name == "get_current_weather"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_an_http_200_error_reaches_the_client_as_a_400(relay, fake, channel):
    fake.fail_next(200, fixture("baidu", "error_336003.json"), path="/rpc/")
    with pytest.raises(openai.BadRequestError) as caught:
        relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO)
    assert "odd number" in caught.value.message


def test_a_revoked_token_fails_once_then_the_key_is_exchanged_again(relay, fake, channel):
    relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO)
    fake.valid_tokens.clear()
    fake.next_token = "24.rotated-token"
    with pytest.raises(openai.InternalServerError):  # 502: the gateway's token, not the client's key
        relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO)
    answer = relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO)
    assert answer.choices[0].message.content and fake.exchanges == 2
    assert fake.requests[-1].query == "access_token=24.rotated-token"
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.ENABLED


def test_wrong_credentials_disable_the_channel_when_the_option_is_on(relay, fake, channel):
    option_set("AutomaticDisableChannelEnabled", "true")
    fake.credentials = ("someone", "else")
    with pytest.raises(openai.AuthenticationError) as caught:
        relay.client().chat.completions.create(model="ERNIE-3.5-8K", messages=HELLO)
    assert "unknown client id" in caught.value.message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_a_stream_cut_short_ends_with_an_error(relay, fake, channel):
    cut = fixture("baidu", "chat_stream.sse").split(b"\n\n")[0] + b"\n\n"
    fake.fail_next(200, cut, "text/event-stream", path="/rpc/")
    with httpx.stream(
        "POST",
        f"{relay.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {relay.api_key}"},
        json={"model": "ERNIE-3.5-8K", "messages": HELLO, "stream": True},
        timeout=20,
    ) as response:
        text = response.read().decode()
    assert "以下是北京的景点" in text and '"error"' in text and text.endswith("data: [DONE]\n\n")


def test_embeddings(relay, fake, channel):
    result = relay.client().embeddings.create(model="Embedding-V1", input=["推荐", "一下"])
    assert [d.index for d in result.data] == [0, 1] and result.data[1].embedding == pytest.approx(
        [0.12, -0.34, 0.56]
    )
    relay.refresh()
    assert Log.objects.get().prompt_tokens == 4


def test_the_channel_test_passes_through_the_adaptor(relay, fake, channel):
    result = channel_test(channel, "ERNIE-3.5-8K")
    assert result.success, result.message
