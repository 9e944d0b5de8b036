"""Proxy channel end to end: an admin's key → /v1/oneapi/proxy/<id>/... → the channel's upstream, untouched."""

from __future__ import annotations

import httpx
import pytest

from accounts.models import Role
from accounts.services import token_create, user_create
from channels_app.models import ChannelStatus
from logs_app.models import Log
from tests.fakes.native import fixture
from tests.fakes.proxy import FakeProxied
from tests.fakes.server import ServerThread

UPSTREAM_KEY = "sk-proxied-upstream-key"


@pytest.fixture(scope="module")
def proxied_server():
    fake = FakeProxied()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def proxied(proxied_server):
    fake, server = proxied_server
    fake.reset()
    fake.url = server.url
    yield fake


@pytest.fixture
def admin_key(relay) -> str:
    admin = user_create(username="admin", password="admin-password", role=Role.ADMIN, quota=1000)
    return "sk-" + token_create(user=admin, name="admin-key", remain_quota=1000).key


def call(relay, key: str, method: str, path: str, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}", **kwargs.pop("headers", {})}
    return httpx.request(method, f"{relay.url}{path}", headers=headers, timeout=20, **kwargs)


def test_an_admin_key_reaches_the_upstream_with_the_channel_key(relay, proxied, admin_key):
    channel = relay.channel(UPSTREAM_KEY, type=43, base_url=proxied.url + "/base", model_names="")
    response = call(
        relay,
        admin_key,
        "POST",
        f"/v1/oneapi/proxy/{channel.id}/v1/files?purpose=fine-tune",
        headers={"X-Custom": "kept", "Content-Type": "application/json"},
        content=b'{"a":1}',
    )
    assert response.status_code == 201 and response.content == fixture("proxy", "files_list.json")
    assert response.headers["x-upstream"] == "fake-files"
    sent = proxied.requests[0]
    assert (sent.method, sent.path, sent.query, sent.raw) == (
        "POST",
        "/base/v1/files",
        "purpose=fine-tune",
        b'{"a":1}',
    )
    assert sent.headers["authorization"] == UPSTREAM_KEY  # raw, no "Bearer"
    assert sent.headers["x-custom"] == "kept" and sent.headers["accept-encoding"] == "identity"
    relay.refresh()
    assert relay.user.used_quota == 0 and Log.objects.count() == 0  # no billing, no log


def test_answers_stream_back_as_they_come_and_encodings_pass_untouched(relay, proxied, admin_key):
    channel = relay.channel(UPSTREAM_KEY, type=43, base_url=proxied.url, model_names="")
    with httpx.stream(
        "GET",
        f"{relay.url}/v1/oneapi/proxy/{channel.id}/stream",
        timeout=20,
        headers={"Authorization": f"Bearer {admin_key}"},
    ) as response:
        pieces = list(response.iter_raw())
    assert b"".join(pieces) == b"event 0\nevent 1\nevent 2\n" and len(pieces) >= 2
    response = call(relay, admin_key, "GET", f"/v1/oneapi/proxy/{channel.id}/gzip")
    assert response.headers["content-encoding"] == "gzip" and response.text == "compressed hello"


def test_common_users_other_channel_types_and_disabled_channels_are_refused(relay, proxied, admin_key):
    channel = relay.channel(UPSTREAM_KEY, type=43, base_url=proxied.url, model_names="")
    assert call(relay, relay.api_key, "GET", f"/v1/oneapi/proxy/{channel.id}/x").status_code == 403
    openai_channel = relay.channel("sk-openai", type=1)
    assert call(relay, admin_key, "GET", f"/v1/oneapi/proxy/{openai_channel.id}/x").status_code == 404
    assert call(relay, admin_key, "GET", "/v1/oneapi/proxy/999999/x").status_code == 404
    from channels_app.services import channel_status_set

    channel_status_set(channel, ChannelStatus.MANUALLY_DISABLED)
    assert call(relay, admin_key, "GET", f"/v1/oneapi/proxy/{channel.id}/x").status_code == 403
    assert call(relay, "sk-not-a-key", "GET", f"/v1/oneapi/proxy/{channel.id}/x").status_code == 401
    assert proxied.requests == []
