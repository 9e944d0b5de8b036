"""Ali DashScope adaptor, pure: OpenAI requests → DashScope bodies; recorded answers, streams and tasks back."""

from __future__ import annotations

import json

import httpx
import pytest

from relay.errors import RelayError
from relay.providers.ali import AliAdaptor, images
from relay.providers.base import StreamState
from relay.schemas import RelayRequest
from tests.fakes.native import fixture as load
from tests.relay.providers.builders import adaptor_for, relay_request

BASE = "https://dashscope.aliyuncs.com"


def fixture(name: str) -> bytes:
    return load("ali", name)


def adaptor(**fields) -> AliAdaptor:
    return adaptor_for(AliAdaptor, 17, **{"name": "qwen", "key": "sk-ali-test", **fields})


def request(body: dict, mode: str = "chat") -> RelayRequest:
    return relay_request(body, model="qwen-plus", mode=mode)


def chat(**body) -> RelayRequest:
    body.setdefault("messages", [{"role": "user", "content": "你是谁？"}])
    return request(body)


def sent(req: RelayRequest, model: str = "qwen-plus", **fields):
    up = adaptor(**fields).build_request(req, model)
    return json.loads(up.content), up.headers, up.url


async def replay(raw: bytes, hide_usage: bool = True):
    a = adaptor()
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    state = StreamState(model="qwen-plus", hide_usage=hide_usage)
    chunks = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks, state


def test_chat_becomes_input_messages_and_parameters():
    tools = [
        {"type": "function", "function": {"name": "get_current_weather", "parameters": {"type": "object"}}}
    ]
    body, headers, url = sent(
        chat(
            messages=[
                {"role": "developer", "content": "简洁"},
                {"role": "user", "content": [{"type": "text", "text": "hi"}]},
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "get_current_weather", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "晴"},
            ],
            temperature=2,
            top_p=1,
            max_tokens=100,
            stop=["\n"],
            seed=7,
            tools=tools,
            tool_choice="auto",
            response_format={"type": "json_object"},
        )
    )
    assert url == BASE + "/api/v1/services/aigc/text-generation/generation"
    assert headers["Authorization"] == "Bearer sk-ali-test" and "X-DashScope-SSE" not in headers
    assert body["model"] == "qwen-plus"
    assert body["input"]["messages"] == [
        {"role": "system", "content": "简洁"},
        {"role": "user", "content": "hi"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_current_weather", "arguments": "{}"},
                }
            ],
        },
        {"role": "tool", "content": "晴", "tool_call_id": "c1"},
    ]
    assert body["parameters"] == {
        "result_format": "message",
        "max_tokens": 100,
        "temperature": 1.9999,
        "top_p": 0.9999,
        "stop": ["\n"],
        "seed": 7,
        "tools": tools,
        "tool_choice": "auto",
        "response_format": {"type": "json_object"},
    }


def test_streams_ask_for_sse_and_increments_and_internet_models_search():
    body, headers, _ = sent(chat(stream=True), model="qwen-max-internet")
    assert headers["X-DashScope-SSE"] == "enable" and headers["Accept"] == "text/event-stream"
    assert body["model"] == "qwen-max"
    assert body["parameters"]["incremental_output"] is True and body["parameters"]["enable_search"] is True


def test_the_plugin_header_and_base_url_come_from_the_channel():
    _, headers, url = sent(chat(), config={"plugin": '{"pdf_extracter":{}}'}, base_url="http://proxy.local/")
    assert headers["X-DashScope-Plugin"] == '{"pdf_extracter":{}}'
    assert url.startswith("http://proxy.local/api/v1/")


def test_images_in_messages_use_the_multimodal_endpoint():
    content = [
        {"type": "text", "text": "这是什么？"},
        {"type": "image_url", "image_url": {"url": "https://x/cat.png"}},
    ]
    body, _, url = sent(chat(messages=[{"role": "user", "content": content}]), model="qwen-vl-plus")
    assert url.endswith("/api/v1/services/aigc/multimodal-generation/generation")
    assert body["input"]["messages"] == [
        {"role": "user", "content": [{"image": "https://x/cat.png"}, {"text": "这是什么？"}]}
    ]


def test_the_channel_system_prompt_is_applied():
    a = adaptor(system_prompt="你是客服")
    up = a.build_request(chat(), "qwen-plus")
    assert json.loads(up.content)["input"]["messages"][0] == {"role": "system", "content": "你是客服"}
    assert up.system_prompt_reset


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"logprobs": True}, "logprobs"),
        ({"response_format": {"type": "json_schema"}}, "response_format"),
    ],
)
def test_unsupported_fields_are_a_400_naming_the_field(extra, param):
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(chat(**extra), "qwen-plus")
    assert (caught.value.status, caught.value.param, caught.value.code) == (
        400,
        param,
        "unsupported_parameter",
    )
    assert f"Ali does not support {param}" == caught.value.message


