"""The openai SDK → the gateway → a fake Vertex AI (token endpoint + Gemini/Claude/embedding endpoints)."""

from __future__ import annotations

import json

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel
from config.options import option_set
from relay.providers import vertexai
from relay.services import channel_test, text_charge
from tests.fakes.server import ServerThread
from tests.fakes.vertexai import PROJECT, FakeVertex, service_account

GEMINI = "gemini-2.0-flash-001"
CLAUDE = "claude-3-5-haiku@20241022"


@pytest.fixture(scope="module")
def vertex_server():
    fake = FakeVertex()
    server = ServerThread(fake).start()
    fake.url = server.url
    yield fake, server
    server.stop()


@pytest.fixture
def vertex(relay, vertex_server):
    fake, server = vertex_server
    fake.reset()
    vertexai._tokens.clear()

    def channel(name: str, account: dict | None = None, **fields) -> Channel:
        config = {"region": "us-central1", "vertex_ai_project_id": PROJECT,
                  "vertex_ai_adc": json.dumps(account or service_account())}  # fmt: skip
        fields.setdefault("model_names", f"{GEMINI},{CLAUDE},text-embedding-004")
        return relay.channel("", name=name, type=42, base_url=server.url, config=json.dumps(config), **fields)

    fake.channel = channel
    yield fake
    fake.reset()
    vertexai._tokens.clear()


def test_a_gemini_chat_gets_a_token_once_and_bills_its_usage(relay, vertex):
    channel = vertex.channel("vertex-1")
    usage = {"promptTokenCount": 14, "candidatesTokenCount": 5, "totalTokenCount": 19}
    vertex.plan(GEMINI, text="Bonjour depuis Vertex.", usage=usage)
    for _ in range(2):
        answer = relay.client().chat.completions.create(
            model=GEMINI,
            messages=[{"role": "system", "content": "French."}, {"role": "user", "content": "Hi"}],
        )
        assert answer.choices[0].message.content == "Bonjour depuis Vertex."
        assert answer.choices[0].finish_reason == "stop"
    assert vertex.exchanges == 1  # the access token is cached
    sent = vertex.requests[0]
    assert (
        sent.path
        == f"/v1/projects/{PROJECT}/locations/us-central1/publishers/google/models/{GEMINI}:generateContent"
    )
    assert sent.body["systemInstruction"]["parts"] == [{"text": "French."}]
    relay.refresh()
    assert relay.user.used_quota == 2 * text_charge(GEMINI, channel, relay.user.group, Usage(14, 5)).quota > 0


def test_a_gemini_stream_arrives_in_pieces(relay, vertex):
    vertex.channel("vertex-2")
    vertex.plan(GEMINI, text="one two three")
    stream = relay.client().chat.completions.create(
        model=GEMINI,
        messages=[{"role": "user", "content": "count"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "one two three"
    assert chunks[-1].usage.total_tokens == 12


def test_claude_on_vertex_whole_and_streamed(relay, vertex):
    channel = vertex.channel("vertex-3")
    vertex.plan(CLAUDE).claude.text = "Claude via rawPredict."
    answer = relay.client().chat.completions.create(
        model=CLAUDE, messages=[{"role": "user", "content": "Hi"}], max_tokens=50
    )
    assert answer.choices[0].message.content == "Claude via rawPredict."
    sent = vertex.requests[0]
    assert sent.path.endswith(f"/publishers/anthropic/models/{CLAUDE}:rawPredict")
    assert sent.body == {
        "anthropic_version": "vertex-2023-10-16",
        "messages": [{"role": "user", "content": "Hi"}],
        "max_tokens": 50,
    }

    vertex.plan(CLAUDE).claude.text = "Claude via streamRawPredict."
    stream = relay.client().chat.completions.create(
        model=CLAUDE, messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Claude via streamRawPredict."
    assert vertex.requests[-1].path.endswith(":streamRawPredict")
    relay.refresh()
    per_call = text_charge(CLAUDE, channel, relay.user.group, Usage(20, 6)).quota
    assert relay.user.used_quota == 2 * per_call


def test_embeddings_go_through_predict(relay, vertex):
    vertex.channel("vertex-4")
    vertex.plan("text-embedding-004")
    result = relay.client().embeddings.create(model="text-embedding-004", input=["a b c", "d"])
    assert [d.embedding for d in result.data] == [[0.5, -0.5, 0.0], [0.5, -0.5, 1.0]]
    assert result.usage.prompt_tokens == 4


def test_a_service_account_google_rejects_disables_the_channel(relay, vertex):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    option_set("AutomaticDisableChannelEnabled", "true")
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    channel = vertex.channel("vertex-5", account={**service_account(), "private_key": other_key.decode()})
    vertex.plan(GEMINI)
    with pytest.raises(openai.AuthenticationError, match="token exchange failed"):
        relay.client().chat.completions.create(model=GEMINI, messages=[{"role": "user", "content": "Hi"}])
    assert vertex.requests == [] and vertex.exchanges == 0
    relay.refresh()
    channel.refresh_from_db()
    assert channel.status != 1 and relay.user.used_quota == 0


def test_google_errors_reach_the_client_with_their_status(relay, vertex):
    vertex.channel("vertex-6")
    error = {
        "error": {
            "code": 429,
            "message": "Quota exceeded for aiplatform.googleapis.com.",
            "status": "RESOURCE_EXHAUSTED",
        }
    }
    vertex.plan(GEMINI, status=429, error=error)
    with pytest.raises(openai.RateLimitError):
        relay.client().chat.completions.create(model=GEMINI, messages=[{"role": "user", "content": "Hi"}])


def test_the_channel_test_works_through_the_adaptor(relay, vertex):
    channel = vertex.channel("vertex-7", model_names=GEMINI)
    vertex.plan(GEMINI, text="pong")
    result = channel_test(channel)
    assert result.success, result.message
    assert vertex.exchanges == 1 and vertex.requests[0].body["generationConfig"]["maxOutputTokens"] == 64
