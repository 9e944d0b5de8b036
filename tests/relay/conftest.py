"""Real HTTP on loopback: a fake upstream and the gateway itself, each served by uvicorn in a thread."""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import openai
import pytest

from accounts.models import Token, User
from accounts.services import token_create, user_create
from channels_app.models import Channel
from channels_app.services import channel_save
from config import cache_versions
from logs_app.consume import consume_logs_flush
from relay.http_io import InFlight
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import ServerThread


@pytest.fixture(scope="session")
def fake_upstream_server():
    fake = FakeOpenAI()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def fake_upstream(fake_upstream_server):
    fake, server = fake_upstream_server
    fake.reset()
    fake.url = server.url
    yield fake
    fake.reset()


@pytest.fixture(scope="session")
def gateway_server(django_db_blocker):
    from config.asgi import application

    server = ServerThread(application, lifespan="on")
    # As under daphne (production): the gateway itself decides which X-Forwarded-For to trust.
    server.server.config.proxy_headers = False
    server.start()
    yield server
    _close_gateway_connections(server)
    server.stop()
    with django_db_blocker.unblock():
        _end_other_sessions()


def _close_gateway_connections(server: ServerThread) -> None:
    """Close the database connections the gateway's worker threads hold, so the test database can be dropped
    (PostgreSQL refuses while sessions are open) and no connection is garbage-collected still open."""
    import asyncio
    import time

    from django.db import connections

    def close() -> None:
        time.sleep(0.05)  # keep this worker busy so the next call lands on another one
        connections.close_all()

    async def close_everywhere() -> None:
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(None, close) for _ in range(64)))  # ≥ 2 per worker

    loop = server.server.servers[0].get_loop()
    asyncio.run_coroutine_threadsafe(close_everywhere(), loop).result(timeout=30)


def _end_other_sessions() -> None:
    """End the sessions background threads still hold (the log writer's, the batch flusher's)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        sql = (
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql)
    elif connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
            )
            for (session_id,) in cursor.fetchall():
                try:
                    cursor.execute(f"KILL {int(session_id)}")
                except Exception:  # it ended meanwhile
                    pass


@dataclass
class Relay:
    url: str
    user: User
    token: Token
    upstream: FakeOpenAI
    _raw: httpx.Client | None = field(default=None, repr=False)

    @property
    def api_key(self) -> str:
        return f"sk-{self.token.key}"

    def client(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(
            base_url=f"{self.url}/v1", api_key=key or self.api_key, max_retries=0, timeout=20
        )

    def async_client(self, key: str | None = None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(
            base_url=f"{self.url}/v1", api_key=key or self.api_key, max_retries=0, timeout=20
        )

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=20
        )

    def channel(self, key: str, **fields) -> Channel:
        fields.setdefault("type", 1)
        fields.setdefault("name", key)
        fields.setdefault("model_names", "gpt-4o-mini,gpt-3.5-turbo,text-embedding-3-small")
        fields.setdefault("base_url", self.upstream.url)
        channel = channel_save(Channel(key=key, **fields))
        return channel

    def refresh(self) -> None:
        assert InFlight.wait_idle_blocking(), "relay requests still running"
        consume_logs_flush()
        self.user.refresh_from_db()
        self.token.refresh_from_db()

    # --- helpers added for the relay test matrix (tests/relay/test_*.py) ---

    def post(
        self,
        path: str,
        body: object = None,
        *,
        key: str | None = None,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """A raw POST (for malformed input and exact header checks); ``body`` is sent as JSON."""
        sent = {"Authorization": f"Bearer {key or self.api_key}", **(headers or {})}
        if content is not None:
            return self.raw.post(path, content=content, headers=sent)
        return self.raw.post(path, json=body, headers=sent)

    def get(
        self, path: str, *, key: str | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {key or self.api_key}", **(headers or {})}
        return self.raw.get(path, headers=sent)

    @property
    def raw(self) -> httpx.Client:
        """One keep-alive connection for the raw helpers (a new TCP connection per request is slow)."""
        if self._raw is None:
            self._raw = httpx.Client(base_url=self.url, timeout=20)
        return self._raw

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()

    def chat(self, model: str = "gpt-3.5-turbo", content: str = "hi", **fields) -> httpx.Response:
        """A raw non-stream chat completion; extra keyword fields go into the body."""
        key = fields.pop("key", None)
        headers = fields.pop("headers", None)
        body = {"model": model, "messages": [{"role": "user", "content": content}], **fields}
        return self.post("/v1/chat/completions", body, key=key, headers=headers)

    def make_token(self, user: User | None = None, *, status: int | None = None, **fields) -> Token:
        fields.setdefault("name", "extra-key")
        fields.setdefault("remain_quota", 5_000_000)
        token = token_create(user=user or self.user, **fields)
        if status is not None:
            token.status = status
            token.save()
        return token

    def balances(self) -> tuple[int, int]:
        """(user quota, key remain quota) once every request has settled."""
        self.refresh()
        return self.user.quota, self.token.remain_quota


@pytest.fixture
def relay(transactional_db, gateway_server, fake_upstream) -> Relay:
    cache_versions.bump(cache_versions.AUTH)
    cache_versions.bump(cache_versions.CHANNELS)
    user = user_create(username="alice", password="alice-password", quota=10_000_000)
    token = token_create(user=user, name="alice-key", remain_quota=5_000_000)
    relay = Relay(gateway_server.url, user, token, fake_upstream)
    yield relay
    relay.close()
    # Let requests still settling finish before the tables are emptied, so nothing leaks into the next test.
    InFlight.wait_idle_blocking()
    consume_logs_flush()


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL nothing listens on: connecting is refused."""
    from tests.fakes.server import free_port

    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def hangup_url():
    """A loopback server that reads the request and closes the connection without answering."""
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    hits: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    hits.append(conn.recv(65536))
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    yield url, hits
    listener.close()
    thread.join(timeout=5)


@pytest.fixture
def fresh_upstream_client(gateway_server, monkeypatch):
    """Make the gateway build a new pooled upstream client (it reads RELAY_TIMEOUT/RELAY_PROXY when it does);
    set the settings first, then send requests. The client is closed on the gateway's loop afterwards."""
    import asyncio

    from relay import http as relay_http

    monkeypatch.setattr(relay_http, "_clients", {})
    monkeypatch.setattr(relay_http, "_sessions", {})
    yield
    loop = gateway_server.server.servers[0].get_loop()
    asyncio.run_coroutine_threadsafe(relay_http.upstream_clients_close(), loop).result(timeout=10)
