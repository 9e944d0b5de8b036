"""Log routes: filters, pages, the ``channel`` key, a user's own view, stats, search and the purge."""

from __future__ import annotations

import time

import pytest

from logs_app.models import Log, LogType


@pytest.fixture
def logs(alice, bob):
    now = int(time.time())
    rows = []
    for i in range(15):
        rows.append(
            Log(
                user_id=alice.pk,
                username="alice",
                created_at=now - i,
                type=LogType.CONSUME,
                model_name="gpt-4o" if i % 2 else "o3",
                token_name="ci",
                quota=10,
                channel_id=7,
                content=f"倍率 {i}",
            )
        )
    rows.append(
        Log(
            user_id=bob.pk,
            username="bob",
            created_at=now - 1000,
            type=LogType.TOPUP,
            quota=99,
            content="通过兑换码充值",
        )
    )
    Log.objects.bulk_create(rows)
    return now


def test_admin_list_is_newest_first_with_the_originals_keys(api, admin, logs):
    page = api.ok(api.get("/api/log/", user=admin))
    assert len(page) == 10 and page[0]["id"] > page[1]["id"]
    assert page[1]["channel"] == 7 and "channel_id" not in page[1]
    assert len(api.ok(api.get("/api/log/?p=1", user=admin))) == 6


def test_admin_filters(api, admin, logs):
    def count(query):
        return len(api.ok(api.get(f"/api/log/?size=100&{query}", user=admin)))

    assert count("type=1") == 1
    assert count("username=alice&model_name=o3") == 8
    assert count("token_name=ci&channel=7") == 15
    assert count(f"start_timestamp={logs - 4}&end_timestamp={logs}") == 5
    assert count("channel=8") == 0
    assert count("type=nonsense") == 16  # a bad number means "any", like Atoi


def test_stat_sums_consume_quota(api, admin, alice, logs):
    assert api.ok(api.get("/api/log/stat", user=admin)) == {"quota": 150}
    assert api.ok(api.get("/api/log/stat?model_name=o3", user=admin)) == {"quota": 80}
    assert api.ok(api.get("/api/log/self/stat", user=alice)) == {"quota": 150}


def test_search_by_type_or_content_prefix(api, admin, alice, logs):
    assert len(api.ok(api.get("/api/log/search?keyword=1", user=admin))) == 1
    assert len(api.ok(api.get("/api/log/search?keyword=倍率", user=admin))) == 15
    own = api.ok(api.get("/api/log/self/search?keyword=2", user=alice))
    assert len(own) == 15 and {row["id"] for row in own} == {0}
    assert api.ok(api.get("/api/log/self/search?keyword=倍率", user=alice)) == []


def test_a_user_sees_only_their_own_logs_without_ids(api, alice, bob, logs):
    mine = api.ok(api.get("/api/log/self?size=100", user=alice))
    assert (
        len(mine) == 15
        and {row["id"] for row in mine} == {0}
        and {row["user_id"] for row in mine} == {alice.pk}
    )
    assert len(api.ok(api.get("/api/log/self?username=alice&size=100", user=bob))) == 1


def test_delete_purges_older_logs_in_batches(api, admin, logs, monkeypatch):
    from logs_app import services

    monkeypatch.setattr(services, "DELETE_BATCH", 4)
    monkeypatch.setattr(services.logs_delete_before, "__kwdefaults__", {"batch_size": 4})
    api.refused(api.delete("/api/log/", user=admin), "target timestamp is required")
    assert api.ok(api.delete(f"/api/log/?target_timestamp={logs - 9}", user=admin)) == 6
    assert Log.objects.filter(type=LogType.CONSUME).count() == 10
    assert Log.objects.filter(type=LogType.MANAGE, content__contains="deleted 6 logs").exists()


def test_common_users_cannot_read_everyones_logs(api, alice, logs):
    for path in ("/api/log/", "/api/log/stat", "/api/log/search?keyword=1"):
        api.refused(api.get(path, user=alice), "权限不足")
