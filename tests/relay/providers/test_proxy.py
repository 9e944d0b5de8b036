"""Proxy channel, pure: which headers go upstream, the URL, the raw channel key, who may use it."""

from __future__ import annotations

import pytest

from accounts.models import Role
from channels_app.routing import ChannelSnapshot
from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.providers.proxy import ProxyAdaptor, check_caller, proxy_request
from relay.schemas import RelayRequest
from relay.urls import resolve
from relay.views import oneapi_proxy


def test_the_request_keeps_the_callers_headers_but_not_its_key_and_hop_headers():
    up = proxy_request(
        key="sk-upstream-raw",
        base_url="https://api.example.com/",
        method="POST",
        path="/v1/files",
        query="purpose=fine-tune",
        headers={
            "host": "gateway",
            "content-length": "3",
            "accept-encoding": "gzip",
            "connection": "keep-alive",
            "authorization": "Bearer sk-caller",
            "content-type": "application/json",
            "x-custom": "1",
            "content-encoding": "gzip",
        },
        body=b"{}",
    )
    assert (up.method, up.url, up.content) == (
        "POST",
        "https://api.example.com/v1/files?purpose=fine-tune",
        b"{}",
    )
    assert up.headers == {
        "content-type": "application/json",
        "x-custom": "1",
        "Authorization": "sk-upstream-raw",
        "Accept-Encoding": "identity",
    }


def test_paths_join_the_base_and_a_channel_without_base_is_refused():
    common = dict(key="k", method="GET", query="", headers={}, body=b"")
    assert proxy_request(base_url="http://up", path="", **common).url == "http://up"
    assert proxy_request(base_url="http://up/api", path="/x/y", **common).url == "http://up/api/x/y"
    with pytest.raises(RelayError) as caught:
        proxy_request(base_url="", path="/x", **common)
    assert caught.value.status == 400


def test_only_admins_may_proxy():
    check_caller(Role.ADMIN)
    check_caller(Role.ROOT)
    with pytest.raises(RelayError) as caught:
        check_caller(Role.COMMON)
    assert caught.value.status == 403


def test_the_route_matches_any_method_and_the_adaptor_refuses_relay_modes():
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"):
        assert resolve(method, "/v1/oneapi/proxy/7/v1/files/abc") == (
            oneapi_proxy,
            {"channel_id": "7", "path": "/v1/files/abc"},
        )
    assert resolve("GET", "/v1/oneapi/proxy/7") == (oneapi_proxy, {"channel_id": "7", "path": None})
    assert resolve("GET", "/v1/oneapi/proxy/x/y")[0] is None
    channel = ChannelSnapshot(
        id=1,
        type=43,
        name="p",
        key="k",
        status=1,
        base_url="http://up",
        weight=0,
        priority=0,
        models=(),
        groups=(),
    )
    req = RelayRequest(mode="chat", path="/v1/chat/completions", model="m", raw=b"{}", body={})
    with pytest.raises(RelayError) as caught:
        ProxyAdaptor(channel, channel_type_info(43)).build_request(req, "m")
    assert caught.value.code == "unsupported_endpoint"
