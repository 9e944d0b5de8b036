"""GLOBAL_WEB_RATE_LIMIT: pages are limited per IP; /api has its own limits and static files none."""

from __future__ import annotations


def test_pages_answer_429_with_an_empty_body_past_the_limit(client, db, settings):
    settings.GLOBAL_WEB_RATE_LIMIT = 3
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/login")
    assert refused.status_code == 429 and refused.content == b""
    # another client address has its own window
    assert client.get("/login", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_api_and_static_are_not_counted_against_the_page_limit(client, db, settings):
    settings.GLOBAL_WEB_RATE_LIMIT = 1
    for _ in range(3):
        assert client.get("/api/status").status_code == 200
    assert client.get("/login").status_code == 200


def test_debug_switches_the_limit_off(client, db, settings):
    settings.GLOBAL_WEB_RATE_LIMIT = 1
    settings.DEBUG = True
    assert [client.get("/login").status_code for _ in range(3)] == [200, 200, 200]
