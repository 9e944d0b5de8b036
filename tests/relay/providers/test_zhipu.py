"""Zhipu adaptor, pure: JWT auth, v4 (OpenAI-shaped) vs v3 requests, recorded answers and streams back."""

from __future__ import annotations

import json
import time

import httpx
import jwt
import orjson
import pytest

from relay.errors import RelayError
from relay.providers import zhipu
from relay.providers.base import StreamState
from relay.providers.zhipu import ZhipuAdaptor
from relay.schemas import RelayRequest
from tests.fakes.native import fixture as load
from tests.relay.providers.builders import adaptor_for, relay_request

KEY = "3f1c2a9b7e5d4c3b.Fq8kZr2LmXw9TbNp"  # id.secret, a realistic 16-byte secret


def fixture(name: str) -> bytes:
    return load("zhipu", name)


def adaptor(**fields) -> ZhipuAdaptor:
    return adaptor_for(ZhipuAdaptor, 16, **{"name": "glm", "key": KEY, **fields})


def request(body: dict, mode: str = "chat") -> RelayRequest:
    path = {
        "chat": "/v1/chat/completions",
        "embeddings": "/v1/embeddings",
        "images": "/v1/images/generations",
    }
    return relay_request(body, model="glm-4-flash", mode=mode, path=path.get(mode, "/v1/x"))


def chat(**body) -> RelayRequest:
    body.setdefault("messages", [{"role": "user", "content": "你好"}])
    return request(body)


async def replay(a: ZhipuAdaptor, raw: bytes, model: str, url: str, hide_usage: bool = True):
    response = httpx.Response(
        200, content=raw, headers={"content-type": "text/event-stream"}, request=httpx.Request("POST", url)
    )
    state = StreamState(model=model, hide_usage=hide_usage)
    chunks = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks, state


def test_the_token_is_an_hs256_jwt_in_milliseconds_signed_with_the_secret():
    zhipu._tokens.clear()
    before = int(time.time() * 1000)
    token = zhipu.zhipu_token(KEY)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "sign_type": "SIGN", "typ": "JWT"}
    key_id, secret = KEY.split(".")
    with pytest.warns(jwt.warnings.InsecureKeyLengthWarning):
        claims = jwt.decode(token, secret, algorithms=["HS256"], options={"verify_exp": False})
    assert claims["api_key"] == key_id
    assert before <= claims["timestamp"] <= int(time.time() * 1000)
    assert claims["exp"] - claims["timestamp"] == 24 * 3600 * 1000
    assert zhipu.zhipu_token(KEY) == token  # cached


def test_a_key_without_a_secret_is_refused_and_disables_the_channel():
    with pytest.raises(RelayError) as caught:
        adaptor(key="just-an-id").build_request(chat(), "glm-4-flash")
    assert caught.value.disable_channel and caught.value.status == 401


def test_glm_models_go_to_v4_in_openai_shape_with_zhipu_ranges():
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    up = adaptor().build_request(
        chat(temperature=1.6, top_p=0, tools=tools, tool_choice="auto", max_tokens=9), "glm-4-flash"
    )
    assert up.url == "https://open.bigmodel.cn/api/paas/v4/chat/completions"
    assert up.headers["Authorization"] == zhipu.zhipu_token(KEY)  # raw, no "Bearer"
    body = json.loads(up.content)
    assert body["model"] == "glm-4-flash" and body["temperature"] == 1.0 and body["top_p"] == 0.01
    assert body["tools"] == tools and body["tool_choice"] == "auto" and body["max_tokens"] == 9


def test_v4_rejects_what_zhipu_lacks_and_drops_tools_for_tool_choice_none():
    tools = [{"type": "function", "function": {"name": "f"}}]
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(tools=tools, tool_choice="required"), "glm-4-flash")
    assert (caught.value.status, caught.value.param) == (400, "tool_choice")
    assert "Zhipu does not support tool_choice" in caught.value.message
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(n=2), "glm-4-flash")
    assert caught.value.param == "n" and caught.value.code == "unsupported_parameter"
    body = json.loads(adaptor().build_request(chat(tools=tools, tool_choice="none"), "glm-4").content)
    assert "tools" not in body and "tool_choice" not in body


