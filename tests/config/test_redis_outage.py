"""Redis going away mid-run: the gateway keeps serving from the database, logs it once, rebuilds after.

Needs ``redis-server`` (a throw-away one on another port is stopped and started again); CI installs it.
"""

from __future__ import annotations

import logging
import time

import httpx
import pytest
from django.core.cache import cache
from django.db import connection

from accounts.services import token_create, user_create
from channels_app.models import Channel
from channels_app.services import channel_save
from config import cache_versions
from config.settings import redis_caches
from tests.fakes.gateway import GatewayThread
from tests.fakes.openai import FakeOpenAI
from tests.fakes.redis_server import REDIS_SERVER, ThrowawayRedis
from tests.fakes.server import ServerThread

if REDIS_SERVER is None:
    print(
        "\ntests/config/test_redis_outage.py skipped: redis-server is not installed (apt-get install redis-server)"
    )
pytestmark = [
    pytest.mark.db_heavy,
    pytest.mark.skipif(
        REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
    ),
]


@pytest.fixture
def throwaway_redis(settings, monkeypatch):
    server = ThrowawayRedis().start()
    settings.CACHES = redis_caches(server.url)  # the cache handler is rebuilt for the new setting
    monkeypatch.setattr(cache_versions, "RETRY_AFTER_S", 0.2)
    monkeypatch.setattr(cache_versions, "_health", cache_versions._Health())
    yield server
    server.stop()
    server.forget_pools()


def _outage_messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "shared cache" in r.getMessage()]


class _Collect(logging.Handler):
    """Records of one logger (uvicorn reconfigures logging when a test server starts, so caplog may miss them)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_versions_fall_back_to_reloading_and_log_the_outage_once(throwaway_redis, caplog):
    loads: list[int] = []
    snapshot = cache_versions.VersionedSnapshot(
        "outage-test", lambda: loads.append(1) or len(loads), max_age=600, check_every=0
    )
    assert snapshot.get() == 1 and snapshot.get() == 1  # stable while nobody bumps
    with throwaway_redis.client() as other_node:
        other_node.incr("oneapi:1:version:outage-test")  # KEY_PREFIX:version:key
    assert snapshot.get() == 2  # another node's bump
    with caplog.at_level(logging.WARNING):
        throwaway_redis.stop()
        values = [snapshot.get() for _ in range(20)]
        assert values == list(range(3, 23))  # every check reloads from the database
        assert cache.get("anything") is None  # the Django cache degrades instead of raising
        throwaway_redis.start()
        time.sleep(0.3)
        reloaded = snapshot.get()
        assert snapshot.get() == reloaded  # stable again: the shared version is back
    messages = _outage_messages(caplog)
    assert len(messages) == 2 and "unreachable" in messages[0] and "reachable again" in messages[1]


def test_django_cache_errors_are_logged_once(throwaway_redis, caplog):
    throwaway_redis.stop()
    with caplog.at_level(logging.ERROR, logger="one_api.shared_cache"):
        for _ in range(10):
            assert cache.get("x") is None
            cache.set("x", 1)
    assert len([r for r in caplog.records if r.name == "one_api.shared_cache"]) <= 1


def _wait_until(condition, timeout: float = 3.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)
    return time.monotonic() - started


def test_the_gateway_serves_from_the_database_while_redis_is_away(throwaway_redis, transactional_db):
    upstream = FakeOpenAI()
    upstream_server = ServerThread(upstream).start()
    gateway = GatewayThread().start()
    try:
        user = user_create(username="outage", password="outage-password", quota=10_000_000)
        token = token_create(user=user, name="k", remain_quota=5_000_000)
        first = channel_save(
            Channel(type=1, key="ch-1", name="one", model_names="gpt-4o-mini", base_url=upstream_server.url)
        )
        channel_save(
            Channel(type=1, key="ch-2", name="two", model_names="gpt-4o-mini", base_url=upstream_server.url)
        )
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        headers = {"Authorization": f"Bearer sk-{token.key}"}
        with httpx.Client(base_url=gateway.url, headers=headers, timeout=20) as client:

            def chat() -> httpx.Response:
                return client.post("/v1/chat/completions", json=body)

            assert chat().status_code == 200
            collected = _Collect()
            logger = logging.getLogger("config.cache_versions")
            level = logger.level
            logger.setLevel(logging.WARNING)  # whatever other tests left the root logger at
            logger.addHandler(collected)
            try:
                throwaway_redis.stop()
                assert all(chat().status_code == 200 for _ in range(10))
                # Another node disables channel one and deletes the key: no signal reaches this process.
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE abilities SET enabled = %s WHERE channel_id = %s", [False, first.pk]
                    )
                    cursor.execute("UPDATE channels SET status = 2 WHERE id = %s", [first.pk])
                upstream.requests.clear()

                def only_channel_two() -> bool:
                    chat()
                    return (
                        upstream.requests
                        and all(r.headers["authorization"] == "Bearer ch-2" for r in upstream.requests[-3:])
                        and len(upstream.requests) >= 3
                    )

                assert _wait_until(only_channel_two) < 3
                with connection.cursor() as cursor:
                    cursor.execute("DELETE FROM tokens WHERE id = %s", [token.pk])
                assert _wait_until(lambda: chat().status_code == 401) < 2.5
                throwaway_redis.start()
                time.sleep(1.2)
                assert chat().status_code == 401
            finally:
                logger.removeHandler(collected)
                logger.setLevel(level)
            assert len([m for m in collected.messages if "unreachable" in m]) == 1  # once, not per request
            assert len([m for m in collected.messages if "reachable again" in m]) == 1
    finally:
        gateway.stop()
        upstream_server.stop()
