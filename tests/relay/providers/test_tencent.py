"""Tencent Hunyuan adaptor, pure: TC3 signing, PascalCase bodies, recorded answers, streams and errors."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from relay.errors import RelayError
from relay.providers import tencent
from relay.providers.base import StreamState
from relay.providers.tencent import TencentAdaptor
from relay.schemas import RelayRequest
from tests.fakes.native import fixture as load
from tests.fakes.tencent import expected_signature
from tests.relay.providers.builders import adaptor_for, relay_request

SECRET_ID, SECRET_KEY = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
KEY = f"1300000000|{SECRET_ID}|{SECRET_KEY}"


def fixture(name: str) -> bytes:
    return load("tencent", name)


def adaptor(**fields) -> TencentAdaptor:
    return adaptor_for(TencentAdaptor, 23, **{"name": "hunyuan", "key": KEY, **fields})


def request(body: dict, mode: str = "chat") -> RelayRequest:
    return relay_request(body, model="hunyuan-turbo", mode=mode)


def chat(**body) -> RelayRequest:
    body.setdefault("messages", [{"role": "user", "content": "你好"}])
    return request(body)


async def replay(raw: bytes, hide_usage: bool = True):
    a = adaptor()
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    state = StreamState(model="hunyuan-turbo", hide_usage=hide_usage)
    chunks = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks, state


def test_requests_are_signed_with_tc3_over_the_exact_body():
    up = adaptor().build_request(chat(), "hunyuan-turbo")
    assert up.url == "https://hunyuan.tencentcloudapi.com/"
    assert up.headers["X-TC-Action"] == "ChatCompletions" and up.headers["X-TC-Version"] == "2023-09-01"
    timestamp = int(up.headers["X-TC-Timestamp"])
    match = re.match(
        r"TC3-HMAC-SHA256 Credential=(.+)/(\d{4}-\d\d-\d\d)/hunyuan/tc3_request, "
        r"SignedHeaders=content-type;host;x-tc-action, Signature=([0-9a-f]{64})$",
        up.headers["Authorization"],
    )
    assert match and match[1] == SECRET_ID
    assert match[3] == expected_signature(SECRET_KEY, "ChatCompletions", up.content, timestamp)


def test_the_signature_itself_is_stable_for_fixed_inputs():
    # Same inputs, same signature; a one-byte change in the body changes it.
    one = tencent.tc3_authorization("id", "key", tencent.CANONICAL_HOST, "ChatCompletions", b"{}", 1551113065)
    assert one == tencent.tc3_authorization(
        "id", "key", tencent.CANONICAL_HOST, "ChatCompletions", b"{}", 1551113065
    )
    assert "Credential=id/2019-02-25/hunyuan/tc3_request" in one
    assert one != tencent.tc3_authorization(
        "id", "key", tencent.CANONICAL_HOST, "ChatCompletions", b"{ }", 1551113065
    )
    assert one.split("Signature=")[1] == expected_signature("key", "ChatCompletions", b"{}", 1551113065)


def test_a_proxy_base_url_is_called_but_tencents_host_is_signed():
    assert tencent.signed_host("http://127.0.0.1:8080") == "hunyuan.tencentcloudapi.com"
    assert (
        tencent.signed_host("https://hunyuan.ap-guangzhou.tencentcloudapi.com")
        == "hunyuan.ap-guangzhou.tencentcloudapi.com"
    )
    up = adaptor(base_url="http://proxy.local/", config={"region": "ap-guangzhou"}).build_request(
        chat(), "hunyuan-lite"
    )
    assert up.url == "http://proxy.local/" and up.headers["X-TC-Region"] == "ap-guangzhou"


def test_a_key_without_secrets_is_refused():
    with pytest.raises(RelayError) as caught:
        adaptor(key="only-an-app-id").build_request(chat(), "hunyuan-lite")
    assert caught.value.disable_channel


def test_chat_bodies_are_pascal_case_with_tools_and_images():
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "天气",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
            },
        }
    ]
    messages = [
        {"role": "system", "content": "简洁"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "这是哪？"},
                {"type": "image_url", "image_url": {"url": "https://x/a.jpg"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "晴"},
    ]
    up = adaptor().build_request(
        chat(
            messages=messages,
            tools=tools,
            stream=True,
            temperature=0.5,
            top_p=0.8,
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
        ),
        "hunyuan-vision",
    )
    body = json.loads(up.content)
    assert body["Model"] == "hunyuan-vision" and body["Stream"] is True
    assert (body["Temperature"], body["TopP"]) == (0.5, 0.8)
    assert body["Messages"] == [
        {"Role": "system", "Content": "简洁"},
        {
            "Role": "user",
            "Contents": [
                {"Type": "text", "Text": "这是哪？"},
                {"Type": "image_url", "ImageUrl": {"Url": "https://x/a.jpg"}},
            ],
        },
        {
            "Role": "assistant",
            "Content": "",
            "ToolCalls": [
                {"Id": "call_1", "Type": "function", "Function": {"Name": "get_weather", "Arguments": "{}"}}
            ],
        },
        {"Role": "tool", "Content": "晴", "ToolCallId": "call_1"},
    ]
    tool = {
        "Type": "function",
        "Function": {
            "Name": "get_weather",
            "Description": "天气",
            "Parameters": '{"type":"object","properties":{"location":{"type":"string"}}}',
        },
    }
    assert body["Tools"] == [tool] and body["ToolChoice"] == "custom" and body["CustomTool"] == tool


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"stop": ["x"]}, "stop"),
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        (
            {"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required"},
            "tool_choice",
        ),
    ],
)
def test_what_hunyuan_lacks_is_a_400(extra, param):
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(**extra), "hunyuan-turbo")
    assert (caught.value.status, caught.value.param) == (400, param)
    assert caught.value.message == f"Tencent Hunyuan does not support {param}"


def test_an_answer_becomes_a_chat_completion():
    body, usage = adaptor().parse_response(chat(), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert answer["id"] == "chatcmpl-d6b9d8c2-4a1e-4f7b-9c3d-2e5f6a7b8c9d" and answer["created"] == 1720150000
    assert answer["choices"] == [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "你好！我是腾讯混元大模型。"},
        }
    ]
    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 9)


def test_a_tool_call_answer():
    body, _ = adaptor().parse_response(chat(), 200, fixture("tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_cq8rq3ggj2v7n5d1m0tg",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location":"北京"}'},
        }
    ]


@pytest.mark.parametrize(
    ("name", "status", "retry", "disable"),
    [
        ("error_signature.json", 401, True, True),
        ("error_in_arrears.json", 403, True, True),
        ("error_limit_exceeded.json", 429, True, False),
        ("error_text_illegal.json", 400, False, False),
    ],
)
def test_response_errors_with_http_200_get_proper_statuses(name, status, retry, disable):
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, fixture(name))
    assert (caught.value.status, caught.value.retryable, caught.value.disable_channel) == (
        status,
        retry,
        disable,
    )
    assert caught.value.code == json.loads(fixture(name))["Response"]["Error"]["Code"]
    assert (
        adaptor().map_error(500, fixture(name)).status == status
    )  # a JSON error where a stream was expected


async def test_a_stream_with_cumulative_usage():
    chunks, state = await replay(fixture("chat_stream.sse"), hide_usage=False)
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "你好！我是混元。"
    )
    assert chunks[0]["id"] == "chatcmpl-1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e"
    assert (
        chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["completion_tokens"] == 6
    )
    assert state.finished and (state.usage.prompt_tokens, state.usage.completion_tokens) == (5, 6)


async def test_a_streamed_tool_call():
    chunks, state = await replay(fixture("tool_call_stream.sse"))
    assert chunks[0]["choices"][0]["delta"]["tool_calls"] == [
        {
            "index": 0,
            "id": "call_cq8rq3ggj2v7n5d1m0th",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"location":"北京"}'},
        }
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


async def test_a_moderation_stop_and_malformed_events_end_with_an_error():
    first = fixture("chat_stream.sse").split(b"\n\n")[0]
    cut = b'data: {"Choices":[],"ErrorMsg":{"Code":2001,"Msg":"OperationDenied.TextIllegalDetected"}}\n\n'
    chunks, state = await replay(first + b"\n\n" + cut)
    assert len(chunks) == 1 and state.error is not None
    chunks, state = await replay(first + b"\n\ndata: {oops\n\n")
    assert state.error.code == "bad_response"
    chunks, state = await replay(first + b"\n\n")
    assert not state.finished  # streaming.py reports the truncation


def test_embeddings():
    req = request({"model": "hunyuan-embedding", "input": ["a", "b"]}, "embeddings")
    up = adaptor().build_request(req, "hunyuan-embedding")
    assert up.headers["X-TC-Action"] == "GetEmbedding" and json.loads(up.content) == {"InputList": ["a", "b"]}
    timestamp = int(up.headers["X-TC-Timestamp"])
    assert up.headers["Authorization"].endswith(
        expected_signature(SECRET_KEY, "GetEmbedding", up.content, timestamp)
    )
    body, usage = adaptor().parse_response(req, 200, fixture("embeddings.json"))
    assert [d["index"] for d in json.loads(body)["data"]] == [0, 1] and usage.prompt_tokens == 6
    with pytest.raises(RelayError):
        adaptor().build_request(request({"prompt": "x"}, "images"), "hunyuan-turbo")