def test_the_channel_system_prompt_replaces_the_clients():
    up = adaptor(system_prompt="你是客服").build_request(
        chat(messages=[{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]), "glm-4"
    )
    assert json.loads(up.content)["messages"][0] == {"role": "system", "content": "你是客服"}
    assert up.system_prompt_reset


def test_other_models_go_to_v3_invoke_or_sse_invoke():
    messages = [{"role": "user", "content": [{"type": "text", "text": "你好"}]}]
    up = adaptor(base_url="http://proxy.local/").build_request(
        chat(messages=messages, temperature=0.3), "chatglm_turbo"
    )
    assert up.url == "http://proxy.local/api/paas/v3/model-api/chatglm_turbo/invoke"
    assert json.loads(up.content) == {
        "prompt": [{"role": "user", "content": "你好"}],
        "incremental": True,
        "temperature": 0.3,
    }
    up = adaptor().build_request(chat(stream=True), "chatglm_turbo")
    assert up.url.endswith("/chatglm_turbo/sse-invoke") and up.headers["Accept"] == "text/event-stream"


def test_v3_rejects_tools_stop_and_images():
    for extra in ({"tools": [{"type": "function", "function": {"name": "f"}}]}, {"stop": ["x"]}):
        with pytest.raises(RelayError) as caught:
            adaptor().build_request(chat(**extra), "chatglm_turbo")
        assert caught.value.status == 400 and caught.value.param in ("tools", "stop")
    image = {"type": "image_url", "image_url": {"url": "https://x/y.png"}}
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(messages=[{"role": "user", "content": [image]}]), "chatglm_turbo")
    assert caught.value.param == "image_url"


def test_embeddings_and_images_use_v4_endpoints():
    up = adaptor().build_request(
        request({"model": "embedding-3", "input": ["a", "b"]}, "embeddings"), "embedding-3"
    )
    assert up.url.endswith("/api/paas/v4/embeddings")
    assert json.loads(up.content) == {"model": "embedding-3", "input": ["a", "b"]}
    body, usage = adaptor().parse_response(
        request({"model": "embedding-3"}, "embeddings"), 200, fixture("embeddings.json")
    )
    assert json.loads(body)["data"][1]["index"] == 1 and usage.prompt_tokens == 8
    up = adaptor().build_request(
        request({"model": "cogview-4", "prompt": "a cat", "user": "u1"}, "images"), "cogview-4"
    )
    assert up.url.endswith("/api/paas/v4/images/generations")
    assert json.loads(up.content) == {"model": "cogview-4", "prompt": "a cat", "user_id": "u1"}
    body, _ = adaptor().parse_response(request({"model": "cogview-4"}, "images"), 200, fixture("images.json"))
    assert json.loads(body)["data"][0]["url"].endswith(".png")
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(request({"model": "glm-4", "input": "x"}, "moderations"), "glm-4")
    assert caught.value.code == "unsupported_endpoint"


def test_v4_answers_pass_through_with_usage_and_cached_tokens():
    body, usage = adaptor().parse_response(chat(), 200, fixture("v4_chat.json"))
    assert json.loads(body)["choices"][0]["message"]["content"] == "你好！我是智谱清言。"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (9, 8, 4)
    body, usage = adaptor().parse_response(chat(), 200, fixture("v4_tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"][0]["function"] == {
        "name": "get_weather",
        "arguments": '{"city": "北京"}',
    }


def test_v4_sensitive_becomes_content_filter_and_network_error_is_an_error():
    answer = json.loads(fixture("v4_chat.json"))
    answer["choices"][0]["finish_reason"] = "sensitive"
    body, _ = adaptor().parse_response(chat(), 200, orjson.dumps(answer))
    assert json.loads(body)["choices"][0]["finish_reason"] == "content_filter"
    answer["choices"][0]["finish_reason"] = "network_error"
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, orjson.dumps(answer))
    assert caught.value.status == 502 and caught.value.retryable


def test_v3_answers_are_unquoted_and_carry_usage():
    a = adaptor()
    a.build_request(chat(), "chatglm_turbo")
    body, usage = a.parse_response(chat(), 200, fixture("v3_invoke.json"))
    answer = json.loads(body)
    assert answer["object"] == "chat.completion" and answer["model"] == "chatglm_turbo"
    assert (
        answer["choices"][0]["message"]["content"] == " 你好👋！我是人工智能助手 ChatGLM。\n有什么可以帮你？"
    )
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert (usage.prompt_tokens, usage.completion_tokens) == (2, 15)