def test_an_answer_becomes_a_chat_completion_with_usage_and_cached_tokens():
    body, usage = adaptor().parse_response(chat(), 200, fixture("chat.json"))
    answer = json.loads(body)
    assert (
        answer["object"] == "chat.completion"
        and answer["id"] == "chatcmpl-a6e3c9f2-1b7d-9e4f-8c2a-5d6b7e8f9a01"
    )
    assert answer["choices"] == [
        {
            "index": 0,
            "finish_reason": "stop",
            "message": {"role": "assistant", "content": "我是通义千问，由阿里云开发的AI助手。"},
        }
    ]
    assert (usage.prompt_tokens, usage.completion_tokens, usage.cached_tokens) == (24, 14, 16)
    assert answer["usage"]["prompt_tokens_details"] == {"cached_tokens": 16}


def test_a_tool_call_answer():
    body, _ = adaptor().parse_response(chat(), 200, fixture("tool_call.json"))
    choice = json.loads(body)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["tool_calls"] == [
        {
            "id": "call_6f8a1e2b3c4d4e5f",
            "type": "function",
            "function": {"name": "get_current_weather", "arguments": '{"location": "杭州市"}'},
        }
    ]


async def test_a_stream_is_translated_to_chunks_with_the_last_usage():
    chunks, state = await replay(fixture("chat_stream.sse"), hide_usage=False)
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "我是通义千问。"
    )
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[0]["id"] == "chatcmpl-0f3c8d2e-6a1b-9c4d-8e7f-1a2b3c4d5e6f"
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert chunks[-1]["usage"] == {"prompt_tokens": 24, "completion_tokens": 7, "total_tokens": 31}
    assert state.finished and (state.usage.prompt_tokens, state.usage.completion_tokens) == (24, 7)


async def test_streamed_tool_calls_become_openai_deltas():
    chunks, state = await replay(fixture("tool_call_stream.sse"))
    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in chunks
        if c["choices"][0]["delta"].get("tool_calls")
    ]
    assert calls[0] == {
        "index": 0,
        "id": "call_9a8b7c6d5e4f4a3b",
        "type": "function",
        "function": {"name": "get_current_weather", "arguments": '{"location":'},
    }
    assert calls[1] == {"index": 0, "function": {"arguments": ' "杭州市"}'}}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls" and state.finished


async def test_reasoning_content_is_streamed_and_its_tokens_counted():
    chunks, state = await replay(fixture("reasoning_stream.sse"))
    assert chunks[0]["choices"][0]["delta"]["reasoning_content"] == "用户在打招呼"
    assert chunks[1]["choices"][0]["delta"]["content"] == "你好！"
    assert state.usage.reasoning_tokens == 6


async def test_an_error_event_and_malformed_events_end_the_stream_with_an_error():
    chunks, state = await replay(fixture("stream_error_400.sse"))
    assert chunks == [] and state.error.code == "InvalidParameter"
    raw = fixture("chat_stream.sse").replace(
        b'"content":"\xe9\x80\x9a', b'"content":\xe9\x80\x9a'
    )  # broken JSON
    chunks, state = await replay(raw)
    assert len(chunks) == 1 and state.error.code == "bad_response"


async def test_a_stream_cut_before_its_finish_reason_is_not_finished():
    chunks, state = await replay(fixture("chat_stream.sse").split(b"id:4")[0])
    assert len(chunks) == 3 and not state.finished  # streaming.py reports the truncation


@pytest.mark.parametrize(
    ("name", "status", "retry", "disable"),
    [
        ("error_arrearage.json", 400, True, True),
        ("error_invalid_api_key.json", 401, True, True),
        ("error_throttling.json", 429, True, False),
    ],
)
def test_errors_are_classified_by_code(name, status, retry, disable):
    error = adaptor().map_error(status, fixture(name))
    assert (error.status, error.retryable, error.disable_channel) == (status, retry, disable)
    assert error.code == json.loads(fixture(name))["code"]


def test_an_sse_framed_error_answer_is_read_too():
    error = adaptor().map_error(400, fixture("stream_error_400.sse"))
    assert (error.code, error.retryable) == ("InvalidParameter", False)
    assert "Range of input length" in error.message


