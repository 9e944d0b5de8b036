"""Gemini adaptor, pure: OpenAI requests in, Gemini bodies out; recorded answers, streams and errors back."""

from __future__ import annotations

import base64
import json
import struct

import httpx
import orjson
import pytest
from django.test import override_settings
from httpx_sse import EventSource

from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.providers import adaptor_class
from relay.providers.base import StreamState
from relay.providers.gemini import GeminiAdaptor, clean_schema
from relay.schemas import RelayRequest
from tests.fakes.gemini import _check_schema, fixture
from tests.relay.providers.builders import adaptor_for, relay_request

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def adaptor(**fields) -> GeminiAdaptor:
    return adaptor_for(GeminiAdaptor, 24, **{"name": "gemini", "key": "AIza-test", **fields})


def chat(body: dict, model: str = "gemini-2.0-flash") -> RelayRequest:
    return relay_request(body, model=model, path="/v1/chat/completions")


def sent(req: RelayRequest, **fields) -> tuple[dict, dict, str]:
    upstream = adaptor(**fields).build_request(req, req.model)
    return json.loads(upstream.content), upstream.headers, upstream.url


def replay(a: GeminiAdaptor, raw: bytes, state: StreamState) -> list[dict]:
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    chunks: list[dict] = []
    for event in EventSource(response).iter_sse():
        chunks += [json.loads(c) for c in a.parse_stream_event(event.data, state)]
        if state.error:
            break
    return chunks


def test_the_registry_resolves_the_gemini_slug():
    assert adaptor_class(channel_type_info(24).adaptor) is GeminiAdaptor


def test_it_translates_roles_system_and_generation_settings():
    body, headers, url = sent(chat({"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": [{"type": "text", "text": "What is "}, {"type": "text", "text": "2+2?"}]},
    ], "temperature": 0.3, "top_p": 0.8, "max_tokens": 50, "stop": "END", "n": 2, "seed": 7,
        "presence_penalty": 0.1, "response_format": {"type": "json_object"}}))  # fmt: skip
    assert url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.0-flash:generateContent"
    assert headers["x-goog-api-key"] == "AIza-test"
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"] == [
        {"role": "user", "parts": [{"text": "Hi"}]},
        {"role": "model", "parts": [{"text": "Hello!"}]},
        {"role": "user", "parts": [{"text": "What is "}, {"text": "2+2?"}]},
    ]
    assert body["generationConfig"] == {
        "temperature": 0.3, "topP": 0.8, "maxOutputTokens": 50, "stopSequences": ["END"], "candidateCount": 2,
        "seed": 7, "presencePenalty": 0.1, "responseMimeType": "application/json",
    }  # fmt: skip
    assert [s["category"] for s in body["safetySettings"]] == [
        "HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT",
        "HARM_CATEGORY_DANGEROUS_CONTENT", "HARM_CATEGORY_CIVIC_INTEGRITY",
    ]  # fmt: skip
    assert {s["threshold"] for s in body["safetySettings"]} == {"BLOCK_NONE"}


@override_settings(GEMINI_SAFETY_SETTING="BLOCK_ONLY_HIGH", GEMINI_VERSION="v1")
def test_the_version_and_safety_threshold_come_from_settings_and_the_channel():
    req = chat({"messages": [{"role": "user", "content": "hi"}]}, model="gemini-pro")
    body, _, url = sent(req, base_url="https://proxy.example/")
    assert url == "https://proxy.example/v1/models/gemini-pro:generateContent"
    assert {s["threshold"] for s in body["safetySettings"]} == {"BLOCK_ONLY_HIGH"}
    _, _, url = sent(
        chat({"messages": [{"role": "user", "content": "hi"}], "stream": True}, "gemini-2.5-flash")
    )
    assert url.endswith("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse")
    _, _, url = sent(req, config={"api_version": "v1alpha"})
    assert "/v1alpha/models/gemini-pro:" in url


def test_the_channel_system_prompt_replaces_the_clients():
    a = adaptor(system_prompt="You are the house bot.")
    messages = [{"role": "system", "content": "Client system"}, {"role": "user", "content": "hi"}]
    upstream = a.build_request(chat({"messages": messages}), "gemini-2.0-flash")
    assert json.loads(upstream.content)["systemInstruction"] == {
        "parts": [{"text": "You are the house bot."}]
    }
    assert upstream.system_prompt_reset


