"""Cohere v1 adaptor, pure: OpenAI requests in, /v1/chat bodies out; recorded answers and NDJSON streams back."""

from __future__ import annotations

import asyncio
import json

import httpx
import orjson
import pytest

from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.providers import adaptor_class
from relay.providers.base import StreamState
from relay.providers.cohere import CohereAdaptor
from relay.schemas import RelayRequest
from tests.fakes.cohere import _check, fixture
from tests.relay.providers.builders import adaptor_for, relay_request

WEATHER_CALL = {
    "id": "call_w",
    "type": "function",
    "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
}
WEATHER_TOOL = {"type": "function", "function": {"name": "weather", "description": "Weather now", "parameters": {
    "type": "object", "additionalProperties": False, "required": ["city"],
    "properties": {"city": {"type": "string", "description": "City"}, "days": {"type": ["integer", "null"]},
                   "tags": {"type": "array", "items": {"type": "string"}}}}}}  # fmt: skip


def adaptor(**fields) -> CohereAdaptor:
    return adaptor_for(CohereAdaptor, 35, **{"name": "cohere", "key": "co-test", **fields})


def chat(body: dict, model: str = "command-r") -> RelayRequest:
    return relay_request(body, model=model, path="/v1/chat/completions")


def sent(req: RelayRequest, **fields) -> tuple[dict, dict, str]:
    upstream = adaptor(**fields).build_request(req, req.model)
    return json.loads(upstream.content), upstream.headers, upstream.url


def replay(a: CohereAdaptor, raw: bytes, state: StreamState) -> list[dict]:
    async def run() -> list[dict]:
        response = httpx.Response(200, content=raw, headers={"content-type": "application/stream+json"})
        chunks: list[dict] = []
        async for data in a.stream_events(response):
            chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
            if state.error or state.done:
                break
        return chunks

    return asyncio.run(run())


def test_the_registry_resolves_the_cohere_slug():
    assert adaptor_class(channel_type_info(35).adaptor) is CohereAdaptor


def test_it_splits_the_conversation_into_preamble_history_and_message():
    body, headers, url = sent(chat({"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": [{"type": "text", "text": "Tell me about LLMs"}]},
    ], "temperature": 0.3, "top_p": 1, "max_tokens": 100, "stop": ["\n"], "seed": 1,
        "response_format": {"type": "json_object"}}))  # fmt: skip
    assert url == "https://api.cohere.ai/v1/chat" and headers["Authorization"] == "Bearer co-test"
    assert body == {
        "model": "command-r", "stream": False, "preamble": "Be brief.", "message": "Tell me about LLMs",
        "chat_history": [{"role": "USER", "message": "Hi"}, {"role": "CHATBOT", "message": "Hello!"}],
        "temperature": 0.3, "p": 0.99, "max_tokens": 100, "stop_sequences": ["\n"], "seed": 1,
        "response_format": {"type": "json_object"},
    }  # fmt: skip
    assert _check(body) == ""


def test_the_internet_suffix_turns_on_web_search():
    body, _, _ = sent(chat({"messages": [{"role": "user", "content": "news?"}]}, "command-r-plus-internet"))
    assert body["model"] == "command-r-plus" and body["connectors"] == [{"id": "web-search"}]


def test_the_channel_system_prompt_becomes_the_preamble():
    a = adaptor(system_prompt="House rules.", base_url="https://api.cohere.com/")
    upstream = a.build_request(chat({"messages": [{"role": "user", "content": "hi"}]}), "command-r")
    assert json.loads(upstream.content)["preamble"] == "House rules." and upstream.system_prompt_reset
    assert upstream.url == "https://api.cohere.com/v1/chat"


def test_tools_become_parameter_definitions_and_results_tool_results():
    body, _, _ = sent(chat({"messages": [
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [WEATHER_CALL]},
        {"role": "tool", "tool_call_id": "call_w", "content": '{"temp": -3}'},
    ], "tools": [WEATHER_TOOL]}))  # fmt: skip
    assert body["tools"] == [{"name": "weather", "description": "Weather now", "parameter_definitions": {
        "city": {"type": "str", "required": True, "description": "City"},
        "days": {"type": "int", "required": False},
        "tags": {"type": "List[str]", "required": False},
    }}]  # fmt: skip
    assert body["message"] == ""
    assert body["tool_results"] == [
        {"call": {"name": "weather", "parameters": {"city": "Oslo"}}, "outputs": [{"temp": -3}]}
    ]
    assert body["chat_history"] == [
        {"role": "USER", "message": "Weather in Oslo?"},
        {
            "role": "CHATBOT",
            "message": "",
            "tool_calls": [{"name": "weather", "parameters": {"city": "Oslo"}}],
        },
    ]
    assert _check(body) == ""


