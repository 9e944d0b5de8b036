"""Per-IP limits: GLOBAL_API_RATE_LIMIT on every /api route, 20 per 20 minutes on the critical ones."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from config.ratelimit import GlobalWebThrottle, client_ip, parse_rate, rate_limited


def test_rates_name_any_period():
    assert parse_rate("480/180s") == (480, 180)
    assert parse_rate("20/1200s") == (20, 1200)
    assert parse_rate("5/m") == (5, 60)
    assert parse_rate("0/180s") == (None, None)
    with pytest.raises(ValueError):
        parse_rate("lots")


def test_login_is_limited_to_20_per_window_with_an_empty_429(api, alice):
    body = {"username": "alice", "password": "wrong-password"}
    for _ in range(20):
        assert api.post("/api/user/login", body).status_code == 200
    response = api.post("/api/user/login", body)
    assert response.status_code == 429 and response.content == b"" and int(response["Retry-After"]) > 0
    other_ip = api.client.post(
        "/api/user/login", data=body, content_type="application/json", REMOTE_ADDR="10.9.9.9"
    )
    assert other_ip.status_code == 200


def test_register_and_redeem_share_the_critical_window(api, alice):
    for _ in range(10):
        api.post("/api/user/register", {"username": "x"})
    for _ in range(10):
        api.post("/api/user/topup", {"key": "nope"}, user=alice)
    assert api.post("/api/user/topup", {"key": "nope"}, user=alice).status_code == 429
    assert api.get("/api/user/self", user=alice).status_code == 200  # not a critical route


@override_settings(GLOBAL_API_RATE_LIMIT=3)
def test_every_api_route_counts_against_the_global_limit_even_bad_tokens(api, alice):
    assert api.get("/api/user/self", authorization="guess-1").status_code == 200
    assert api.get("/api/user/self", authorization="guess-2").status_code == 200
    assert api.get("/api/token/", user=alice).status_code == 200
    assert api.get("/api/token/", user=alice).status_code == 429


@override_settings(GLOBAL_API_RATE_LIMIT=1, DEBUG=True)
def test_limits_are_off_in_debug_mode(api, alice):
    for _ in range(3):
        assert api.get("/api/user/self", user=alice).status_code == 200


@override_settings(GLOBAL_API_RATE_LIMIT=0)
def test_a_zero_limit_disables_the_limiter(api, alice):
    for _ in range(5):
        assert api.get("/api/user/self", user=alice).status_code == 200


@override_settings(TRUSTED_PROXIES=["127.0.0.1/32"])
def test_forwarded_for_is_believed_only_from_trusted_proxies():
    factory = RequestFactory()
    proxied = factory.get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
    spoofed = factory.get("/", REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(proxied) == "198.51.100.7"
    assert client_ip(spoofed) == "198.51.100.1"


@override_settings(GLOBAL_WEB_RATE_LIMIT=2)
def test_the_web_helper_limits_plain_django_views(db):
    @rate_limited(GlobalWebThrottle)
    def page(request):
        return HttpResponse("ok")

    factory = RequestFactory()
    statuses = [page(factory.get("/", REMOTE_ADDR="192.0.2.1")).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