def test_images_become_inline_data_and_urls_file_data():
    body, _, _ = sent(chat({"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Compare"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.webp?x=1"}},
    ]}]}))  # fmt: skip
    assert body["contents"][0]["parts"] == [
        {"text": "Compare"},
        {"inlineData": {"mimeType": "image/png", "data": PNG}},
        {"fileData": {"mimeType": "image/webp", "fileUri": "https://example.com/cat.webp?x=1"}},
    ]


def test_tool_calls_and_results_become_function_call_and_response_parts():
    body, _, _ = sent(chat({"messages": [
        {"role": "user", "content": "Weather and time in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
        ]},
        {"role": "tool", "tool_call_id": "call_a", "content": '{"temp": 21}'},
        {"role": "tool", "tool_call_id": "call_b", "content": "12:00"},
    ], "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}))  # fmt: skip
    assert body["contents"][1] == {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}},
        {"functionCall": {"name": "get_time", "args": {}}},
    ]}  # fmt: skip
    # Parallel results travel in one user turn, names looked up from the calls' ids.
    assert body["contents"][2] == {"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "response": {"temp": 21}}},
        {"functionResponse": {"name": "get_time", "response": {"content": "12:00"}}},
    ]}  # fmt: skip
    assert body["toolConfig"] == {
        "functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}
    }
    assert body["tools"][0]["functionDeclarations"][0]["parameters"]["required"] == ["city"]


@pytest.mark.parametrize("choice,mode", [("auto", "AUTO"), ("none", "NONE"), ("required", "ANY")])
def test_tool_choice_modes(choice, mode):
    body, _, _ = sent(chat({"messages": [{"role": "user", "content": "hi"}], "tool_choice": choice,
                            "tools": [{"type": "function", "function": {"name": "f"}}]}))  # fmt: skip
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": mode}}
    assert body["tools"] == [{"functionDeclarations": [{"name": "f"}]}]  # no empty OBJECT schema


PYDANTIC_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$defs": {
        "Unit": {"enum": ["celsius", "fahrenheit"], "title": "Unit", "type": "string"},
        "Place": {
            "type": "object",
            "title": "Place",
            "properties": {
                "city": {"type": "string", "examples": ["Paris"]},
                "near": {"$ref": "#/$defs/Place"},
            },
            "required": ["city"],
            "additionalProperties": False,
        },
    },
    "type": "object",
    "title": "WeatherArgs",
    "additionalProperties": False,
    "properties": {
        "place": {"$ref": "#/$defs/Place", "description": "Where"},
        "unit": {"anyOf": [{"$ref": "#/$defs/Unit"}, {"type": "null"}], "default": None},
        "days": {"type": "integer", "exclusiveMinimum": 0, "maximum": 14, "default": 3, "format": "uint8"},
        "level": {"type": "integer", "enum": [1, 2, 3]},
        "tags": {
            "type": ["array", "null"],
            "items": {"type": "string", "format": "uri"},
            "uniqueItems": True,
        },
        "mode": {"const": "fast"},
        "default": {"type": "string", "description": "a property that happens to be named like a keyword"},
        "additionalProperties": {"type": "boolean"},
    },
    "required": ["place", "days", "ghost"],
    "strict": True,
}


def test_function_schemas_are_cleaned_of_keywords_gemini_rejects():
    cleaned = clean_schema(PYDANTIC_SCHEMA)
    assert _check_schema(cleaned, "parameters") == ""  # what the fake (and Gemini) accept
    assert _check_schema(PYDANTIC_SCHEMA, "parameters") != ""  # the raw schema would be a 400
    props = cleaned["properties"]
    assert set(props) == {"place", "unit", "days", "level", "tags", "mode", "default", "additionalProperties"}
    assert props["place"]["description"] == "Where" and props["place"]["required"] == ["city"]
    assert props["place"]["properties"]["near"] == {"type": "object"}  # recursion cut, not a crash
    assert props["unit"] == {"type": "string", "enum": ["celsius", "fahrenheit"], "nullable": True}
    assert props["days"] == {"type": "integer", "maximum": 14}
    assert props["level"] == {"type": "integer", "description": "Allowed values: 1, 2, 3"}
    assert props["tags"] == {"type": "array", "nullable": True, "items": {"type": "string"}}
    assert props["mode"] == {"type": "string", "enum": ["fast"]}
    assert props["default"]["type"] == "string" and props["additionalProperties"] == {"type": "boolean"}
    assert cleaned["required"] == ["place", "days"]  # names without a property are dropped
    assert "$schema" in PYDANTIC_SCHEMA and "additionalProperties" in PYDANTIC_SCHEMA  # input untouched


