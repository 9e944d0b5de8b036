"""Real HTTP on loopback: a fake upstream and the gateway itself, each served by uvicorn in a thread."""

from __future__ import annotations

from dataclasses import dataclass

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
def gateway_server():
    from config.asgi import application

    server = ServerThread(application, lifespan="on").start()
    yield server
    server.stop()


@dataclass
class Relay:
    url: str
    user: User
    token: Token
    upstream: FakeOpenAI

    @property
    def api_key(self) -> str:
        return f"sk-{self.token.key}"

    def client(self, key: str | None = None) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.url}/v1", api_key=key or self.api_key, max_retries=0, timeout=20)

    def async_client(self, key: str | None = None) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=f"{self.url}/v1", api_key=key or self.api_key, max_retries=0, timeout=20)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {self.api_key}"}, timeout=20)

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


@pytest.fixture
def relay(transactional_db, gateway_server, fake_upstream) -> Relay:
    cache_versions.bump(cache_versions.AUTH)
    cache_versions.bump(cache_versions.CHANNELS)
    user = user_create(username="alice", password="alice-password", quota=10_000_000)
    token = token_create(user=user, name="alice-key", remain_quota=5_000_000)
    yield Relay(gateway_server.url, user, token, fake_upstream)
    consume_logs_flush()
