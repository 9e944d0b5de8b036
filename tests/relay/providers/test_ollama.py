"""Ollama adaptor, pure: OpenAI requests in, /api/chat bodies out; recorded answers and NDJSON streams back."""

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
from relay.providers.ollama import OllamaAdaptor
from relay.schemas import RelayRequest
from tests.fakes.ollama import fixture
from tests.relay.providers.builders import adaptor_for, relay_request

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


def adaptor(**fields) -> OllamaAdaptor:
    return adaptor_for(OllamaAdaptor, 30, **{"name": "ollama", "key": "", **fields})


def chat(body: dict, model: str = "llama3.2") -> RelayRequest:
    return relay_request(body, model=model, path="/v1/chat/completions")


def sent(req: RelayRequest, **fields) -> tuple[dict, dict, str]:
    upstream = adaptor(**fields).build_request(req, req.model)
    return json.loads(upstream.content), upstream.headers, upstream.url


def replay(a: OllamaAdaptor, raw: bytes, state: StreamState) -> list[dict]:
    async def run() -> list[dict]:
        response = httpx.Response(200, content=raw, headers={"content-type": "application/x-ndjson"})
        chunks: list[dict] = []
        async for data in a.stream_events(response):
            chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
            if state.error or state.done:
                break
        return chunks

    return asyncio.run(run())


def test_the_registry_resolves_the_ollama_slug():
    assert adaptor_class(channel_type_info(30).adaptor) is OllamaAdaptor


def test_it_translates_messages_options_and_format():
    body, headers, url = sent(chat({"messages": [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]},
    ], "temperature": 0.2, "top_p": 0.9, "max_tokens": 64, "stop": "END", "seed": 3,
        "response_format": {"type": "json_object"}}))  # fmt: skip
    assert url == "http://localhost:11434/api/chat" and "Authorization" not in headers
    assert body == {
        "model": "llama3.2",
        "stream": False,
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is this?", "images": [PNG]},
        ],
        "options": {"temperature": 0.2, "top_p": 0.9, "seed": 3, "num_predict": 64, "stop": ["END"]},
        "format": "json",
    }


def test_a_key_and_base_url_are_used_when_set_and_the_system_prompt_applies():
    a = adaptor(key="ollama-cloud-key", base_url="https://ollama.com/", system_prompt="House rules.")
    upstream = a.build_request(
        chat({"messages": [{"role": "user", "content": "hi"}], "stream": True}), "gpt-oss"
    )
    body = json.loads(upstream.content)
    assert upstream.url == "https://ollama.com/api/chat"
    assert upstream.headers["Authorization"] == "Bearer ollama-cloud-key"
    assert body["stream"] is True and body["model"] == "gpt-oss"
    assert (
        body["messages"][0] == {"role": "system", "content": "House rules."} and upstream.system_prompt_reset
    )


def test_tools_and_tool_turns_are_translated():
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "P"}'},
    }
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    messages = [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "21C"},
    ]
    body, _, _ = sent(chat({"messages": messages, "tools": [tool], "response_format": schema}))
    assert body["messages"][1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "P"}}}],
    }
    assert body["messages"][2] == {"role": "tool", "content": "21C", "tool_name": "get_weather"}
    assert body["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    ]
    assert body["format"] == {"type": "object"}


@pytest.mark.parametrize(
    "extra,param",
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
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
            "image URLs other than data: URLs",
        ),
    ],
)
def test_features_ollama_lacks_are_a_clear_400(extra, param):
    with pytest.raises(RelayError) as raised:
        sent(chat({"messages": [{"role": "user", "content": "hi"}], **extra}))
    assert raised.value.status == 400 and raised.value.param == param
    assert raised.value.message == f"Ollama does not support {param}"


def test_an_answer_becomes_a_chat_completion_with_usage():
    body, usage = adaptor().parse_response(chat({"messages": []}), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "Hello! How are you today?"}
    assert answer["choices"][0]["finish_reason"] == "stop" and answer["model"] == "llama3.2"
    assert (usage.prompt_tokens, usage.completion_tokens) == (26, 298)
    assert answer["usage"]["total_tokens"] == 324


