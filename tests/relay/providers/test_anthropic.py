"""Anthropic adaptor, pure: OpenAI requests in, Messages bodies out; recorded answers and streams back."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from relay.errors import RelayError
from relay.providers.anthropic import AnthropicAdaptor
from relay.providers.base import StreamState
from relay.schemas import RelayRequest
from tests.relay.providers.builders import adaptor_for, relay_request

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "anthropic"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def adaptor(**fields) -> AnthropicAdaptor:
    return adaptor_for(AnthropicAdaptor, 14, **{"name": "claude", "key": "sk-ant-test", **fields})


def chat(body: dict, headers: dict | None = None) -> RelayRequest:
    return relay_request(
        body, model="claude-3-5-haiku-20241022", path="/v1/chat/completions", headers=headers
    )


def sent(req: RelayRequest, **fields) -> tuple[dict, dict, str]:
    upstream = adaptor(**fields).build_request(req, req.model)
    return json.loads(upstream.content), upstream.headers, upstream.url


async def replay(a: AnthropicAdaptor, raw: bytes, state: StreamState) -> list[dict]:
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    chunks: list[dict] = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks


def test_it_moves_system_messages_to_the_top_and_fills_the_required_fields():
    body, headers, url = sent(chat({"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": [{"type": "text", "text": "Answer in French."}]},
        {"role": "user", "content": "hi"},
    ], "stop": "END", "user": "u-1", "temperature": 0.2, "top_p": 0.9}))  # fmt: skip
    assert body == {
        "model": "claude-3-5-haiku-20241022",
        "system": "Be brief.\n\nAnswer in French.",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 4096,
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "metadata": {"user_id": "u-1"},
    }
    assert url == "https://api.anthropic.com/v1/messages"
    assert headers["x-api-key"] == "sk-ant-test" and headers["anthropic-version"] == "2023-06-01"
    assert headers["anthropic-beta"] == "messages-2023-12-15"


def test_it_follows_the_clients_anthropic_headers_and_the_channels_base_url():
    req = chat({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 50},
               headers={"anthropic-version": "2024-01-01", "anthropic-beta": "prompt-caching-2024-07-31"})  # fmt: skip
    body, headers, url = sent(req, base_url="http://proxy.local/anthropic/")
    assert url == "http://proxy.local/anthropic/v1/messages" and body["max_tokens"] == 50
    assert headers["anthropic-version"] == "2024-01-01"
    assert headers["anthropic-beta"] == "prompt-caching-2024-07-31"
    _, headers, _ = sent(
        chat({"model": "claude-3-5-sonnet-20240620", "messages": [{"role": "user", "content": "x"}]})
    )
    assert headers["anthropic-beta"] == "messages-2023-12-15,max-tokens-3-5-sonnet-2024-07-15"


def test_it_translates_images_tool_calls_and_tool_results():
    body, _, _ = sent(chat({"messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "What is in these?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        ]},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "cat"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "dog"}'}},
        ]},
        {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
        {"role": "tool", "tool_call_id": "call_2", "content": "a dog"},
        {"role": "user", "content": "thanks"},
    ]}))  # fmt: skip
    user, assistant, results = body["messages"]
    assert user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
    }
    assert user["content"][2] == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
    }
    assert assistant == {"role": "assistant", "content": [
        {"type": "tool_use", "id": "call_1", "name": "lookup", "input": {"q": "cat"}},
        {"type": "tool_use", "id": "call_2", "name": "lookup", "input": {"q": "dog"}},
    ]}  # fmt: skip
    assert results == {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "call_1", "content": "a cat"},
        {"type": "tool_result", "tool_use_id": "call_2", "content": "a dog"},
        {"type": "text", "text": "thanks"},
    ]}  # fmt: skip


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        ("auto", None, {"type": "auto"}),
        ("required", None, {"type": "any"}),
        ("none", None, {"type": "none"}),
        ({"type": "function", "function": {"name": "lookup"}}, None, {"type": "tool", "name": "lookup"}),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
    ],
)
def test_it_maps_tools_and_tool_choice(choice, parallel, expected):
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    tool = {"type": "function", "function": {"name": "lookup", "description": "Search", "parameters": schema}}
    request = {"messages": [{"role": "user", "content": "x"}], "tools": [tool]}
    if choice is not None:
        request["tool_choice"] = choice
    if parallel is not None:
        request["parallel_tool_calls"] = parallel
    body, _, _ = sent(chat(request))
    assert body["tools"] == [{"name": "lookup", "description": "Search", "input_schema": schema}]
    assert body["tool_choice"] == expected


def test_the_channel_system_prompt_replaces_the_clients_and_is_reported():
    req = chat({"messages": [{"role": "system", "content": "client"}, {"role": "user", "content": "x"}]})
    upstream = adaptor(system_prompt="You are the channel.").build_request(req, req.model)
    assert json.loads(upstream.content)["system"] == "You are the channel."
    assert upstream.system_prompt_reset


def test_it_maps_response_formats_and_reasoning_effort():
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    json_schema = {"type": "json_schema", "json_schema": {"name": "n", "schema": schema}}
    body, _, _ = sent(chat({"messages": [{"role": "user", "content": "x"}], "response_format": json_schema}))
    assert body["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    body, _, _ = sent(
        chat({"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_object"}})
    )
    assert "JSON" in body["system"]
    body, _, _ = sent(
        chat({"messages": [{"role": "user", "content": "x"}], "reasoning_effort": "low", "max_tokens": 500})
    )
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1024} and body["max_tokens"] > 1024


@pytest.mark.parametrize(("field", "value"), [("n", 2), ("logprobs", True), ("presence_penalty", 0.5)])
def test_features_claude_lacks_are_refused_by_name(field, value):
    with pytest.raises(RelayError) as caught:
        sent(chat({"messages": [{"role": "user", "content": "x"}], field: value}))
    error = caught.value
    assert (error.status, error.code, error.param) == (400, "unsupported_parameter", field)
    assert error.message == f"Anthropic does not support {field}"


def test_it_refuses_other_endpoints():
    req = RelayRequest(
        mode="embeddings", path="/v1/embeddings", model="claude", raw=b"{}", body={"input": "x"}
    )
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(req, "claude")
    assert (caught.value.status, caught.value.code) == (400, "unsupported_endpoint")


def test_it_translates_an_answer_with_cache_usage():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert answer["id"] == "chatcmpl-msg_01XFDUDYJgAACzvnptvVoYEL" and answer["object"] == "chat.completion"
    message = {"role": "assistant", "content": "Hello! How can I help you today?"}
    assert answer["choices"][0] == {"index": 0, "finish_reason": "stop", "message": message}
    assert answer["usage"] == {"prompt_tokens": 312, "completion_tokens": 10, "total_tokens": 322,
                               "prompt_tokens_details": {"cached_tokens": 200}}  # fmt: skip
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (312, 10, 200)


def test_it_translates_a_tool_call_answer():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "I'll check the weather."
    [call] = choice["message"]["tool_calls"]
    assert call["id"] == "toolu_01A09q90qw90lq917835lq9" and call["function"]["name"] == "get_weather"
    assert json.loads(call["function"]["arguments"]) == {"location": "San Francisco, CA", "unit": "celsius"}
    assert (usage.prompt_tokens, usage.completion_tokens) == (380, 72)


async def test_it_translates_a_stream_with_usage_for_clients_that_ask():
    state = StreamState(model="claude-3-5-haiku-20241022", hide_usage=False)
    chunks = await replay(adaptor(), fixture("chat_stream.sse"), state)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert text == "Hello there!"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 30
    assert chunks[-1]["usage"]["completion_tokens"] == 15
    assert state.done and state.finished and state.error is None
    assert (state.usage.prompt_tokens, state.usage.completion_tokens, state.usage.cached_tokens) == (
        30,
        15,
        5,
    )
    assert {c["id"] for c in chunks} == {"chatcmpl-msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY"}


async def test_it_streams_tool_calls_as_openai_fragments():
    state = StreamState(model="claude", hide_usage=True)
    chunks = await replay(adaptor(), fixture("tool_call_stream.sse"), state)
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"] and "tool_calls" in c["choices"][0]["delta"]
    ]
    assert calls[0] == {"index": 0, "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "type": "function",
                        "function": {"name": "get_weather", "arguments": ""}}  # fmt: skip
    assert all(set(c) == {"index", "function"} and c["index"] == 0 for c in calls[1:])
    assert json.loads("".join(c["function"]["arguments"] for c in calls)) == {"location": "Paris"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert state.usage.completion_tokens == 89 and state.done


async def test_a_mid_stream_error_event_becomes_a_retryable_error():
    state = StreamState(model="claude")
    chunks = await replay(adaptor(), fixture("stream_error.sse"), state)
    assert chunks[-1]["choices"][0]["delta"] == {"content": "Partial"}
    assert (state.error.status, state.error.type, state.error.message) == (
        503,
        "overloaded_error",
        "Overloaded",
    )
    assert not state.done and state.completion_tokens_counted() == 1


@pytest.mark.parametrize("data", ['{"type":"content_block_delta","index":0,', '{"type":"brand_new_event"}'])
def test_malformed_or_unknown_stream_events_end_the_stream_with_an_error(data):
    state = StreamState(model="claude")
    assert adaptor().parse_stream_event(data, state) == []
    assert state.error is not None and state.error.status == 502


@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [
        (401, "error_401.json", (401, "authentication_error", True, True)),
        (400, "error_credit.json", (400, "invalid_request_error", True, True)),
        (529, "error_overloaded.json", (503, "overloaded_error", True, False)),
        (400, "error_invalid.json", (400, "invalid_request_error", False, False)),
    ],
)
def test_errors_carry_their_consequence(status, name, expected):
    error = adaptor().map_error(status, fixture(name))
    assert (error.status, error.type, error.retryable, error.disable_channel) == expected
    assert error.message == json.loads(fixture(name))["error"]["message"]


def test_an_error_inside_a_200_answer_is_raised_with_a_real_status():
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat({"messages": []}), 200, fixture("error_overloaded.json"))
    assert (caught.value.status, caught.value.retryable) == (503, True)
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(chat({"messages": []}), 200, b'{"id": "msg_1", "content": [')
    assert caught.value.status == 502
