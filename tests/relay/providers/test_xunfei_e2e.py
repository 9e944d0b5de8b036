"""iFlytek Spark end to end: the openai SDK → the gateway → a fake Spark WebSocket that verifies the signed URL."""

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
from tests.fakes.server import ServerThread
from tests.fakes.xunfei import FakeSpark

APP_ID, SECRET, API_KEY = "4c8a9e1f", "ZmQ3NGU5YzA0ZGNkYjE4OWFmMTU2NjU3", "9b1e7d3c5a2f4e6b8d0c1a3e5f7b9d2c"
HELLO = [{"role": "user", "content": "你好"}]
ANSWER = "你好！我是讯飞星火认知大模型，很高兴为你服务。"


@pytest.fixture(scope="module")
def spark_server():
    fake = FakeSpark()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def spark(spark_server):
    fake, server = spark_server
    fake.reset()
    fake.app_id, fake.api_key, fake.api_secret = APP_ID, API_KEY, SECRET
    fake.url = server.url.replace("http://", "ws://")
    yield fake
    assert fake.problems == []


@pytest.fixture
def channel(relay, spark):
    return relay.channel(
        f"{APP_ID}|{SECRET}|{API_KEY}",
        type=18,
        base_url=spark.url,
        model_names="Spark-Max,Spark-Lite,Spark-4.0-Ultra",
    )


def charged(channel, model: str, prompt: int, completion: int) -> int:
    return text_charge(model, channel_snapshot(channel), "default", Usage(prompt, completion)).quota


def test_a_chat_over_the_websocket_is_answered_and_billed(relay, spark, channel):
    answer = relay.client().chat.completions.create(model="Spark-Max", messages=HELLO, max_tokens=100)
    assert answer.choices[0].message.content == ANSWER and answer.choices[0].finish_reason == "stop"
    sent = spark.received[0]
    assert sent["path"] == "/v3.5/chat" and sent["frame"]["parameter"]["chat"]["max_tokens"] == 100
    relay.refresh()
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens) == (5, 16)
    assert log.quota == relay.user.used_quota == charged(channel, "Spark-Max", 5, 16)


def test_a_streamed_chat(relay, spark, channel):
    chunks = list(
        relay.client().chat.completions.create(
            model="Spark-Lite", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ANSWER
    assert chunks[-1].usage.completion_tokens == 16
    assert spark.received[0]["path"] == "/v1.1/chat"
    relay.refresh()
    assert relay.user.used_quota == charged(channel, "Spark-Lite", 5, 16)


def test_function_calls(relay, spark, channel):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    answer = relay.client().chat.completions.create(model="Spark-4.0-Ultra", messages=HELLO, tools=tools)
    call = answer.choices[0].message.tool_calls[0]
    assert answer.choices[0].finish_reason == "tool_calls"
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"location":"北京"}')
    assert spark.received[0]["frame"]["payload"]["functions"] == {"text": [tools[0]["function"]]}


def test_a_refused_handshake_disables_the_channel_when_the_option_is_on(relay, spark, channel):
    option_set("AutomaticDisableChannelEnabled", "true")
    spark.api_secret = "another-secret"
    with pytest.raises(openai.AuthenticationError) as caught:
        relay.client().chat.completions.create(model="Spark-Max", messages=HELLO)
    assert "HMAC signature does not match" in caught.value.message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_an_error_frame_is_an_http_error_for_streams_too(relay, spark, channel):
    spark.mode = "error:error_10013.json"
    with pytest.raises(openai.BadRequestError) as caught:
        relay.client().chat.completions.create(model="Spark-Max", messages=HELLO)
    assert "input content audit failed" in caught.value.message
    with pytest.raises(openai.BadRequestError):
        list(relay.client().chat.completions.create(model="Spark-Max", messages=HELLO, stream=True))
    relay.refresh()
    assert relay.user.used_quota == 0


def test_a_connection_closed_before_the_last_frame(relay, spark, channel):
    spark.mode = "cut"
    with pytest.raises(openai.APIStatusError) as caught:
        relay.client().chat.completions.create(model="Spark-Max", messages=HELLO)
    assert caught.value.status_code == 502
    with httpx.stream(
        "POST",
        f"{relay.url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {relay.api_key}"},
        json={"model": "Spark-Max", "messages": HELLO, "stream": True},
        timeout=20,
    ) as response:
        text = response.read().decode()
    assert "你好！" in text and '"error"' in text and text.endswith("data: [DONE]\n\n")
    relay.refresh()
    log = Log.objects.get()  # only the stream delivered something, and pays for that
    assert log.is_stream and log.completion_tokens > 0


def test_the_channel_test_passes_through_the_websocket(relay, spark, channel):
    result = channel_test(channel, "Spark-Max")
    assert result.success, result.message
