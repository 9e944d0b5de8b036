"""The cast every test can use (like healthchecks' BaseTestCase):

- root: the root account (role 100).
- alice: a common user with quota and an API key.
- bob: another common user in alice's group.
- mallory: a common user with nothing; must never see alice's things.
"""

from __future__ import annotations

import pytest

from accounts.models import Role, User
from accounts.services import token_create, user_create
from config.options import options_changed


@pytest.fixture(autouse=True)
def _fresh_caches():
    from django.core.cache import cache

    cache.clear()
    options_changed()
    yield
    cache.clear()
    options_changed()


@pytest.fixture
def root(db) -> User:
    return user_create(username="root", password="123456", role=Role.ROOT, quota=10**12)


@pytest.fixture
def alice(db) -> User:
    return user_create(username="alice", password="alice-password", quota=1_000_000)


@pytest.fixture
def alice_token(alice):
    return token_create(user=alice, name="alice-key", remain_quota=500_000)


@pytest.fixture
def bob(db) -> User:
    return user_create(username="bob", password="bob-password", quota=1_000_000)


@pytest.fixture
def mallory(db) -> User:
    return user_create(username="mallory", password="mallory-password", quota=0)
