"""Ali DashScope end to end: the openai SDK → the gateway → a fake DashScope checking what it receives."""

from __future__ import annotations

import asyncio
import json

import httpx
import openai
import pytest

from billing.usage import Usage
from channels_app.models import ChannelStatus
from channels_app.routing import ChannelSnapshot, channel_snapshot
from config.options import option_set
from logs_app.models import Log
from relay.channel_types import channel_type_info
from relay.providers.ali import AliAdaptor, images
from relay.schemas import RelayRequest
from relay.services import channel_test, text_charge
from tests.fakes.ali import FakeAli
from tests.fakes.native import fixture
from tests.fakes.server import ServerThread

KEY = "sk-4f9c2b7e1d3a4c8b9e0f"
WHO = [{"role": "user", "content": "你是谁？"}]
TOOLS = [{"type": "function", "function": {"name": "get_current_weather", "parameters": {"type": "object"}}}]


@pytest.fixture(scope="module")
def ali_server():
    fake = FakeAli()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def ali(ali_server):
    fake, server = ali_server
    fake.reset()
    fake.key = KEY
    fake.url = server.url
    yield fake
    assert fake.problems == []


@pytest.fixture
def channel(relay, ali):
    return relay.channel(KEY, type=17, base_url=ali.url, model_names="qwen-plus,text-embedding-v3,wanx-v1")


def charged(channel, model: str, prompt: int, completion: int) -> int:
    return text_charge(model, channel_snapshot(channel), "default", Usage(prompt, completion)).quota


def test_chat_is_translated_and_billed_from_dashscope_usage(relay, ali, channel):
    answer = relay.client().chat.completions.create(model="qwen-plus", messages=WHO, top_p=1)
    assert answer.choices[0].message.content == "我是通义千问，由阿里云开发的AI助手。"
    assert (
        answer.choices[0].finish_reason == "stop" and answer.usage.prompt_tokens_details.cached_tokens == 16
    )
    assert ali.requests[0].json["parameters"]["top_p"] == 0.9999
    relay.refresh()
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens) == (24, 14)
    assert log.quota == relay.user.used_quota == charged(channel, "qwen-plus", 24, 14)


def test_stream_with_include_usage(relay, ali, channel):
    chunks = list(
        relay.client().chat.completions.create(
            model="qwen-plus", messages=WHO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "我是通义千问。"
    assert chunks[-1].usage.prompt_tokens == 24 and chunks[-1].usage.completion_tokens == 7
    relay.refresh()
    assert relay.user.used_quota == charged(channel, "qwen-plus", 24, 7)


def test_tool_calls_stream_and_not(relay, ali, channel):
    answer = relay.client().chat.completions.create(model="qwen-plus", messages=WHO, tools=TOOLS)
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (
        "call_6f8a1e2b3c4d4e5f",
        "get_current_weather",
        {"location": "杭州市"},
    )
    chunks = list(
        relay.client().chat.completions.create(model="qwen-plus", messages=WHO, tools=TOOLS, stream=True)
    )
    deltas = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or ()]
    assert deltas[0].id == "call_9a8b7c6d5e4f4a3b" and deltas[0].function.name == "get_current_weather"
    assert json.loads("".join(d.function.arguments or "" for d in deltas)) == {"location": "杭州市"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    assert ali.requests[1].json["parameters"]["tools"] == TOOLS


def test_arrearage_disables_the_channel_when_the_option_is_on(relay, ali, channel):
    option_set("AutomaticDisableChannelEnabled", "true")
    ali.fail_always(400, fixture("ali", "error_arrearage.json"))
    with pytest.raises(openai.BadRequestError) as caught:
        relay.client().chat.completions.create(model="qwen-plus", messages=WHO)
    assert "good standing" in caught.value.message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_an_sse_framed_error_is_an_http_error_not_an_empty_stream(relay, ali, channel):
    ali.fail_next(400, fixture("ali", "stream_error_400.sse"), "text/event-stream;charset=UTF-8")
    with pytest.raises(openai.BadRequestError) as caught:
        list(relay.client().chat.completions.create(model="qwen-plus", messages=WHO, stream=True))
    assert "Range of input length" in caught.value.message
    relay.refresh()
    assert relay.user.used_quota == 0


def test_a_stream_cut_short_ends_with_an_error_and_bills_what_was_delivered(relay, ali, channel):
    ali.fail_next(200, fixture("ali", "chat_stream.sse").split(b"id:3")[0], "text/event-stream")
    with httpx.stream(
        "POST",
        f"{relay.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {relay.api_key}"},
        json={"model": "qwen-plus", "messages": WHO, "stream": True},
        timeout=20,
    ) as response:
        text = response.read().decode()
    assert "通义千问" in text and '"error"' in text and text.endswith("data: [DONE]\n\n")
    relay.refresh()
    log = Log.objects.get()
    assert log.completion_tokens > 0 and log.prompt_tokens > 0 and log.quota == relay.user.used_quota


def test_embeddings(relay, ali, channel):
    result = relay.client().embeddings.create(model="text-embedding-v3", input=["a", "b"])
    assert [d.index for d in result.data] == [0, 1]
    assert result.data[1].embedding == pytest.approx([-0.0321, 0.0654, -0.0987], abs=1e-6)  # base64 packed
    assert ali.requests[0].json == {"model": "text-embedding-v3", "input": {"texts": ["a", "b"]}}
    relay.refresh()
    assert Log.objects.get().prompt_tokens == 6


def test_images_are_synthesised_as_a_polled_task(relay, ali, channel, monkeypatch):
    monkeypatch.setattr(images, "TASK_POLL_INTERVAL_S", 0.01)
    result = relay.client().images.generate(model="wanx-v1", prompt="一只猫", size="1024x1024", n=1)
    assert result.data[0].url.endswith("wanx_1.png") and ali.polls == 2
    created = ali.requests[0]
    assert created.json == {
        "model": "wanx-v1",
        "input": {"prompt": "一只猫"},
        "parameters": {"size": "1024*1024", "n": 1},
    }
    assert [r.method for r in ali.requests] == ["POST", "GET", "GET"]
    relay.refresh()
    assert relay.user.used_quota > 0


def test_run_image_task_standalone(ali, monkeypatch):
    """The helper for callers that send the task themselves, over real HTTP."""
    monkeypatch.setattr(images, "TASK_POLL_INTERVAL_S", 0.01)
    channel = ChannelSnapshot(
        id=1,
        type=17,
        name="ali",
        key=KEY,
        status=1,
        base_url=ali.url,
        weight=0,
        priority=0,
        models=("wanx-v1",),
        groups=("default",),
    )
    body = {"model": "wanx-v1", "prompt": "一只猫", "size": "1024x1024"}
    req = RelayRequest(mode="images", path="/v1/images/generations", model="wanx-v1", raw=b"", body=body)
    adaptor = AliAdaptor(channel, channel_type_info(17))

    async def run() -> bytes:
        async with httpx.AsyncClient() as client:
            return await images.run_image_task(client, adaptor.build_request(req, "wanx-v1"))

    answer = json.loads(adaptor.parse_response(req, 200, asyncio.run(run()))[0])
    assert answer["data"][0]["url"].endswith("wanx_1.png") and ali.polls == 2


def test_the_channel_test_passes_through_the_adaptor(relay, ali, channel):
    result = channel_test(channel, "qwen-plus")
    assert result.success, result.message