def test_json_schema_response_format_is_cleaned_too():
    body, _, _ = sent(chat({"messages": [{"role": "user", "content": "hi"}], "response_format": {
        "type": "json_schema", "json_schema": {"name": "w", "strict": True, "schema": PYDANTIC_SCHEMA}}}))  # fmt: skip
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert _check_schema(config["responseSchema"], "responseSchema") == ""


@pytest.mark.parametrize(
    "extra,param",
    [
        ({"logprobs": True}, "logprobs"),
        ({"tools": [{"type": "code_interpreter"}]}, "tools of type 'code_interpreter'"),
        ({"response_format": {"type": "xml"}}, "response_format type 'xml'"),
    ],
)
def test_features_gemini_lacks_are_a_clear_400(extra, param):
    with pytest.raises(RelayError) as raised:
        sent(chat({"messages": [{"role": "user", "content": "hi"}], **extra}))
    assert raised.value.status == 400 and raised.value.param == param
    assert raised.value.message == f"Gemini does not support {param}"


def test_an_orphan_tool_result_is_a_400():
    with pytest.raises(RelayError) as raised:
        sent(chat({"messages": [{"role": "tool", "tool_call_id": "nope", "content": "x"}]}))
    assert raised.value.status == 400


def test_other_modes_are_unsupported():
    req = RelayRequest(mode="images", path="/v1/images/generations", model="imagen", raw=b"{}", body={})
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(req, "imagen")
    assert raised.value.status == 400 and raised.value.code == "unsupported_endpoint"


def test_an_answer_becomes_a_chat_completion_with_reasoning_and_cache_usage():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("chat.json"))
    answer = json.loads(body)
    message = answer["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "Hello! How can I help you today?",
                       "reasoning_content": "Let me think about greetings."}  # fmt: skip
    assert answer["choices"][0]["finish_reason"] == "stop"
    assert answer["id"] == "chatcmpl-mR8gaN2bK5yq1PIP0qfHgQ4" and answer["model"] == "gemini-2.0-flash"
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens, usage.reasoning_tokens) == (
        12,
        29,
        4,
        20,
    )
    assert answer["usage"] == {"prompt_tokens": 12, "completion_tokens": 29, "total_tokens": 41,
                               "prompt_tokens_details": {"cached_tokens": 4},
                               "completion_tokens_details": {"reasoning_tokens": 20}}  # fmt: skip


