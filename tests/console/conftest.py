"""Console test helpers: signed-in clients for the cast, and a CSRF-enforcing client."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from accounts.services import user_create


def signed_in(user, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.fixture
def admin(db):
    return user_create(username="admin", password="admin-password", role=Role.ADMIN, quota=10**9)


@pytest.fixture
def as_alice(alice) -> Client:
    return signed_in(alice)


@pytest.fixture
def as_mallory(mallory) -> Client:
    return signed_in(mallory)


@pytest.fixture
def as_admin(admin) -> Client:
    return signed_in(admin)


@pytest.fixture
def as_root(root) -> Client:
    return signed_in(root)


def csrf_client(user=None) -> Client:
    """A client that, like a browser, must send the CSRF token it got from a page."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def csrf_token_from(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.cookies["csrftoken"].value