@pytest.mark.parametrize(
    ("name", "status", "http", "disable", "retry"),
    [
        ("error_1113.json", 429, 429, True, True),
        ("error_1002.json", 401, 401, True, True),
        ("error_1302.json", 429, 429, False, True),
    ],
)
def test_v4_errors_are_classified_by_business_code(name, status, http, disable, retry):
    error = adaptor().map_error(status, fixture(name))
    assert (error.status, error.disable_channel, error.retryable) == (http, disable, retry)
    assert error.code == json.loads(fixture(name))["error"]["code"]


def test_v3_success_false_with_http_200_is_an_error():
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, fixture("v3_error.json"))
    assert (caught.value.status, caught.value.code, caught.value.message) == (400, "1261", "Prompt 超长")
    error = adaptor().map_error(500, fixture("v3_error.json"))  # a JSON error where a stream was expected
    assert error.status == 400


def test_truncated_json_is_a_retryable_bad_response():
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, fixture("v4_chat.json")[:40])
    assert caught.value.status == 502 and caught.value.retryable


async def test_v4_stream_passes_through_and_takes_usage_from_the_last_chunk():
    chunks, state = await replay(
        adaptor(), fixture("v4_chat_stream.sse"), "glm-4-flash", "https://x/api/paas/v4/chat/completions"
    )
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "你好！我是智谱清言。"
    assert state.done and state.finished and state.usage.completion_tokens == 8


async def test_v4_stream_tool_call_and_sensitive_finish():
    chunks, state = await replay(
        adaptor(), fixture("v4_tool_call_stream.sse"), "glm-4", "https://x/api/paas/v4/chat/completions"
    )
    call = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert call["id"] == "call_8313807536837492495" and call["function"]["name"] == "get_weather"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    chunks, _ = await replay(
        adaptor(), fixture("v4_sensitive_stream.sse"), "glm-4", "https://x/api/paas/v4/chat/completions"
    )
    assert chunks[-1]["choices"][0]["finish_reason"] == "content_filter"


async def test_v3_stream_reads_add_events_and_the_finish_meta_usage():
    chunks, state = await replay(
        adaptor(),
        fixture("v3_sse_invoke.sse"),
        "chatglm_turbo",
        "https://x/api/paas/v3/model-api/chatglm_turbo/sse-invoke",
        hide_usage=False,
    )
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "你好！我是\n智谱"
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[0]["object"] == "chat.completion.chunk" and len({c["id"] for c in chunks}) == 1
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["total_tokens"] == 8  # include_usage asked
    assert state.done and (state.usage.prompt_tokens, state.usage.completion_tokens) == (2, 6)


async def test_v3_stream_error_event_and_unknown_events_end_the_stream_with_an_error():
    chunks, state = await replay(
        adaptor(),
        fixture("v3_sse_error.sse"),
        "chatglm_turbo",
        "https://x/api/paas/v3/model-api/chatglm_turbo/sse-invoke",
    )
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["你好"]
    assert state.error.code == "stream_error" and "模型推理异常" in state.error.message
    a, state = adaptor(), StreamState(model="chatglm_turbo")
    a.parse_stream_event(json.dumps({"event": "surprise", "data": "", "meta": ""}), state)
    assert state.error.code == "bad_response"


async def test_a_v3_stream_without_finish_is_left_incomplete():
    raw = fixture("v3_sse_invoke.sse").split(b"event: finish")[0]
    chunks, state = await replay(
        adaptor(), raw, "chatglm_turbo", "https://x/api/paas/v3/model-api/m/sse-invoke"
    )
    assert len(chunks) == 2 and not state.done and not state.finished  # streaming.py reports the error


def test_base64_embeddings_are_packed_by_the_gateway():
    import base64
    import struct

    req = request({"model": "embedding-3", "input": "a", "encoding_format": "base64"}, "embeddings")
    assert "encoding_format" not in json.loads(adaptor().build_request(req, "embedding-3").content)
    body, _ = adaptor().parse_response(req, 200, fixture("embeddings.json"))
    packed = json.loads(body)["data"][0]["embedding"]
    assert struct.unpack("<3f", base64.b64decode(packed)) == pytest.approx(
        [-0.026754, 0.019060, 0.021351], abs=1e-6
    )
