"""The OpenAPI schema is generated from the views, matches the routes, and shows nothing to anonymous callers."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import SchemaGenerator

from channels_app.models import Channel
from channels_app.services import channel_save
from redeem.models import Redemption

# Plain Django views under /api: the foundation's public documents and the console's sign-in flows.
NON_DRF_API_ROUTES = {"/api/status", "/api/notice", "/api/about", "/api/home_page_content"}
CONSOLE_FLOW_PREFIXES = ("/api/oauth/", "/api/verification", "/api/reset_password", "/api/user/reset")
SCHEMA_ROUTES = {"/api/schema/", "/api/schema/docs/"}
PUBLIC_SUCCESS = {("/api/user/logout", "get")}


def _walk(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield "/" + prefix + str(entry.pattern), entry.callback


def _openapi_path(route: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_paths_are_exactly_the_registered_api_routes(db):
    drf_routes, other_routes = set(), set()
    for route, callback in _walk(get_resolver().url_patterns):
        route = _openapi_path(route)
        if not route.startswith("/api/") or getattr(callback, "slash_alias", False) or route in SCHEMA_ROUTES:
            continue
        (drf_routes if hasattr(callback, "cls") else other_routes).add(route)
    assert set(_schema()["paths"]) == drf_routes
    unexpected = {r for r in other_routes - NON_DRF_API_ROUTES if not r.startswith(CONSOLE_FLOW_PREFIXES)}
    assert not unexpected, f"non-DRF /api routes missing from the schema: {unexpected}"


def test_every_route_has_its_slash_twin(db):
    routes = {_openapi_path(route) for route, _ in _walk(get_resolver().url_patterns)}
    for path in _schema()["paths"]:
        twin = path[:-1] if path.endswith("/") else path + "/"
        assert twin in routes, path


def test_schema_is_served_as_json_and_yaml_with_a_docs_page(client, db):
    as_json = client.get("/api/schema/?format=json")
    assert as_json.status_code == 200 and "/api/channel/{id}/key" in as_json.json()["paths"]
    as_yaml = client.get("/api/schema/")
    assert as_yaml.status_code == 200 and b"openapi: 3" in as_yaml.content
    docs = client.get("/api/schema/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    assert b"drf_spectacular_sidecar" in docs.content  # assets served locally, no CDN


def test_operations_have_request_and_response_shapes(db):
    schema = _schema()
    token_post = schema["paths"]["/api/token/"]["post"]
    assert "requestBody" in token_post
    body = token_post["responses"]["200"]["content"]["application/json"]["schema"]
    assert "$ref" in body or "properties" in body
    assert {"session", "accessToken"} <= set(schema["components"]["securitySchemes"])


@pytest.fixture
def world(root, alice, alice_token):
    channel = channel_save(Channel(name="c", type=1, key="sk-channel-secret", model_names="gpt-4o"))
    code = Redemption.objects.create(key="f" * 32, name="code", quota=5)
    return {
        "user": alice.pk,
        "channel": channel.pk,
        "token": alice_token.pk,
        "code": code.pk,
        "secrets": [alice.access_token, root.access_token, alice_token.key, "sk-channel-secret", code.key],
    }


def test_anonymous_callers_get_nothing_from_any_operation(client, world):
    ids = {
        "/api/user/": world["user"],
        "/api/channel/": world["channel"],
        "/api/token/": world["token"],
        "/api/redemption/": world["code"],
    }
    for path, operations in _schema()["paths"].items():
        for method in operations:
            concrete = path
            if "{id}" in path:
                base = next(b for b in ids if path.startswith(b.rstrip("/")) or path.startswith(b))
                concrete = path.replace("{id}", str(ids[base]))
            kwargs = (
                {"data": json.dumps({}), "content_type": "application/json"}
                if method in ("post", "put")
                else {}
            )
            response = getattr(client, method)(concrete, **kwargs)
            assert response.status_code in (200, 401), (method, concrete, response.status_code)
            text = response.content.decode()
            assert not any(secret in text for secret in world["secrets"]), (method, concrete)
            if response.status_code == 200:
                body = response.json()
                assert body.get("success") is not True or (path, method) in PUBLIC_SUCCESS, (method, concrete)
                assert body.get("data") in (None, [], {}), (method, concrete)