def test_embeddings():
    body, _, url = sent(
        request({"model": "text-embedding-v3", "input": "你好", "dimensions": 512}, "embeddings"),
        "text-embedding-v3",
    )
    assert url.endswith("/api/v1/services/embeddings/text-embedding/text-embedding")
    assert body == {
        "model": "text-embedding-v3",
        "input": {"texts": ["你好"]},
        "parameters": {"dimension": 512},
    }
    req = request({"model": "text-embedding-v3", "input": ["a", "b"]}, "embeddings")
    answer, usage = adaptor().parse_response(req, 200, fixture("embeddings.json"))
    answer = json.loads(answer)
    assert [d["index"] for d in answer["data"]] == [0, 1] and answer["data"][1]["embedding"][0] == -0.0321
    assert usage.prompt_tokens == 6 and answer["usage"]["total_tokens"] == 6
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(request({"input": [[1, 2, 3]]}, "embeddings"), "text-embedding-v3")
    assert caught.value.param == "input"


def test_image_synthesis_request_and_answer():
    req = request({"model": "wanx-v1", "prompt": "一只猫", "size": "1024x1024", "n": 2}, "images")
    body, headers, url = sent(req, "wanx-v1")
    assert url == BASE + "/api/v1/services/aigc/text2image/image-synthesis"
    assert headers["X-DashScope-Async"] == "enable"
    assert body == {
        "model": "wanx-v1",
        "input": {"prompt": "一只猫"},
        "parameters": {"size": "1024*1024", "n": 2},
    }
    answer, usage = adaptor().parse_response(req, 200, fixture("image_task_succeeded.json"))
    assert json.loads(answer)["data"] == [
        {
            "url": "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1d/a3/20240705/wanx_1.png",
            "revised_prompt": "",
        }
    ]
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(req, 200, fixture("image_task_failed.json"))
    assert (caught.value.status, caught.value.code) == (400, "DataInspectionFailed")
    with pytest.raises(RelayError) as caught:
        adaptor().parse_response(req, 200, fixture("image_task_created.json"))  # not polled
    assert caught.value.code == "bad_response"


async def test_run_image_task_polls_until_the_task_ends(monkeypatch):
    monkeypatch.setattr(images, "TASK_POLL_INTERVAL_S", 0)
    answers = [
        fixture("image_task_created.json"),
        fixture("image_task_running.json"),
        fixture("image_task_succeeded.json"),
        b"PNG-BYTES",
    ]
    seen = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, str(request.url), request.headers.get("authorization")))
        return httpx.Response(200, content=answers[len(seen) - 1])

    req = request({"model": "wanx-v1", "prompt": "cat"}, "images")
    upstream = adaptor(base_url="http://proxy.local").build_request(req, "wanx-v1")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        body = await images.run_image_task(client, upstream, response_format="b64_json")
    assert [s[:2] for s in seen] == [
        ("POST", "http://proxy.local/api/v1/services/aigc/text2image/image-synthesis"),
        ("GET", "http://proxy.local/api/v1/tasks/13b1848b-5493-4c0e-8c44-ca4aaaad5b1e"),
        ("GET", "http://proxy.local/api/v1/tasks/13b1848b-5493-4c0e-8c44-ca4aaaad5b1e"),
        ("GET", "https://dashscope-result-bj.oss-cn-beijing.aliyuncs.com/1d/a3/20240705/wanx_1.png"),
    ]
    assert all(s[2] == "Bearer sk-ali-test" for s in seen[:3])
    answer = json.loads(adaptor().parse_response(req, 200, body)[0])
    assert answer["data"][0]["b64_json"] == "UE5HLUJZVEVT"


async def test_run_image_task_raises_mapped_errors_and_times_out(monkeypatch):
    monkeypatch.setattr(images, "TASK_POLL_INTERVAL_S", 0)
    monkeypatch.setattr(images, "TASK_POLL_ATTEMPTS", 2)
    req = request({"model": "wanx-v1", "prompt": "cat"}, "images")
    upstream = adaptor().build_request(req, "wanx-v1")

    def arrears(request):
        return httpx.Response(400, content=fixture("error_arrearage.json"))

    async with httpx.AsyncClient(transport=httpx.MockTransport(arrears)) as client:
        with pytest.raises(RelayError) as caught:
            await images.run_image_task(client, upstream)
    assert caught.value.disable_channel and caught.value.code == "Arrearage"

    def forever(request):
        name = "image_task_created.json" if request.method == "POST" else "image_task_running.json"
        return httpx.Response(200, content=fixture(name))

    async with httpx.AsyncClient(transport=httpx.MockTransport(forever)) as client:
        with pytest.raises(RelayError) as caught:
            await images.run_image_task(client, upstream)
    assert caught.value.status == 504


def test_other_modes_are_refused():
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(request({"input": "x"}, "moderations"), "qwen-plus")
    assert caught.value.code == "unsupported_endpoint"
