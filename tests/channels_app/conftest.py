"""Loopback fakes for channel tests and balances: an OpenAI-compatible upstream, a billing API, a pusher."""

from __future__ import annotations

import pytest

from channels_app.models import Channel
from channels_app.services import channel_save
from config.options import option_set
from tests.fakes.balance import FakeBilling
from tests.fakes.message_pusher import FakeMessagePusher
from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import ServerThread


@pytest.fixture(scope="session")
def _servers():
    fakes = {"upstream": FakeOpenAI(), "billing": FakeBilling(), "pusher": FakeMessagePusher()}
    servers = {name: ServerThread(app).start() for name, app in fakes.items()}
    for name, fake in fakes.items():
        fake.url = servers[name].url
    yield fakes
    for server in servers.values():
        server.stop()


@pytest.fixture
def upstream(_servers) -> FakeOpenAI:
    fake = _servers["upstream"]
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture
def billing(_servers) -> FakeBilling:
    fake = _servers["billing"]
    fake.reset()
    yield fake
    fake.reset()


@pytest.fixture
def pusher(_servers, db) -> FakeMessagePusher:
    """Root's notifications go to the fake Message Pusher."""
    fake = _servers["pusher"]
    fake.reset()
    option_set("MessagePusherAddress", fake.url + "/push/root")
    option_set("MessagePusherToken", fake.token)
    yield fake
    fake.reset()


@pytest.fixture
def make_channel(upstream):
    def make(key: str, **fields) -> Channel:
        fields.setdefault("type", 1)
        fields.setdefault("name", key)
        fields.setdefault("model_names", "gpt-4o-mini,gpt-3.5-turbo")
        fields.setdefault("base_url", upstream.url)
        return channel_save(Channel(key=key, **fields))

    return make
