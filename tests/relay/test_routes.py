"""Every /v1 route answers; unimplemented and unknown routes answer like the original (spec §2.1–2.2)."""

from __future__ import annotations

import pytest

CHAT_BODY = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]}
ALL_MODELS = (
    "gpt-3.5-turbo,gpt-3.5-turbo-instruct,text-embedding-3-small,text-moderation-stable,text-davinci-edit-001"
)


@pytest.fixture
def channel(relay):
    return relay.channel("routes-key", model_names=ALL_MODELS)


@pytest.mark.parametrize(
    "path,body,upstream_path",
    [
        ("/v1/chat/completions", CHAT_BODY, "/v1/chat/completions"),
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": "say hi"}, "/v1/completions"),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello"}, "/v1/embeddings"),
        # URL = base + original path, as in the original (spec §3.4).
        (
            "/v1/engines/text-embedding-3-small/embeddings",
            {"input": "hello"},
            "/v1/engines/text-embedding-3-small/embeddings",
        ),
        ("/v1/moderations", {"input": "hello"}, "/v1/moderations"),
        (
            "/v1/edits",
            {"model": "text-davinci-edit-001", "input": "helo", "instruction": "fix it"},
            "/v1/edits",
        ),
    ],
)
def test_relayed_route_reaches_the_upstream_and_answers_200(relay, channel, path, body, upstream_path):
    response = relay.post(path, body)
    assert response.status_code == 200, response.text
    sent = relay.upstream.requests_for("routes-key")
    assert [(r.method, r.path) for r in sent] == [("POST", upstream_path)]
    assert sent[0].headers["authorization"] == "Bearer routes-key"


def test_engine_embeddings_takes_the_model_from_the_url(relay, channel):
    relay.post("/v1/engines/text-embedding-3-small/embeddings", {"input": "hello"})
    relay.refresh()
    from logs_app.models import Log

    assert Log.objects.get().model_name == "text-embedding-3-small"


def test_moderations_default_model_is_text_moderation_stable(relay, channel):
    relay.post("/v1/moderations", {"input": "hello"})
    sent = relay.upstream.requests_for("routes-key")[0]
    # The body passes through untouched, and the route used the default model's channel.
    assert sent.body == {"input": "hello"}
    relay.refresh()
    from logs_app.models import Log

    assert Log.objects.get().model_name == "text-moderation-stable"


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/v1/files"),
        ("POST", "/v1/files"),
        ("GET", "/v1/files/file-abc"),
        ("DELETE", "/v1/files/file-abc"),
        ("GET", "/v1/files/file-abc/content"),
        ("POST", "/v1/assistants"),
        ("GET", "/v1/assistants/asst_1"),
        ("POST", "/v1/threads/thread_1/runs"),
        ("POST", "/v1/images/edits"),
        ("POST", "/v1/images/variations"),
        ("POST", "/v1/fine_tuning/jobs"),
        ("POST", "/v1/fine_tuning/jobs/ft-1/cancel"),
        ("DELETE", "/v1/models/gpt-3.5-turbo"),
    ],
)
def test_routes_the_original_lists_as_not_implemented_answer_501(relay, method, path):
    import httpx

    response = httpx.request(method, relay.url + path, headers={"Authorization": f"Bearer {relay.api_key}"})
    assert response.status_code == 501
    assert response.json() == {
        "error": {
            "message": "API not implemented",
            "type": "one_api_error",
            "param": "",
            "code": "api_not_implemented",
        }
    }


@pytest.mark.parametrize(
    "method,path", [("GET", "/v1/nope"), ("POST", "/v1/chat/nope"), ("PUT", "/v1/models")]
)
def test_unknown_v1_path_gets_the_original_404_shape(relay, method, path):
    import httpx

    response = httpx.request(method, relay.url + path, headers={"Authorization": f"Bearer {relay.api_key}"})
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "message": f"Invalid URL ({method} {path})",
            "type": "invalid_request_error",
            "param": "",
            "code": "",
        }
    }


def test_cors_preflight_is_answered_without_a_key(relay):
    import httpx

    response = httpx.options(
        relay.url + "/v1/chat/completions",
        headers={
            "Origin": "https://chat.example.com",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] in ("*", "authorization,content-type")
    assert relay.upstream.requests == []


def test_answers_carry_cors_and_request_id_headers(relay, channel):
    response = relay.post("/v1/chat/completions", CHAT_BODY, headers={"Origin": "https://chat.example.com"})
    assert response.headers["access-control-allow-origin"] == "*"
    request_id = response.headers["x-oneapi-request-id"]
    assert len(request_id) >= 20 and request_id.isdigit()


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("POST", "/v1/chat/completions", CHAT_BODY),
        ("POST", "/v1/chat/completions", {**CHAT_BODY, "stream": True}),
        ("POST", "/v1/embeddings", {"model": "text-embedding-3-small", "input": "x"}),
        ("POST", "/v1/chat/completions", {"model": "gpt-3.5-turbo"}),  # 400
        ("POST", "/v1/chat/completions", {**CHAT_BODY, "model": "no-such-model"}),  # 503
        ("GET", "/v1/models", None),
        ("GET", "/v1/models/gpt-3.5-turbo", None),
        ("GET", "/dashboard/billing/subscription", None),
        ("GET", "/v1/nope", None),  # 404
        ("GET", "/v1/files", None),  # 501
    ],
)
def test_every_relay_response_carries_the_overhead_header(relay, channel, method, path, body):
    import httpx

    headers = {"Authorization": f"Bearer {relay.api_key}"}
    response = httpx.request(method, relay.url + path, json=body, headers=headers, timeout=20)
    overhead = response.headers["x-oneapi-overhead-ms"]
    assert 0 <= float(overhead) < 10_000


def test_overhead_header_excludes_the_time_spent_waiting_on_the_upstream(relay, channel):
    relay.upstream.plan("routes-key", first_byte_delay=0.4)
    response = relay.post("/v1/chat/completions", CHAT_BODY)
    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.4
    assert float(response.headers["x-oneapi-overhead-ms"]) < 300


def test_unauthenticated_request_also_carries_the_overhead_header(relay):
    import httpx

    response = httpx.post(relay.url + "/v1/chat/completions", json=CHAT_BODY)
    assert response.status_code == 401
    assert float(response.headers["x-oneapi-overhead-ms"]) >= 0
