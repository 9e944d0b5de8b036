"""billing.reserve_now: SQLite reservations on the calling thread when the database is free, never waiting."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from django.db import connection

from accounts.models import Token, User
from accounts.services import token_create, user_create
from billing.services import quota_reserve_now
from billing.usage import Reservation
from config.db_writes import serialized_writes

pytestmark = [
    pytest.mark.django_db(transaction=True),  # the loop's own connection sees committed rows only
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="reservations on the loop exist for SQLite only"
    ),
]


@pytest.fixture
def key():
    user = user_create(username="reserver", password="x-123456", quota=1000)
    return token_create(user=user, name="k", remain_quota=300, unlimited_quota=False)


def take(token: Token, amount: int):
    wanted = Reservation(token.user_id, "reserver", token.id, "k", token.unlimited_quota, "default", amount)
    return quota_reserve_now(wanted)


def balances(token: Token) -> tuple[int, int, int]:
    token.refresh_from_db()
    return User.objects.get(pk=token.user_id).quota, token.remain_quota, token.used_quota


def test_a_free_database_reserves_at_once_from_key_and_user(key):
    reservation = take(key, 100)
    assert reservation is not None and reservation.amount == 100
    assert balances(key) == (900, 200, 100)


def test_a_shortfall_changes_nothing_and_leaves_the_refusal_to_the_regular_path(key):
    assert take(key, 301) is None  # the key has 300
    assert balances(key) == (1000, 300, 0)
    User.objects.filter(pk=key.user_id).update(quota=50)
    assert take(key, 100) is None  # the key could pay, the user cannot: the key's part is rolled back
    assert balances(key) == (50, 300, 0)


def test_another_writer_means_no_wait_and_no_change(key):
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds SQLite's write lock
    try:
        assert take(key, 100) is None
    finally:
        other.execute("ROLLBACK")
        other.close()
    held = threading.Event()
    release = threading.Event()

    def writer_thread() -> None:
        with serialized_writes():
            held.set()
            release.wait(5)

    thread = threading.Thread(target=writer_thread)
    thread.start()
    held.wait(5)
    try:
        assert take(key, 100) is None  # a thread of this process is writing
    finally:
        release.set()
        thread.join()
    assert balances(key) == (1000, 300, 0)
    assert take(key, 100) is not None


def test_unlimited_keys_take_from_the_user_only(key):
    Token.objects.filter(pk=key.pk).update(unlimited_quota=True, remain_quota=0)
    key.refresh_from_db()
    assert take(key, 100) is not None
    assert balances(key) == (900, 0, 0)
