"""billing.quota_sql: the prepared quota UPDATEs change exactly what the ORM's F() updates did."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Token, User
from accounts.services import token_create
from billing.quota_sql import row_add


def test_adds_and_sets_in_one_statement(db, alice):
    token = token_create(user=alice, name="k", remain_quota=100)
    with CaptureQueriesContext(connection) as queries:
        changed = row_add(Token, token.pk, {"remain_quota": -30, "used_quota": 30}, sets={"accessed_time": 7})
    assert changed == 1
    assert len(queries) == 1 and queries[0]["sql"].startswith("UPDATE")
    token.refresh_from_db()
    assert (token.remain_quota, token.used_quota, token.accessed_time) == (70, 30, 7)


def test_the_at_least_condition_guards_the_balance(db, alice):
    User.objects.filter(pk=alice.pk).update(quota=50)
    assert row_add(User, alice.pk, {"quota": -51}, at_least=("quota", 51)) == 0
    assert row_add(User, alice.pk, {"quota": -50}, at_least=("quota", 50)) == 1
    alice.refresh_from_db()
    assert alice.quota == 0


def test_a_missing_row_changes_nothing(db):
    assert row_add(User, 987654, {"quota": 1}) == 0


def test_an_update_that_changes_no_value_still_counts_the_matched_row(db, alice):
    # MySQL reports matched rows only because Django connects with FOUND_ROWS; a 0 here would be a refusal.
    assert row_add(User, alice.pk, {"quota": 0}) == 1
