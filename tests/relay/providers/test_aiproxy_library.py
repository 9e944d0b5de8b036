"""AIProxy Library adaptor, pure: the ask body, answers with references, one-chunk streams, errors."""

from __future__ import annotations

import json

import httpx
import pytest

from relay.errors import RelayError
from relay.providers.aiproxy_library import AIProxyLibraryAdaptor
from relay.providers.base import StreamState
from relay.schemas import RelayRequest
from tests.fakes.native import fixture as load
from tests.relay.providers.builders import adaptor_for, relay_request

ANSWER = (
    "One API 支持 OpenAI、Azure、Anthropic 等多种渠道。\n\n参考文档：\n"
    "1. [渠道类型说明](https://docs.aiproxy.io/library/channels)\n2. [部署指南](https://docs.aiproxy.io/library/deploy)\n"
)


def fixture(name: str) -> bytes:
    return load("aiproxy_library", name)


def adaptor(**fields) -> AIProxyLibraryAdaptor:
    defaults = dict(name="lib", key="ak-library", config={"library_id": "lib-42"})
    return adaptor_for(AIProxyLibraryAdaptor, 21, **{**defaults, **fields})


def chat(**body) -> RelayRequest:
    messages = [
        {"role": "user", "content": "你好"},
        {"role": "assistant", "content": "你好！"},
        {"role": "user", "content": "支持哪些渠道？"},
    ]
    return relay_request({"messages": messages, **body}, model="gpt-3.5-turbo", path="/v1/chat/completions")


def test_the_last_message_is_the_query_against_the_channels_library():
    up = adaptor().build_request(chat(stream=True, temperature=0.2), "gpt-3.5-turbo")
    assert (
        up.url == "https://api.aiproxy.io/api/library/ask"
        and up.headers["Authorization"] == "Bearer ak-library"
    )
    assert json.loads(up.content) == {
        "model": "gpt-3.5-turbo",
        "query": "支持哪些渠道？",
        "libraryId": "lib-42",
        "stream": False,
    }


def test_a_channel_without_library_id_and_unsupported_fields_are_errors():
    with pytest.raises(RelayError) as caught:
        adaptor(config={}).build_request(chat(), "gpt-3.5-turbo")
    assert caught.value.code == "invalid_channel"
    for extra, param in (
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"n": 2}, "n"),
    ):
        with pytest.raises(RelayError) as caught:
            adaptor().build_request(chat(**extra), "gpt-3.5-turbo")
        assert (caught.value.status, caught.value.param) == (400, param)
        assert caught.value.message == f"AIProxy Library does not support {param}"


def test_the_answer_carries_its_documents_as_references():
    body, usage = adaptor().parse_response(chat(), 200, fixture("answer.json"))
    answer = json.loads(body)
    assert (
        answer["choices"][0]["message"]["content"] == ANSWER
        and answer["choices"][0]["finish_reason"] == "stop"
    )
    assert usage is None  # counted by the relay


@pytest.mark.parametrize(("name", "disable"), [("error_library.json", False), ("error_balance.json", True)])
def test_errors_with_http_200(name, disable):
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat(), 200, fixture(name))
    assert caught.value.status == 500 and caught.value.disable_channel is disable
    assert caught.value.message == json.loads(fixture(name))["message"]


async def test_a_stream_is_the_whole_answer_in_one_chunk():
    a = adaptor()
    assert not a.stream_is_error(200, "application/json")
    response = httpx.Response(
        200, content=fixture("answer.json"), headers={"content-type": "application/json"}
    )
    state = StreamState(model="gpt-3.5-turbo")
    chunks = [
        json.loads(c) async for data in a.stream_events(response) for c in a.parse_stream_event(data, state)
    ]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ANSWER}
    assert chunks[1]["choices"][0]["finish_reason"] == "stop" and state.done
    state = StreamState(model="gpt-3.5-turbo")
    assert (
        a.parse_stream_event(fixture("error_library.json").decode(), state) == [] and state.error is not None
    )
