"""Replicate adaptor, pure: prediction inputs, finished predictions, the SSE stream, errors; polling with a
mock transport."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import orjson
import pytest

from relay.errors import RelayError
from relay.providers import replicate
from relay.providers.base import StreamState
from relay.providers.replicate import ReplicateAdaptor
from relay.schemas import RelayRequest
from tests.relay.providers.builders import adaptor_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "replicate"
LLAMA = "meta/meta-llama-3-8b-instruct"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def adaptor(**fields) -> ReplicateAdaptor:
    return adaptor_for(ReplicateAdaptor, 46, **{"name": "replicate", "key": "r8_test", **fields})


def request(body: dict, mode: str = "chat") -> RelayRequest:
    path = "/v1/images/generations" if mode == "images" else "/v1/chat/completions"
    return RelayRequest(mode=mode, path=path, model=body["model"], raw=orjson.dumps(body), body=body,
                        stream=bool(body.get("stream")))  # fmt: skip


def test_a_chat_becomes_a_prediction_with_a_prompt_and_system_prompt():
    messages = [{"role": "system", "content": "Be funny."}, {"role": "user", "content": "Tell me a joke"}]
    body = {
        "model": LLAMA,
        "max_tokens": 64,
        "temperature": 0.3,
        "stop": ["\n\n", "END"],
        "messages": messages,
    }
    upstream = adaptor().build_request(request(body), LLAMA)
    assert upstream.url == f"https://api.replicate.com/v1/models/{LLAMA}/predictions"
    assert upstream.headers["Authorization"] == "Bearer r8_test"
    expected = {"prompt": "Tell me a joke", "system_prompt": "Be funny.", "max_tokens": 64, "temperature": 0.3,
                "stop_sequences": "\n\n,END"}  # fmt: skip
    assert json.loads(upstream.content) == {"input": expected}


def test_a_conversation_is_flattened_into_one_prompt_and_the_base_url_is_followed():
    turns = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Joke?"},
    ]
    body = {"model": LLAMA, "stream": True, "messages": turns}
    upstream = adaptor(base_url="http://proxy.local/v1/models/").build_request(request(body), LLAMA)
    assert upstream.url == f"http://proxy.local/v1/models/{LLAMA}/predictions"
    assert json.loads(upstream.content) == {
        "input": {"prompt": "user: Hi\nassistant: Hello!\nuser: Joke?\nassistant:"},
        "stream": True,
    }


def test_an_image_request_becomes_an_image_prediction():
    body = {"model": "black-forest-labs/flux-schnell", "prompt": "a fox", "size": "1792x1024", "n": 2}
    upstream = adaptor().build_request(request(body, "images"), body["model"])
    assert json.loads(upstream.content) == {
        "input": {"prompt": "a fox", "aspect_ratio": "7:4", "num_outputs": 2}
    }


@pytest.mark.parametrize(
    ("field", "value"), [("tools", [{"type": "function", "function": {"name": "f"}}]), ("n", 2)]
)
def test_features_replicate_lacks_are_refused_by_name(field, value):
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}], field: value}
    with pytest.raises(RelayError) as caught:
        adaptor().build_request(request(body), LLAMA)
    assert (caught.value.status, caught.value.code, caught.value.param) == (
        400,
        "unsupported_parameter",
        field,
    )
    assert caught.value.message == f"Replicate does not support {field}"


def test_a_finished_prediction_becomes_a_chat_completion():
    body, usage = adaptor().parse_response(
        request({"model": LLAMA, "messages": []}), 200, fixture("prediction_succeeded.json")
    )
    answer = json.loads(body)
    assert answer["choices"][0]["message"]["content"] == "Why did the llama cross the road?"
    assert (
        answer["choices"][0]["finish_reason"] == "stop"
        and answer["id"] == "chatcmpl-gm3qorzdhgbfurvjtvhg6dckhu"
    )
    assert (usage.prompt_tokens, usage.completion_tokens) == (14, 8)


def test_image_predictions_become_image_urls_and_failures_become_errors():
    req = request({"model": "black-forest-labs/flux-schnell", "prompt": "fox"}, "images")
    body, usage = adaptor().parse_response(req, 200, fixture("image_succeeded.json"))
    assert [d["url"] for d in json.loads(body)["data"]] == [
        "https://replicate.delivery/xezq/abc/out-0.webp", "https://replicate.delivery/xezq/abc/out-1.webp"]  # fmt: skip
    with pytest.raises(RelayError, match="NSFW content detected") as caught:
        adaptor().parse_response(req, 200, fixture("prediction_failed.json"))
    assert caught.value.code == "prediction_failed"
    with pytest.raises(RelayError, match="not finished"):
        adaptor().parse_response(req, 200, fixture("prediction_created.json"))


async def test_follow_up_polls_the_prediction_on_the_channels_base_url(monkeypatch):
    monkeypatch.setattr(replicate, "POLL_INTERVAL_S", 0)
    polls: list[str] = []
    answers = [fixture("prediction_created.json"), fixture("prediction_succeeded.json")]

    def handle(req: httpx.Request) -> httpx.Response:
        polls.append(str(req.url))
        assert req.headers["authorization"] == "Bearer r8_test"
        return httpx.Response(200, content=answers.pop(0))

    created = httpx.Response(201, content=fixture("prediction_created.json"))
    a = adaptor(base_url="http://proxy.local")
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        final = await a.follow_up(client, request({"model": LLAMA, "messages": []}), created)
    assert polls == ["http://proxy.local/v1/predictions/gm3qorzdhgbfurvjtvhg6dckhu"] * 2
    assert final.status_code == 200 and json.loads(final.content)["status"] == "succeeded"


async def test_follow_up_opens_the_stream_url_when_streaming(monkeypatch):
    seen: list[httpx.Request] = []

    def handle(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(
            200, content=fixture("stream.sse"), headers={"content-type": "text/event-stream"}
        )

    created = httpx.Response(201, content=fixture("prediction_created.json"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        opened = await adaptor().follow_up(
            client, request({"model": LLAMA, "messages": [], "stream": True}), created
        )
        await opened.aread()
    assert str(seen[0].url).startswith(
        "https://stream.replicate.com/v1/files/bcwr-"
    )  # default base: as given
    assert seen[0].headers["accept"] == "text/event-stream"


async def replay(raw: bytes, state: StreamState) -> list[dict]:
    a = adaptor()
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    chunks: list[dict] = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
        if state.error or state.done:
            break
    return chunks


async def test_the_sse_stream_translates_output_and_done():
    state = StreamState(model=LLAMA)
    chunks = await replay(fixture("stream.sse"), state)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Why did the llama\ncross?"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop" and state.done and state.error is None


async def test_an_error_event_ends_the_stream_with_the_models_message():
    state = StreamState(model=LLAMA)
    chunks = await replay(fixture("stream_error.sse"), state)
    assert chunks[0]["choices"][0]["delta"] == {"content": "Once"}
    assert state.error.message == "CUDA out of memory" and not state.done


async def test_a_finished_prediction_replays_as_one_final_chunk_without_a_stream_url():
    state = StreamState(model=LLAMA)
    prediction = json.loads(fixture("prediction_succeeded.json"))
    chunks = await replay(replicate.replay_sse(prediction), state)
    assert chunks[0]["choices"][0]["delta"]["content"] == "Why did the llama cross the road?" and state.done


@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [
        (401, "error_401.json", (401, True, True)),
        (402, "error_402.json", (402, True, True)),
        (422, "error_422.json", (400, False, False)),
        (429, "error_429.json", (429, True, False)),
    ],
)
def test_errors_carry_their_consequence(status, name, expected):
    error = adaptor().map_error(status, fixture(name))
    assert (error.status, error.retryable, error.disable_channel) == expected
    assert error.message == json.loads(fixture(name))["detail"]
