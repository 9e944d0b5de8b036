"""Zhipu end to end: the openai SDK → the gateway → a fake Zhipu that verifies the JWT and the bodies."""

from __future__ import annotations

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
from tests.fakes.zhipu import FakeZhipu

KEY_ID, SECRET = "7c2e9a41d3b5f860", "Hq3LmZ8xWc1VbN7t"
KEY = f"{KEY_ID}.{SECRET}"
HELLO = [{"role": "user", "content": "你好"}]


@pytest.fixture(scope="module")
def zhipu_server():
    fake = FakeZhipu()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def zhipu(zhipu_server):
    fake, server = zhipu_server
    fake.reset()
    fake.secrets = {KEY_ID: SECRET}
    fake.url = server.url
    yield fake
    assert fake.problems == []


@pytest.fixture
def channel(relay, zhipu):
    return relay.channel(
        KEY, type=16, base_url=zhipu.url, model_names="glm-4-flash,chatglm_turbo,embedding-3"
    )


def charged(channel, model: str, prompt: int, completion: int) -> int:
    return text_charge(model, channel_snapshot(channel), "default", Usage(prompt, completion)).quota


def test_v4_chat_is_relayed_and_billed_from_zhipus_usage(relay, zhipu, channel):
    answer = relay.client().chat.completions.create(model="glm-4-flash", messages=HELLO, temperature=1.5)
    assert answer.choices[0].message.content == "你好！我是智谱清言。"
    assert answer.usage.prompt_tokens_details.cached_tokens == 4
    sent = zhipu.requests[0]
    assert sent.path == "/api/paas/v4/chat/completions" and sent.json["temperature"] == 1.0
    relay.refresh()
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens) == (9, 8)
    assert log.quota == relay.user.used_quota == charged(channel, "glm-4-flash", 9, 8)


def test_v4_stream_and_tool_calls(relay, zhipu, channel):
    stream = relay.client().chat.completions.create(model="glm-4-flash", messages=HELLO, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "你好！我是智谱清言。"
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    answer = relay.client().chat.completions.create(model="glm-4-flash", messages=HELLO, tools=tools)
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_8313807536837492494",
        "get_weather",
        '{"city": "北京"}',
    )
    relay.refresh()
    assert sorted((log.prompt_tokens, log.completion_tokens) for log in Log.objects.all()) == [
        (9, 8),
        (120, 14),
    ]


def test_v3_models_use_the_model_api_stream_and_not(relay, zhipu, channel):
    answer = relay.client().chat.completions.create(model="chatglm_turbo", messages=HELLO)
    assert answer.choices[0].message.content == " 你好👋！我是人工智能助手 ChatGLM。\n有什么可以帮你？"
    stream = relay.client().chat.completions.create(
        model="chatglm_turbo", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "你好！我是\n智谱"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage.total_tokens == 8
    assert [r.path.rsplit("/", 1)[1] for r in zhipu.requests] == ["invoke", "sse-invoke"]
    relay.refresh()
    usage = sorted((log.prompt_tokens, log.completion_tokens) for log in Log.objects.all())
    assert usage == [(2, 6), (2, 15)]
    assert relay.user.used_quota == charged(channel, "chatglm_turbo", 2, 6) + charged(
        channel, "chatglm_turbo", 2, 15
    )


def test_embeddings_go_to_v4(relay, zhipu, channel):
    result = relay.client().embeddings.create(model="embedding-3", input=["a", "b"])
    assert [d.index for d in result.data] == [0, 1] and result.usage.prompt_tokens == 8
    assert zhipu.requests[0].json == {
        "model": "embedding-3",
        "input": ["a", "b"],
    }  # SDK asked base64: packed here
    assert result.data[0].embedding == pytest.approx([-0.026754, 0.019060, 0.021351], abs=1e-6)


def test_v3_success_false_reaches_the_client_as_a_400(relay, zhipu, channel):
    zhipu.fail_next(200, fixture("zhipu", "v3_error.json"))
    with pytest.raises(openai.BadRequestError) as caught:
        relay.client().chat.completions.create(model="chatglm_turbo", messages=HELLO)
    assert "Prompt 超长" in caught.value.message
    relay.refresh()
    assert relay.user.used_quota == 0


def test_arrears_disable_the_channel_when_the_option_is_on(relay, zhipu, channel):
    option_set("AutomaticDisableChannelEnabled", "true")
    zhipu.fail_always(429, fixture("zhipu", "error_1113.json"))
    with pytest.raises(openai.RateLimitError):
        relay.client().chat.completions.create(model="glm-4-flash", messages=HELLO)
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_a_truncated_stream_ends_with_an_error_event_and_bills_what_was_delivered(relay, zhipu, channel):
    raw = fixture("zhipu", "v4_chat_stream.sse").split(b"\n\n")
    zhipu.fail_next(200, b"\n\n".join(raw[:2]) + b"\n\n", "text/event-stream")
    with httpx.stream(
        "POST",
        f"{relay.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {relay.api_key}"},
        json={"model": "glm-4-flash", "messages": HELLO, "stream": True},
        timeout=20,
    ) as response:
        text = response.read().decode()
    assert "你好" in text and "！我是" in text and '"error"' in text and text.endswith("data: [DONE]\n\n")
    relay.refresh()
    log = Log.objects.get()
    assert log.completion_tokens > 0 and log.quota == relay.user.used_quota


def test_the_channel_test_passes_through_the_adaptor(relay, zhipu, channel):
    result = channel_test(channel, "glm-4-flash")
    assert result.success, result.message
    result = channel_test(channel, "chatglm_turbo")
    assert result.success, result.message