def test_function_calls_become_tool_calls_with_ids():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    calls = choice["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["function"]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert all(c["id"].startswith("call_") and c["type"] == "function" for c in calls)
    assert calls[0]["id"] != calls[1]["id"]
    assert (usage.prompt_tokens, usage.completion_tokens) == (57, 14)


def test_a_blocked_prompt_is_a_content_filter_finish():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("blocked.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "content_filter" and choice["message"]["content"] == ""
    assert usage.prompt_tokens == 9


@pytest.mark.parametrize(
    "reason,expected",
    [
        ("MAX_TOKENS", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "stop"),
        ("SPII", "content_filter"),
    ],
)
def test_finish_reasons_map_to_openai(reason, expected):
    payload = {"candidates": [{"content": {"parts": [{"text": "x"}]}, "finishReason": reason}]}
    body, _ = adaptor().parse_response(chat({"messages": []}), 200, orjson.dumps(payload))
    assert json.loads(body)["choices"][0]["finish_reason"] == expected


@pytest.mark.parametrize("raw", [b'{"candidates": [', b"[]", b'{"candidates": []}'])
def test_malformed_answers_are_a_retryable_502(raw):
    with pytest.raises(RelayError) as raised:
        adaptor().parse_response(chat({"messages": []}), 200, raw)
    assert raised.value.status == 502 and raised.value.retryable


def test_a_stream_becomes_chunks_and_its_last_usage_is_final():
    a = adaptor()
    a.build_request(
        chat({"messages": [{"role": "user", "content": "hi"}], "stream": True}), "gemini-2.0-flash"
    )
    state = StreamState(model="gemini-2.0-flash", hide_usage=False)
    chunks = replay(a, fixture("chat_stream.sse"), state)
    assert [c["choices"][0]["delta"].get("content") for c in chunks[:3]] == ["Hello", ", world", "!"]
    assert (
        chunks[0]["choices"][0]["delta"]["role"] == "assistant"
        and "role" not in chunks[1]["choices"][0]["delta"]
    )
    assert [c["choices"][0]["finish_reason"] for c in chunks[:3]] == [None, None, "stop"]
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["object"] == "chat.completion.chunk"
    assert chunks[3]["choices"] == [] and chunks[3]["usage"]["total_tokens"] == 12
    assert state.finished and not state.done and state.error is None
    assert (state.usage.prompt_tokens, state.usage.completion_tokens) == (8, 4)


def test_a_stream_without_usage_requested_sends_no_usage_chunk():
    state = StreamState(model="gemini-2.0-flash", hide_usage=True)
    chunks = replay(adaptor(), fixture("chat_stream.sse"), state)
    assert len(chunks) == 3 and state.usage.completion_tokens == 4


def test_a_streamed_function_call_is_one_tool_call_delta():
    state = StreamState(model="gemini-2.0-flash", hide_usage=True)
    chunks = replay(adaptor(), fixture("tool_call_stream.sse"), state)
    choice = chunks[0]["choices"][0]
    call = choice["delta"]["tool_calls"][0]
    assert call["index"] == 0 and call["id"].startswith("call_") and call["type"] == "function"
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Paris"}'}
    assert choice["finish_reason"] == "tool_calls" and state.finished


def test_a_malformed_or_error_stream_event_sets_the_stream_error():
    state = StreamState(model="m")
    assert adaptor().parse_stream_event('{"candidates": [{"content"', state) == []
    assert state.error.status == 502
    state = StreamState(model="m")
    adaptor().parse_stream_event(fixture("error_429.json").decode(), state)
    assert state.error.status == 429 and state.error.code == "RESOURCE_EXHAUSTED"


@pytest.mark.parametrize(
    "name,status,code,retryable,disable",
    [
        ("error_400_api_key.json", 401, "API_KEY_INVALID", True, True),
        ("error_429.json", 429, "RESOURCE_EXHAUSTED", True, False),
        ("error_403.json", 403, "SERVICE_DISABLED", True, True),
        ("error_400_invalid_argument.json", 400, "INVALID_ARGUMENT", False, False),
    ],
)
def test_errors_carry_their_consequence(name, status, code, retryable, disable):
    error = adaptor().map_error(400 if "400" in name else status, fixture(name))
    assert (error.status, error.code, error.retryable, error.disable_channel) == (
        status,
        code,
        retryable,
        disable,
    )
    assert error.message == json.loads(fixture(name))["error"]["message"]


def test_an_unparseable_error_keeps_the_http_status():
    error = adaptor().map_error(503, b"<html>Service Unavailable</html>")
    assert error.status == 503 and error.retryable and not error.disable_channel


def test_embeddings_use_batch_embed_contents(db):
    body = {
        "model": "text-embedding-004",
        "input": ["one", "two"],
        "dimensions": 4,
        "encoding_format": "base64",
    }
    req = RelayRequest(mode="embeddings", path="/v1/embeddings", model="text-embedding-004",
                       raw=orjson.dumps(body), body=body)  # fmt: skip
    a = adaptor()
    upstream = a.build_request(req, "text-embedding-004")
    assert upstream.url.endswith("/models/text-embedding-004:batchEmbedContents")
    assert json.loads(upstream.content) == {"requests": [
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": "one"}]}, "outputDimensionality": 4},
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": "two"}]}, "outputDimensionality": 4},
    ]}  # fmt: skip
    answer, usage = a.parse_response(req, 200, fixture("embeddings.json"))
    data = json.loads(answer)["data"]
    assert [d["index"] for d in data] == [0, 1]
    decoded = struct.unpack("<4f", base64.b64decode(data[1]["embedding"]))
    assert decoded == (0.5, -0.25, 0.125, 1.0)
    assert usage.prompt_tokens == 2 and json.loads(answer)["usage"]["prompt_tokens"] == 2
