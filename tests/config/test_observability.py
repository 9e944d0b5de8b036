"""/metrics (token-protected Prometheus text), /healthz, /readyz, and the relay's metric hooks."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from prometheus_client import REGISTRY, generate_latest

from accounts.services import token_create, user_create
from channels_app.models import Channel, ChannelStatus
from channels_app.services import channel_save
from config.observability import observe_relay, relay_usage_record
from config.options import option_set
from config.settings import redis_caches
from tests.fakes.gateway import GatewayThread
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import ServerThread, free_port


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_off_without_a_token(client, db):
    assert client.get("/metrics").status_code == 404


def test_metrics_need_the_bearer_token(client, db):
    option_set("MetricsToken", "scrape-me")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    for family, kind in (
        ("oneapi_relay_requests_total", "counter"),
        ("oneapi_relay_errors_total", "counter"),
        ("oneapi_relay_request_duration_seconds", "histogram"),
        ("oneapi_relay_time_to_first_token_seconds", "histogram"),
        ("oneapi_relay_tokens_total", "counter"),
        ("oneapi_relay_quota_total", "counter"),
        ("oneapi_channel_status", "gauge"),
        ("oneapi_cache_hit_ratio", "gauge"),
        ("oneapi_cache_lookups_total", "counter"),
    ):
        assert f"# TYPE {family} {kind}" in body


def test_channel_status_is_exported(client, db):
    option_set("MetricsToken", "t")
    channel = channel_save(
        Channel(type=1, name="east", key="k", model_names="m", status=ChannelStatus.AUTO_DISABLED)
    )
    body = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t").content.decode()
    assert f'oneapi_channel_status{{channel="{channel.pk}",name="east",type="1"}} 3.0' in body


def test_healthz_and_readyz(client, db, settings):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    expected = {"database:default": "ok"} | ({"redis": "ok"} if settings.REDIS_CONN_STRING else {})
    assert ready.status_code == 200 and ready.json()["checks"] == expected


def test_readyz_fails_when_the_configured_redis_is_away(client, db, settings):
    dead = f"redis://127.0.0.1:{free_port()}/0"
    settings.REDIS_CONN_STRING = dead
    settings.CACHES = redis_caches(dead)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["checks"]["redis"].startswith("failed")


async def _app(scope, receive, send) -> None:
    stream = scope["path"].endswith("/stream")
    status = 429 if scope["path"].endswith("/limited") else 200
    content_type = b"text/event-stream" if stream else b"application/json"
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type)]}
    )
    if stream:
        await asyncio.sleep(0.01)
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
    await send({"type": "http.response.body", "body": b"{}"})


async def _call(path: str, app=_app) -> None:
    sent: list[dict] = []

    async def send(message):
        sent.append(message)

    await observe_relay(app, {"type": "http", "path": path}, None, send)
    assert sent  # the wrapped app's messages still reach the client


async def test_requests_errors_latency_and_ttft_are_recorded():
    before = {
        "ok": sample("oneapi_relay_requests_total", mode="chat", status="200"),
        "err": sample("oneapi_relay_errors_total", mode="embeddings", status="429"),
        "ttft": sample("oneapi_relay_time_to_first_token_seconds_count", mode="chat"),
        "lat": sample("oneapi_relay_request_duration_seconds_count", mode="chat"),
    }
    await _call("/v1/chat/completions")
    await _call("/v1/chat/completions/stream")
    await _call("/v1/embeddings/limited")
    assert sample("oneapi_relay_requests_total", mode="chat", status="200") == before["ok"] + 2
    assert sample("oneapi_relay_errors_total", mode="embeddings", status="429") == before["err"] + 1
    assert sample("oneapi_relay_time_to_first_token_seconds_count", mode="chat") == before["ttft"] + 1
    assert sample("oneapi_relay_request_duration_seconds_count", mode="chat") == before["lat"] + 2


async def test_a_request_that_never_answers_counts_as_499():
    async def cancelled(scope, receive, send):
        raise asyncio.CancelledError

    before = sample("oneapi_relay_requests_total", mode="chat", status="499")
    with pytest.raises(asyncio.CancelledError):
        await observe_relay(cancelled, {"type": "http", "path": "/v1/chat/completions"}, None, None)
    assert sample("oneapi_relay_requests_total", mode="chat", status="499") == before + 1


def test_usage_is_recorded_by_model_and_channel():
    before = sample("oneapi_relay_quota_total", model="metrics-model", channel="77")
    relay_usage_record("metrics-model", 77, 10, 20, 345)
    assert sample("oneapi_relay_quota_total", model="metrics-model", channel="77") == before + 345
    assert sample("oneapi_relay_tokens_total", model="metrics-model", channel="77", kind="completion") >= 20
    assert sample("oneapi_relay_billed_requests_total", model="metrics-model", channel="77") >= 1


async def test_the_request_hook_costs_under_50_microseconds():
    async def bare(scope, receive, send):
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})

    async def send(message):
        pass

    scope = {"type": "http", "path": "/v1/chat/completions"}
    rounds = 3000

    async def timed(call) -> float:
        started = time.perf_counter()
        for _ in range(rounds):
            await call()
        return (time.perf_counter() - started) / rounds

    plain = await timed(lambda: bare(scope, None, send))
    wrapped = await timed(lambda: observe_relay(bare, scope, None, send))
    print(f"\nmetrics hook: {(wrapped - plain) * 1e6:.1f} µs per request")
    assert wrapped - plain < 50e-6


def test_a_relayed_request_shows_up_in_the_metrics(transactional_db):
    upstream = FakeOpenAI()
    upstream_server = ServerThread(upstream).start()
    gateway = GatewayThread().start()
    try:
        user = user_create(username="metrics", password="metrics-password", quota=10_000_000)
        token = token_create(user=user, name="k", remain_quota=5_000_000)
        channel = channel_save(
            Channel(type=1, key="m-1", name="m", model_names="gpt-4o-mini", base_url=upstream_server.url)
        )
        upstream.plan("m-1", usage={"prompt_tokens": 7, "completion_tokens": 5, "total_tokens": 12})
        before = sample(
            "oneapi_relay_tokens_total", model="gpt-4o-mini", channel=str(channel.pk), kind="prompt"
        )
        with httpx.Client(base_url=gateway.url, timeout=20) as client:
            answer = client.post(
                "/v1/chat/completions",
                json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": f"Bearer sk-{token.key}"},
            )
            assert answer.status_code == 200
            deadline = time.monotonic() + 5
            while (
                sample(
                    "oneapi_relay_tokens_total", model="gpt-4o-mini", channel=str(channel.pk), kind="prompt"
                )
                == before
            ):
                assert time.monotonic() < deadline, "the settlement was not recorded"
                time.sleep(0.02)
        # Read in-process (the gateway thread shares this registry): a Django view served by the gateway would
        # open a database connection in a per-request thread that outlives this test.
        body = generate_latest(REGISTRY).decode()
        assert f'oneapi_relay_quota_total{{channel="{channel.pk}",model="gpt-4o-mini"}}' in body
        assert 'oneapi_cache_lookups_total{cache="keys",result="miss"}' in body
    finally:
        gateway.stop()
        upstream_server.stop()