@pytest.mark.parametrize(
    "extra,param",
    [
        ({"n": 3}, "n"),
        ({"tool_choice": "required", "tools": [WEATHER_TOOL]}, "tool_choice"),
        ({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:,"}}]}]},
         "image content"),
    ],
)  # fmt: skip
def test_features_cohere_v1_lacks_are_a_clear_400(extra, param):
    with pytest.raises(RelayError) as raised:
        sent(chat({"messages": [{"role": "user", "content": "hi"}], **extra}))
    assert raised.value.status == 400 and raised.value.message == f"Cohere does not support {param}"


def test_a_conversation_ending_with_the_assistant_is_a_400():
    with pytest.raises(RelayError) as raised:
        sent(chat({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}))
    assert raised.value.status == 400


def test_an_answer_becomes_a_chat_completion_billed_by_billed_units():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert answer["choices"][0]["message"]["content"].startswith("LLMs are neural networks")
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["id"] == "chatcmpl-8f7b1c2e-36f1-4c4b-a2de-1f5c2a9b7e11"
    assert (usage.prompt_tokens, usage.completion_tokens) == (5, 11)


def test_tool_calls_get_ids():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    calls = choice["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["query_daily_sales_report", "query_product_catalog"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"day": "2023-09-29"}
    assert calls[0]["id"] != calls[1]["id"] and (usage.prompt_tokens, usage.completion_tokens) == (120, 39)


@pytest.mark.parametrize("reason,expected", [("MAX_TOKENS", "length"), ("ERROR_TOXIC", "content_filter")])
def test_finish_reasons(reason, expected):
    raw = orjson.dumps({**json.loads(fixture("chat.json")), "finish_reason": reason})
    body, _ = adaptor().parse_response(chat({"messages": []}), 200, raw)
    assert json.loads(body)["choices"][0]["finish_reason"] == expected


def test_an_error_finish_is_an_error():
    raw = orjson.dumps({**json.loads(fixture("chat.json")), "finish_reason": "ERROR"})
    with pytest.raises(RelayError) as raised:
        adaptor().parse_response(chat({"messages": []}), 200, raw)
    assert raised.value.status == 502


def test_an_ndjson_stream_becomes_chunks_with_billed_usage():
    state = StreamState(model="command-r", hide_usage=False)
    chunks = replay(adaptor(), fixture("chat_stream.ndjson"), state)
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "LLMs are neural networks."
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop" and chunks[-1]["usage"]["total_tokens"] == 10
    assert state.done and state.finished and state.error is None


def test_a_streamed_tool_call_is_sent_once_with_its_plan_text():
    state = StreamState(model="command-r", hide_usage=True)
    chunks = replay(adaptor(), fixture("tool_call_stream.ndjson"), state)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas[0]["content"] == "I will look up the sales figures."
    calls = [call for d in deltas for call in d.get("tool_calls", [])]
    assert (
        len(calls) == 1
        and calls[0]["index"] == 0
        and calls[0]["function"]["name"] == "query_daily_sales_report"
    )
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert (state.usage.prompt_tokens, state.usage.completion_tokens) == (120, 25)


def test_unknown_or_malformed_stream_lines_are_stream_errors():
    state = StreamState(model="m")
    replay(adaptor(), b'{"event_type": "text-generation", "text": "a"}\n{"event_type": "surprise"}\n', state)
    assert state.error.status == 502 and "surprise" in state.error.message
    state = StreamState(model="m")
    replay(adaptor(), b'{"event_type": "text-gen', state)
    assert state.error.code == "bad_response"


def test_a_200_stream_is_a_stream_whatever_its_json_media_type():
    assert not adaptor().stream_is_error(200, "application/stream+json")
    assert adaptor().stream_is_error(429, "application/json")


@pytest.mark.parametrize(
    "status,name,retryable,disable",
    [(401, "error_401.json", True, True), (429, "error_429.json", True, False), (402, None, True, True)],
)
def test_errors_carry_their_consequence(status, name, retryable, disable):
    body = fixture(name) if name else b'{"message": "Please add a payment method"}'
    error = adaptor().map_error(status, body)
    assert (error.status, error.retryable, error.disable_channel) == (status, retryable, disable)
    assert error.message == json.loads(body)["message"]


def test_embeddings_use_v1_embed():
    body = {"model": "embed-english-v3.0", "input": ["hello", "goodbye"]}
    req = RelayRequest(
        mode="embeddings", path="/v1/embeddings", model=body["model"], raw=orjson.dumps(body), body=body
    )
    a = adaptor()
    upstream = a.build_request(req, body["model"])
    assert upstream.url.endswith("/v1/embed")
    assert json.loads(upstream.content) == {"model": "embed-english-v3.0", "texts": ["hello", "goodbye"],
                                            "input_type": "search_document"}  # fmt: skip
    answer, usage = a.parse_response(req, 200, fixture("embed.json"))
    assert [d["index"] for d in json.loads(answer)["data"]] == [0, 1] and usage.prompt_tokens == 2
