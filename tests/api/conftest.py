"""Helpers for the management API tests: an ``api`` caller and an ``admin`` (role 10) beside the cast."""

from __future__ import annotations

import json

import pytest

from accounts.models import Role, User
from accounts.services import user_create


class Api:
    """Calls ``/api`` routes the way scripts do: JSON bodies, the access token in ``Authorization``."""

    def __init__(self, client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        data=None,
        *,
        user: User | None = None,
        bearer: bool = False,
        authorization: str | None = None,
        raw: str | None = None,
    ):
        headers = {}
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = ("Bearer " if bearer else "") + user.access_token
        if authorization is not None:
            headers["HTTP_AUTHORIZATION"] = authorization
        kwargs = {}
        if raw is not None:
            kwargs = {"data": raw, "content_type": "application/json"}
        elif data is not None:
            kwargs = {"data": json.dumps(data), "content_type": "application/json"}
        return getattr(self.client, method.lower())(path, **kwargs, **headers)

    def get(self, path: str, **kw):
        return self.call("GET", path, **kw)

    def post(self, path: str, data=None, **kw):
        return self.call("POST", path, data, **kw)

    def put(self, path: str, data=None, **kw):
        return self.call("PUT", path, data, **kw)

    def delete(self, path: str, **kw):
        return self.call("DELETE", path, **kw)


@pytest.fixture
def api(client) -> Api:
    return Api(client)


@pytest.fixture
def admin(db) -> User:
    return user_create(username="admin", password="admin-password", role=Role.ADMIN, quota=1000)


def ok(response) -> object:
    """The ``data`` of a successful envelope (asserting HTTP 200 and success)."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True, body
    return body["data"]


def refused(response, message: str | None = None) -> str:
    """The message of a business error (HTTP 200, success false)."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is False, body
    if message is not None:
        assert message in body["message"], body["message"]
    return body["message"]


Api.ok = staticmethod(ok)
Api.refused = staticmethod(refused)