def test_tool_calls_get_ids_and_string_arguments():
    body, _ = adaptor().parse_response(chat({"messages": []}), 200, fixture("tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
    call = choice["message"]["tool_calls"][0]
    assert call["id"].startswith("call") and call["type"] == "function"
    assert call["function"]["name"] == "get_current_weather"
    assert json.loads(call["function"]["arguments"]) == {"format": "celsius", "location": "Paris, FR"}


def test_a_length_stop_maps_to_length():
    raw = orjson.dumps({**json.loads(fixture("chat.json")), "done_reason": "length"})
    body, _ = adaptor().parse_response(chat({"messages": []}), 200, raw)
    assert json.loads(body)["choices"][0]["finish_reason"] == "length"


def test_an_ndjson_stream_becomes_chunks_with_usage_at_the_end():
    a = adaptor()
    a.build_request(chat({"messages": [{"role": "user", "content": "hi"}], "stream": True}), "llama3.2")
    state = StreamState(model="llama3.2", hide_usage=False)
    chunks = replay(a, fixture("chat_stream.ndjson"), state)
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "The sky is blue."
    )
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == {
        "prompt_tokens": 26, "completion_tokens": 4, "total_tokens": 30}  # fmt: skip
    assert state.done and state.finished and state.error is None


def test_a_streamed_tool_call():
    state = StreamState(model="qwen3", hide_usage=True)
    chunks = replay(adaptor(), fixture("tool_call_stream.ndjson"), state)
    call = chunks[0]["choices"][0]["delta"]["tool_calls"][0]
    assert (
        call["index"] == 0 and call["id"].startswith("call") and call["function"]["name"] == "get_temperature"
    )
    assert json.loads(call["function"]["arguments"]) == {"city": "Toronto"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert (state.usage.prompt_tokens, state.usage.completion_tokens) == (180, 21)


def test_a_mid_stream_error_line_sets_the_stream_error():
    state = StreamState(model="llama3.2")
    chunks = replay(adaptor(), fixture("stream_error.ndjson"), state)
    assert len(chunks) == 1 and "unexpected EOF" in state.error.message and not state.done


def test_a_truncated_line_is_a_stream_error():
    state = StreamState(model="llama3.2")
    replay(adaptor(), b'{"model":"llama3.2","message":{"role":"assistant","content":"Hi"},"do', state)
    assert state.error.status == 502 and state.error.code == "bad_response"


def test_errors_keep_their_status_and_message():
    error = adaptor().map_error(404, fixture("error_404.json"))
    assert error.status == 404 and error.retryable and not error.disable_channel
    assert error.message == 'model "llama9" not found, try pulling it first'
    assert adaptor().map_error(401, b'{"error": "unauthorized"}').disable_channel


def test_embeddings_use_api_embed_and_report_prompt_tokens():
    body = {"model": "all-minilm", "input": ["a", "b"], "dimensions": 4}
    req = RelayRequest(
        mode="embeddings", path="/v1/embeddings", model="all-minilm", raw=orjson.dumps(body), body=body
    )
    a = adaptor()
    upstream = a.build_request(req, "all-minilm")
    assert upstream.url.endswith("/api/embed")
    assert json.loads(upstream.content) == {"model": "all-minilm", "input": ["a", "b"], "dimensions": 4}
    answer, usage = a.parse_response(req, 200, fixture("embed.json"))
    data = json.loads(answer)["data"]
    assert [d["index"] for d in data] == [0, 1] and data[1]["embedding"][1] == 0.06042469
    assert usage.prompt_tokens == 8


def test_token_id_embedding_input_is_unsupported():
    body = {"model": "all-minilm", "input": [1, 2, 3]}
    req = RelayRequest(
        mode="embeddings", path="/v1/embeddings", model="all-minilm", raw=orjson.dumps(body), body=body
    )
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(req, "all-minilm")
    assert raised.value.status == 400
