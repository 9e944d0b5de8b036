"""Baidu ERNIE adaptor, pure: token exchange and cache, ERNIE bodies, recorded answers, streams and errors."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from relay.errors import RelayError
from relay.providers import baidu
from relay.providers.baidu import BaiduAdaptor
from relay.providers.base import StreamState
from relay.schemas import RelayRequest
from tests.fakes.native import fixture as load
from tests.relay.providers.builders import adaptor_for, relay_request

KEY = "rQ8vT2nX5kL9mB3c|Zt7wY4pH1sD6fG8jK0aV3eN5uQ2xC9bM"
TOKEN = "24.6c5e1ff107f0e8bcef8c46d3424a0e78.2592000.1485516651.282335-8574074"
TOKEN_URL = "https://aip.baidubce.com/oauth/2.0/token"


def fixture(name: str) -> bytes:
    return load("baidu", name)


@pytest.fixture(autouse=True)
def token_cache():
    baidu._tokens.clear()
    baidu._tokens[(TOKEN_URL, KEY)] = (TOKEN, time.time() + 30 * 86400)
    yield
    baidu._tokens.clear()


def adaptor(**fields) -> BaiduAdaptor:
    return adaptor_for(BaiduAdaptor, 15, **{"name": "ernie", "key": KEY, **fields})


def request(body: dict, mode: str = "chat") -> RelayRequest:
    return relay_request(body, model="ERNIE-3.5-8K", mode=mode)


def chat(**body) -> RelayRequest:
    body.setdefault("messages", [{"role": "user", "content": "你好"}])
    return request(body)


def sent(req: RelayRequest, model: str = "ERNIE-3.5-8K", **fields):
    up = adaptor(**fields).build_request(req, model)
    return json.loads(up.content), up.url


async def replay(raw: bytes, hide_usage: bool = True):
    a = adaptor()
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    state = StreamState(model="ERNIE-3.5-8K", hide_usage=hide_usage)
    chunks = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks, state


async def test_prepare_exchanges_the_key_once_and_again_an_hour_before_expiry():
    baidu._tokens.clear()
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, content=fixture("token.json"))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        await adaptor(base_url="http://proxy.local").prepare(client)
        await adaptor(base_url="http://proxy.local").prepare(client)
        assert len(calls) == 1
        assert calls[0].method == "POST" and calls[0].url.path == "/oauth/2.0/token"
        assert dict(calls[0].url.params) == {
            "grant_type": "client_credentials",
            "client_id": "rQ8vT2nX5kL9mB3c",
            "client_secret": "Zt7wY4pH1sD6fG8jK0aV3eN5uQ2xC9bM",
        }
        key = ("http://proxy.local/oauth/2.0/token", KEY)
        baidu._tokens[key] = (TOKEN, time.time() + 3599)  # less than an hour left
        await adaptor(base_url="http://proxy.local").prepare(client)
        assert len(calls) == 2 and baidu._tokens[key][1] > time.time() + 29 * 86400


async def test_a_refused_exchange_disables_the_channel():
    baidu._tokens.clear()
    transport = httpx.MockTransport(lambda r: httpx.Response(401, content=fixture("token_error.json")))
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(RelayError) as caught:
            await adaptor().prepare(client)
    assert caught.value.disable_channel and "unknown client id" in caught.value.message
    with pytest.raises(RelayError) as caught:
        await adaptor(key="no-secret").prepare(None)
    assert caught.value.disable_channel


def test_chat_goes_to_the_model_endpoint_with_system_and_sampling_mapped():
    body, url = sent(
        chat(
            messages=[
                {"role": "system", "content": "简洁"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}]},
            ],
            temperature=0,
            top_p=0.5,
            frequency_penalty=1.5,
            max_tokens=99,
            stop="。",
            user="u1",
            response_format={"type": "json_object"},
        )
    )
    assert (
        url
        == f"https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/completions?access_token={TOKEN}"
    )
    assert body == {
        "messages": [{"role": "user", "content": "hi"}],
        "system": "简洁",
        "temperature": 0.0001,
        "top_p": 0.5,
        "penalty_score": 1.5,
        "max_output_tokens": 99,
        "stop": ["。"],
        "user_id": "u1",
        "response_format": "json_object",
    }


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("ERNIE-4.0-8K", "chat/completions_pro"),
        ("ERNIE-Speed-8K", "chat/ernie_speed"),
        ("ERNIE-4.0-Turbo-8K", "chat/ernie-4.0-turbo-8k"),
        ("ERNIE-Lite-8K", "chat/ernie-lite-8k"),
    ],
)
def test_the_endpoint_table(model, path):
    assert baidu.endpoint(model, "chat") == path


def test_tools_become_functions_and_tool_turns_become_function_turns():
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_current_weather",
                "description": "天气",
                "parameters": {"type": "object"},
            },
        }
    ]
    messages = [
        {"role": "user", "content": "北京天气？"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_current_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "晴"},
    ]
    body, _ = sent(
        chat(
            messages=messages,
            tools=tools,
            stream=True,
            tool_choice={"type": "function", "function": {"name": "get_current_weather"}},
        )
    )
    assert body["functions"] == [tools[0]["function"]] and body["stream"] is True
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_current_weather"}}
    assert body["messages"][1] == {
        "role": "assistant",
        "content": "",
        "function_call": {"name": "get_current_weather", "arguments": "{}"},
    }
    assert body["messages"][2] == {"role": "function", "name": "get_current_weather", "content": "晴"}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 3}, "n"),
        (
            {"tool_choice": "required", "tools": [{"type": "function", "function": {"name": "f"}}]},
            "tool_choice",
        ),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
                    }
                ]
            },
            "image_url",
        ),
    ],
)
def test_what_ernie_lacks_is_a_400(extra, param):
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(**extra), "ERNIE-3.5-8K")
    assert (caught.value.status, caught.value.param) == (400, param)
    assert caught.value.message == f"Baidu does not support {param}"


def test_the_channel_system_prompt_wins():
    body, _ = sent(
        chat(messages=[{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]),
        system_prompt="你是客服",
    )
    assert body["system"] == "你是客服"


def test_an_answer_becomes_a_chat_completion():
    body, usage = adaptor().parse_response(chat(), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert answer["id"] == "chatcmpl-as-bcmt5ct4iy" and answer["created"] == 1680167072
    assert answer["choices"][0] == {
        "index": 0,
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": "您好，我是文心一言，英文名是ERNIE Bot。"},
    }
    assert (usage.prompt_tokens, usage.completion_tokens) == (4, 14)


def test_a_function_call_answer_becomes_a_tool_call():
    body, _ = adaptor().parse_response(chat(), 200, fixture("function_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_as-cxyzcfw5fs",
            "type": "function",
            "function": {"name": "get_current_weather", "arguments": '{"location":"北京"}'},
        }
    ]


@pytest.mark.parametrize(
    ("name", "status", "retry"),
    [("error_110.json", 502, True), ("error_18.json", 429, True), ("error_336003.json", 400, False)],
)
def test_http_200_errors_get_proper_statuses(name, status, retry):
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, fixture(name))
    assert (caught.value.status, caught.value.retryable, caught.value.disable_channel) == (
        status,
        retry,
        False,
    )
    assert caught.value.message == json.loads(fixture(name))["error_msg"]


def test_an_invalid_token_is_dropped_so_the_next_attempt_exchanges_again():
    assert (TOKEN_URL, KEY) in baidu._tokens
    error = adaptor().map_error(500, fixture("error_110.json"))
    assert error.status == 502 and (TOKEN_URL, KEY) not in baidu._tokens
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(), "ERNIE-3.5-8K")
    assert caught.value.code == "no_token"


async def test_a_stream_ends_at_is_end_with_usage():
    chunks, state = await replay(fixture("chat_stream.sse"), hide_usage=False)
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "以下是北京的景点：故宫、长城。"
    )
    assert (
        chunks[0]["id"] == "chatcmpl-as-ywwpgx4dt2"
        and chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    )
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 11, "total_tokens": 16}
    assert state.done and state.usage.completion_tokens == 11


async def test_a_streamed_function_call():
    chunks, state = await replay(fixture("function_call_stream.sse"))
    call = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert call == {
        "index": 0,
        "id": "call_as-cxyzcfw5ft",
        "type": "function",
        "function": {"name": "get_current_weather", "arguments": '{"location":"北京"}'},
    }
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and state.done


async def test_an_error_event_mid_stream_and_a_cut_stream():
    raw = (
        fixture("chat_stream.sse").split(b"\n\n")[0]
        + b"\n\n"
        + b"data: "
        + fixture("error_18.json")
        + b"\n\n"
    )
    chunks, state = await replay(raw)
    assert len(chunks) == 1 and state.error.status == 429
    chunks, state = await replay(fixture("chat_stream.sse").split(b"\n\n")[0] + b'\n\ndata: {"id":\n\n')
    assert len(chunks) == 1 and state.error.code == "bad_response"
    chunks, state = await replay(fixture("chat_stream.sse").split(b"\n\n")[0] + b'\n\ndata: {"id":')
    assert len(chunks) == 1 and not state.done and state.error is None  # streaming.py reports the cut


def test_embeddings():
    req = request({"model": "Embedding-V1", "input": ["推荐", "一下"]}, "embeddings")
    body, url = sent(req, "Embedding-V1")
    assert url.startswith(
        "https://aip.baidubce.com/rpc/2.0/ai_custom/v1/wenxinworkshop/embeddings/embedding-v1?"
    )
    assert body == {"input": ["推荐", "一下"]}
    answer, usage = adaptor().parse_response(req, 200, fixture("embeddings.json"))
    assert [d["index"] for d in json.loads(answer)["data"]] == [0, 1] and usage.prompt_tokens == 4
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(request({"input": "x"}, "images"), "ERNIE-3.5-8K")
    assert caught.value.code == "unsupported_endpoint"
