"""Coze adaptor, pure: OpenAI chats to v2 bot chats; answers, no-space SSE streams and HTTP-200 errors back."""

from __future__ import annotations

import json

import httpx
import pytest
from httpx_sse import EventSource

from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.providers import adaptor_class
from relay.providers.base import StreamState
from relay.providers.coze import CozeAdaptor
from relay.schemas import RelayRequest
from tests.fakes.coze import fixture
from tests.relay.providers.builders import adaptor_for, relay_request

MODEL = "bot-7340123456789"


def adaptor(**fields) -> CozeAdaptor:
    defaults = dict(name="coze", key="pat_test", config={"user_id": "u-42"})
    return adaptor_for(CozeAdaptor, 34, **{**defaults, **fields})


def chat(body: dict) -> RelayRequest:
    return relay_request(body, model=MODEL, path="/v1/chat/completions")


def replay(a: CozeAdaptor, raw: bytes, state: StreamState) -> list[dict]:
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    chunks: list[dict] = []
    for event in EventSource(response).iter_sse():
        chunks += [json.loads(c) for c in a.parse_stream_event(event.data, state)]
        if state.error or state.done:
            break
    return chunks


def test_the_registry_resolves_the_coze_slug():
    assert adaptor_class(channel_type_info(34).adaptor) is CozeAdaptor


def test_the_bot_user_query_and_history_are_translated():
    upstream = adaptor().build_request(chat({"messages": [
        {"role": "system", "content": "Be nice."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": [{"type": "text", "text": "Weather in Shenzhen?"}]},
    ], "temperature": 0.5, "stream": True}), MODEL)  # fmt: skip
    assert upstream.url == "https://api.coze.com/open_api/v2/chat"
    assert upstream.headers["Authorization"] == "Bearer pat_test"
    assert json.loads(upstream.content) == {
        "bot_id": "7340123456789", "user": "u-42", "query": "Weather in Shenzhen?", "stream": True,
        "chat_history": [
            {"role": "user", "content": "Be nice.", "content_type": "text"},
            {"role": "user", "content": "Hi", "content_type": "text"},
            {"role": "assistant", "content": "Hello!", "content_type": "text"},
        ],
    }  # fmt: skip


def test_without_a_configured_user_the_clients_user_or_a_default_is_sent():
    a = adaptor(config={}, base_url="https://api.coze.cn/")
    upstream = a.build_request(
        chat({"messages": [{"role": "user", "content": "x"}], "user": "client-7"}), MODEL
    )
    assert json.loads(upstream.content)["user"] == "client-7" and upstream.url.startswith(
        "https://api.coze.cn/"
    )
    upstream = a.build_request(chat({"messages": [{"role": "user", "content": "x"}]}), MODEL)
    assert json.loads(upstream.content)["user"] == "one-api"


@pytest.mark.parametrize(
    "extra,param",
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y"}}]}]},
         "image content"),
    ],
)  # fmt: skip
def test_what_a_bot_cannot_take_is_a_clear_400(extra, param):
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(chat({"messages": [{"role": "user", "content": "hi"}], **extra}), MODEL)
    assert raised.value.status == 400 and raised.value.message == f"Coze does not support {param}"


def test_the_answer_messages_become_the_content_and_usage_is_left_to_the_relay():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert answer["choices"][0]["message"]["content"] == "Today in Shenzhen it is sunny, 22-28°C."
    assert answer["choices"][0]["finish_reason"] == "stop" and usage is None and "usage" not in answer


@pytest.mark.parametrize(
    "name,status,retryable,disable",
    [("error_4100.json", 401, True, True), ("error_4000.json", 400, False, False)],
)
def test_an_http_200_error_is_raised_with_a_proper_status(name, status, retryable, disable):
    with pytest.raises(RelayError) as raised:
        adaptor().parse_response(chat({"messages": []}), 200, fixture(name))
    error = raised.value
    assert (error.status, error.retryable, error.disable_channel) == (status, retryable, disable)
    assert error.message == json.loads(fixture(name))["msg"]
    assert adaptor().map_error(500, fixture(name)).status == status  # as _open_stream hands it over


def test_a_stream_becomes_chunks_ending_at_done_without_usage():
    state = StreamState(model=MODEL, hide_usage=False)
    chunks = replay(adaptor(), fixture("chat_stream.sse"), state)
    assert [c["choices"][0]["delta"].get("content") for c in chunks] == ["Today", " is sunny.", None]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert state.done and state.usage is None and state.error is None


def test_an_error_event_mid_stream_sets_the_stream_error():
    state = StreamState(model=MODEL)
    chunks = replay(adaptor(), fixture("stream_error.sse"), state)
    assert (
        len(chunks) == 1
        and state.error.status == 429
        and state.error.message == "The request is too frequent"
    )


@pytest.mark.parametrize("data", ['{"event": "surprise"}', '{"event": "mess'])
def test_unknown_or_malformed_events_are_stream_errors(data):
    state = StreamState(model=MODEL)
    adaptor().parse_stream_event(data, state)
    assert state.error.status == 502


def test_other_endpoints_are_unsupported():
    req = RelayRequest(mode="embeddings", path="/v1/embeddings", model=MODEL, raw=b"{}", body={"input": "x"})
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(req, MODEL)
    assert raised.value.code == "unsupported_endpoint"
