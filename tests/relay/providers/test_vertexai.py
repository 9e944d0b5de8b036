"""Vertex AI adaptor, pure: service-account token exchange, Gemini and Claude URLs/bodies, answers, errors."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import jwt
import orjson
import pytest

from relay.errors import RelayError
from relay.providers import vertexai
from relay.providers.base import StreamState
from relay.providers.vertexai import VertexAIAdaptor, vertex_claude_name
from relay.schemas import RelayRequest
from tests.fakes.vertexai import _KEY, CLIENT_EMAIL, service_account
from tests.relay.providers.builders import adaptor_for

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vertexai"
CONFIG = {
    "region": "us-central1",
    "vertex_ai_project_id": "proj-1",
    "vertex_ai_adc": json.dumps(service_account()),
}


@pytest.fixture(autouse=True)
def fresh_token_cache():
    vertexai._tokens.clear()
    yield
    vertexai._tokens.clear()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def adaptor(token: str = "ya29.test", **fields) -> VertexAIAdaptor:
    a = adaptor_for(VertexAIAdaptor, 42, **{"name": "vertex", "key": "", "config": CONFIG, **fields})
    a.access_token = token
    return a


def request(body: dict, mode: str = "chat") -> RelayRequest:
    path = "/v1/embeddings" if mode == "embeddings" else "/v1/chat/completions"
    return RelayRequest(mode=mode, path=path, model=body["model"], raw=orjson.dumps(body), body=body,
                        stream=bool(body.get("stream")))  # fmt: skip


def token_transport(
    seen: list[httpx.Request], status: int = 200, body: bytes | None = None
) -> httpx.MockTransport:
    def handle(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(status, content=body or fixture("token.json"))

    return httpx.MockTransport(handle)


async def test_prepare_trades_a_signed_assertion_for_a_token_and_caches_it():
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=token_transport(seen)) as client:
        first = adaptor(token="")
        await first.prepare(client)
        second = adaptor(token="")
        await second.prepare(client)
    assert first.access_token == second.access_token == "ya29.c.b0AXv0zTOfake"
    assert len(seen) == 1 and str(seen[0].url) == "https://oauth2.googleapis.com/token"
    form = {k: v[0] for k, v in parse_qs(seen[0].content.decode()).items()}
    assert form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    claims = jwt.decode(
        form["assertion"],
        _KEY.public_key(),
        algorithms=["RS256"],
        audience="https://oauth2.googleapis.com/token",
    )
    assert (
        claims["iss"] == CLIENT_EMAIL and claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    )
    assert claims["exp"] - claims["iat"] == 3600
    assert jwt.get_unverified_header(form["assertion"])["kid"] == "key-1"


async def test_the_token_exchange_follows_the_base_url_or_the_configured_token_url():
    seen: list[httpx.Request] = []
    async with httpx.AsyncClient(transport=token_transport(seen)) as client:
        await adaptor(token="", base_url="http://proxy.local/").prepare(client)
        await adaptor(token="", config={**CONFIG, "token_url": "http://sts.local/oauth/token"}).prepare(
            client
        )
    assert [str(r.url) for r in seen] == ["http://proxy.local/token", "http://sts.local/oauth/token"]


async def test_a_rejected_assertion_disables_the_channel():
    async with httpx.AsyncClient(transport=token_transport([], 400, fixture("token_error.json"))) as client:
        with pytest.raises(RelayError) as caught:
            await adaptor(token="").prepare(client)
    error = caught.value
    assert (error.status, error.disable_channel, error.retryable) == (401, True, True)
    assert "Invalid JWT Signature." in error.message


def test_a_channel_without_a_service_account_is_a_clear_error():
    with pytest.raises(RelayError, match="vertex_ai_adc"):
        adaptor(config={"region": "us-central1"}).service_account()


def test_gemini_models_use_generate_content_with_the_gemini_translation():
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "hi"}]
    body = {"model": "gemini-2.0-flash-001", "messages": messages, "max_tokens": 20}
    upstream = adaptor().build_request(request(body), "gemini-2.0-flash-001")
    assert upstream.url == ("https://us-central1-aiplatform.googleapis.com/v1/projects/proj-1/locations/us-central1"
                            "/publishers/google/models/gemini-2.0-flash-001:generateContent")  # fmt: skip
    assert upstream.headers["Authorization"] == "Bearer ya29.test"
    sent = json.loads(upstream.content)
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert sent["systemInstruction"]["parts"] == [{"text": "S"}]
    assert sent["generationConfig"]["maxOutputTokens"] == 20
    streamed = adaptor(config={**CONFIG, "region": "global"}).build_request(
        request({**body, "stream": True}), "gemini-2.5-pro"
    )
    assert streamed.url.startswith("https://aiplatform.googleapis.com/v1/projects/proj-1/locations/global/")
    assert streamed.url.endswith("/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse")


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet-v2@20241022"),
        ("claude-3-5-haiku-20241022", "claude-3-5-haiku@20241022"),
        ("claude-sonnet-4-20250514", "claude-sonnet-4@20250514"),
        ("claude-opus-4-1@20250805", "claude-opus-4-1@20250805"),
    ],
)
def test_claude_names_follow_vertex_conventions(model, expected):
    assert vertex_claude_name(model) == expected


def test_claude_models_use_raw_predict_with_the_vertex_anthropic_version():
    body = {
        "model": "claude-3-5-haiku-20241022",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
    }
    upstream = adaptor(base_url="http://proxy.local").build_request(request(body), body["model"])
    assert upstream.url == ("http://proxy.local/v1/projects/proj-1/locations/us-central1/publishers/anthropic"
                            "/models/claude-3-5-haiku@20241022:streamRawPredict")  # fmt: skip
    expected = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 4096, "stream": True,
                "messages": [{"role": "user", "content": "hi"}]}  # fmt: skip
    assert json.loads(upstream.content) == expected
    with pytest.raises(RelayError, match="Vertex AI Claude does not support n"):
        adaptor().build_request(request({**body, "n": 2}), body["model"])


def test_gemini_and_claude_answers_translate():
    a = adaptor()
    body, usage = a.parse_response(
        request({"model": "gemini-2.0-flash-001", "messages": []}), 200, fixture("gemini_chat.json")
    )
    choice = json.loads(body)["choices"][0]
    assert choice["message"]["content"] == "The sky is blue because of Rayleigh scattering."
    assert choice["finish_reason"] == "stop" and (usage.prompt_tokens, usage.completion_tokens) == (9, 10)
    claude = adaptor()
    claude.build_request(
        request({"model": "claude-3-5-haiku-20241022", "messages": [{"role": "user", "content": "x"}]}),
        "claude-3-5-haiku-20241022",
    )
    body, usage = claude.parse_response(
        request({"model": "claude-3-5-haiku-20241022", "messages": []}), 200, fixture("claude_chat.json")
    )
    choice = json.loads(body)["choices"][0]
    assert (
        choice["message"]["content"] == "Hello from Claude on Vertex." and choice["finish_reason"] == "length"
    )
    assert (usage.prompt_tokens, usage.completion_tokens) == (13, 64)


async def replay(a: VertexAIAdaptor, raw: bytes, state: StreamState) -> list[dict]:
    response = httpx.Response(200, content=raw, headers={"content-type": "text/event-stream"})
    chunks: list[dict] = []
    async for data in a.stream_events(response):
        chunks += [json.loads(c) for c in a.parse_stream_event(data, state)]
    return chunks


async def test_gemini_and_claude_streams_translate():
    a = adaptor()
    a.build_request(
        request(
            {"model": "gemini-2.0-flash-001", "messages": [{"role": "user", "content": "x"}], "stream": True}
        ),
        "gemini-2.0-flash-001",
    )
    state = StreamState(model="gemini-2.0-flash-001", hide_usage=True)
    chunks = await replay(a, fixture("gemini_stream.sse"), state)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "Rayleigh scattering."
    assert state.finished and (state.usage.prompt_tokens, state.usage.completion_tokens) == (9, 3)

    c = adaptor()
    c.build_request(
        request(
            {
                "model": "claude-3-5-haiku-20241022",
                "messages": [{"role": "user", "content": "x"}],
                "stream": True,
            }
        ),
        "claude-3-5-haiku-20241022",
    )
    state = StreamState(model="claude-3-5-haiku-20241022", hide_usage=True)
    chunks = await replay(c, fixture("claude_stream.sse"), state)
    assert "".join(ch["choices"][0]["delta"].get("content", "") for ch in chunks) == "Vertex"
    assert state.done and (state.usage.prompt_tokens, state.usage.completion_tokens) == (13, 2)


def test_embeddings_go_to_predict_and_come_back_with_token_counts():
    body = {
        "model": "text-embedding-004",
        "input": ["four words right here", "two words"],
        "encoding_format": "float",
    }
    upstream = adaptor().build_request(request(body, "embeddings"), "text-embedding-004")
    assert upstream.url.endswith("/publishers/google/models/text-embedding-004:predict")
    assert json.loads(upstream.content) == {
        "instances": [{"content": "four words right here"}, {"content": "two words"}]
    }
    answer, usage = adaptor().parse_response(request(body, "embeddings"), 200, fixture("embeddings.json"))
    answer = json.loads(answer)
    assert [d["embedding"] for d in answer["data"]] == [[0.0123, -0.0456, 0.0789], [0.1, 0.2, 0.3]]
    assert usage.prompt_tokens == 6 and answer["usage"]["prompt_tokens"] == 6


@pytest.mark.parametrize(
    ("status", "name", "expected"),
    [(403, "error_403.json", (403, True, True)), (429, "error_429.json", (429, True, False))],
)
def test_google_errors_carry_their_consequence(status, name, expected):
    error = adaptor().map_error(status, fixture(name))
    assert (error.status, error.retryable, error.disable_channel) == expected
    assert error.message == json.loads(fixture(name))["error"]["message"]


def test_claude_shaped_errors_use_the_anthropic_mapping():
    body = b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
    error = adaptor().map_error(529, body)
    assert (error.status, error.type, error.retryable) == (503, "overloaded_error", True)
