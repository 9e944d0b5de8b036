"""PaLM adaptor, pure: OpenAI chats to generateMessage prompts; candidates back, streams as one chunk."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.providers import adaptor_class
from relay.providers.base import StreamState
from relay.providers.palm import PalmAdaptor
from relay.schemas import RelayRequest
from tests.fakes.palm import _check, fixture
from tests.relay.providers.builders import adaptor_for, relay_request


def adaptor(**fields) -> PalmAdaptor:
    return adaptor_for(PalmAdaptor, 11, **{"name": "palm", "key": "AIza-palm", **fields})


def chat(body: dict) -> RelayRequest:
    return relay_request(body, model="PaLM-2", path="/v1/chat/completions")


def test_the_registry_resolves_the_palm_slug():
    assert adaptor_class(channel_type_info(11).adaptor) is PalmAdaptor


def test_the_prompt_has_context_and_alternating_authors():
    upstream = adaptor().build_request(chat({"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Who are you?"},
    ], "temperature": 0.4, "top_p": 0.9, "n": 2, "max_tokens": 64}), "PaLM-2")  # fmt: skip
    assert (
        upstream.url
        == "https://generativelanguage.googleapis.com/v1beta2/models/chat-bison-001:generateMessage"
    )
    assert upstream.headers["x-goog-api-key"] == "AIza-palm"
    body = json.loads(upstream.content)
    turns = [
        {"author": "0", "content": "Hi"},
        {"author": "1", "content": "Hello"},
        {"author": "0", "content": "Who are you?"},
    ]
    assert body == {
        "prompt": {"context": "Be brief.", "messages": turns},
        "temperature": 0.4,
        "topP": 0.9,
        "candidateCount": 2,
    }
    assert _check(body) == ""


@pytest.mark.parametrize(
    "extra,param",
    [({"stop": "x"}, "stop"), ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "tools")],
)
def test_what_palm_lacks_is_a_clear_400(extra, param):
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(chat({"messages": [{"role": "user", "content": "hi"}], **extra}), "PaLM-2")
    assert raised.value.status == 400 and raised.value.message == f"PaLM does not support {param}"


def test_candidates_become_choices_and_usage_is_left_to_the_relay():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert answer["choices"] == [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "Hello! I am PaLM 2, a large language model from Google AI."}}]  # fmt: skip
    assert usage is None


def test_a_filtered_answer_is_a_content_filter_finish():
    body, _ = adaptor().parse_response(chat({"messages": []}), 200, fixture("filtered.json"))
    assert json.loads(body)["choices"][0]["finish_reason"] == "content_filter"


def test_a_stream_request_is_answered_as_one_chunk():
    a = adaptor()
    a.build_request(chat({"messages": [{"role": "user", "content": "hi"}], "stream": True}), "PaLM-2")
    assert not a.stream_is_error(200, "application/json")
    state = StreamState(model="PaLM-2")

    async def run() -> list[dict]:
        response = httpx.Response(200, content=fixture("chat.json"))
        return [
            json.loads(c)
            async for data in a.stream_events(response)
            for c in a.parse_stream_event(data, state)
        ]

    chunks = asyncio.run(run())
    assert chunks[0]["choices"][0]["delta"]["content"].startswith("Hello! I am PaLM 2")
    assert chunks[1]["choices"][0]["finish_reason"] == "stop" and chunks[0]["id"] == chunks[1]["id"]
    assert state.done and state.finished and state.usage is None


def test_google_errors_are_mapped_like_gemini():
    error = adaptor().map_error(400, fixture("error_400_api_key.json"))
    assert error.status == 401 and error.disable_channel
    error = adaptor().map_error(404, fixture("error_404.json"))
    assert error.status == 404 and error.retryable and not error.disable_channel
