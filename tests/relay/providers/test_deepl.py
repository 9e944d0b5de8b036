"""DeepL adaptor, pure: the last user message to /v2/translate, the translation back as a chat answer."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.providers import adaptor_class
from relay.providers.base import StreamState
from relay.providers.deepl import DeepLAdaptor
from relay.schemas import RelayRequest
from tests.fakes.deepl import fixture
from tests.relay.providers.builders import adaptor_for, relay_request


def adaptor(**fields) -> DeepLAdaptor:
    return adaptor_for(DeepLAdaptor, 38, **{"name": "deepl", "key": "0d1c-key:fx", **fields})


def chat(body: dict, model: str = "deepl-zh") -> RelayRequest:
    return relay_request(body, model=model, path="/v1/chat/completions")


MESSAGES = [
    {"role": "system", "content": "You translate."},
    {"role": "user", "content": "Good morning"},
    {"role": "assistant", "content": "早上好"},
    {"role": "user", "content": [{"type": "text", "text": "Hello, world!"}]},
]


def test_the_registry_resolves_the_deepl_slug():
    assert adaptor_class(channel_type_info(38).adaptor) is DeepLAdaptor


def test_the_last_user_message_is_translated_into_the_models_language():
    upstream = adaptor().build_request(chat({"messages": MESSAGES, "temperature": 0.7}), "deepl-zh")
    assert upstream.url == "https://api-free.deepl.com/v2/translate"
    assert upstream.headers["Authorization"] == "DeepL-Auth-Key 0d1c-key:fx"
    assert json.loads(upstream.content) == {"text": ["Hello, world!"], "target_lang": "ZH"}


def test_pro_keys_go_to_the_pro_host_and_a_base_url_wins():
    req = chat({"messages": MESSAGES}, "deepl-en-us")
    upstream = adaptor(key="pro-key").build_request(req, "deepl-en-us")
    assert upstream.url == "https://api.deepl.com/v2/translate"
    assert json.loads(upstream.content)["target_lang"] == "EN-US"
    upstream = adaptor(base_url="https://deepl.proxy.example/").build_request(req, "deepl-en-us")
    assert upstream.url == "https://deepl.proxy.example/v2/translate"


@pytest.mark.parametrize(
    "extra,param",
    [
        ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools"),
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
    ],
)
def test_chat_features_a_translator_lacks_are_a_clear_400(extra, param):
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(chat({"messages": MESSAGES, **extra}), "deepl-zh")
    assert raised.value.status == 400 and raised.value.message == f"DeepL does not support {param}"


@pytest.mark.parametrize(
    "messages,model",
    [([{"role": "system", "content": "x"}], "deepl-zh"), (MESSAGES, "gpt-4o"), (MESSAGES, "deepl-")],
)
def test_nothing_to_translate_or_no_language_is_a_400(messages, model):
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(chat({"messages": messages}, model), model)
    assert raised.value.status == 400


def test_other_endpoints_are_unsupported():
    req = RelayRequest(
        mode="embeddings", path="/v1/embeddings", model="deepl-zh", raw=b"{}", body={"input": "x"}
    )
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(req, "deepl-zh")
    assert raised.value.code == "unsupported_endpoint"


def test_the_translation_becomes_a_chat_answer_billed_by_characters():
    a = adaptor()
    req = chat({"messages": MESSAGES})
    a.build_request(req, "deepl-zh")
    body, usage = a.parse_response(req, 200, fixture("translate.json"))
    answer = json.loads(body)
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "你好，世界！"}
    assert answer["choices"][0]["finish_reason"] == "stop" and answer["model"] == "deepl-zh"
    assert (usage.prompt_tokens, usage.completion_tokens) == (len("Hello, world!"), 0)


def test_a_stream_request_gets_one_content_chunk_then_the_finish():
    a = adaptor()
    a.build_request(chat({"messages": MESSAGES, "stream": True}), "deepl-zh")
    assert not a.stream_is_error(200, "application/json") and a.stream_is_error(456, "application/json")
    state = StreamState(model="deepl-zh", hide_usage=False)

    async def run() -> list[dict]:
        response = httpx.Response(200, content=fixture("translate.json"))
        return [
            json.loads(c)
            async for data in a.stream_events(response)
            for c in a.parse_stream_event(data, state)
        ]

    chunks = asyncio.run(run())
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "你好，世界！"}
    assert chunks[1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    assert chunks[2]["usage"]["prompt_tokens"] == 13 and state.done and state.finished


def test_a_malformed_answer_is_an_error():
    with pytest.raises(RelayError) as raised:
        adaptor().parse_response(chat({"messages": MESSAGES}), 200, b'{"translations": []}')
    assert raised.value.status == 502
    state = StreamState(model="deepl-zh")
    adaptor().parse_stream_event('{"transl', state)
    assert state.error.status == 502


@pytest.mark.parametrize(
    "status,retryable,disable",
    [(456, True, True), (403, True, True), (429, True, False), (400, False, False)],
)
def test_errors_carry_their_consequence(status, retryable, disable):
    error = adaptor().map_error(status, fixture(f"error_{status}.json"))
    assert (error.status, error.retryable, error.disable_channel) == (status, retryable, disable)
    assert error.message == json.loads(fixture(f"error_{status}.json"))["message"]
