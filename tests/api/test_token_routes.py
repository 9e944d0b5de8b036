"""The caller's API keys: ``/api/token/...``."""

from __future__ import annotations

import time

from accounts.models import Token, TokenStatus
from accounts.services import token_create
from logs_app.models import Log, LogType


def test_create_returns_the_key_and_maps_models(api, alice):
    body = {
        "name": "ci",
        "remain_quota": 5000,
        "expired_time": -1,
        "models": "gpt-4o,o3",
        "subnet": "10.0.0.0/8",
    }
    data = api.ok(api.post("/api/token/", body, user=alice))
    token = Token.objects.get(pk=data["id"])
    assert data["key"] == token.key and len(token.key) == 48 and not token.key.startswith("sk-")
    assert data["models"] == "gpt-4o,o3" and token.allowed_models == "gpt-4o,o3" and token.user_id == alice.pk
    assert Log.objects.filter(
        type=LogType.MANAGE, user_id=alice.pk, content__contains="created API key"
    ).exists()


def test_create_refuses_bad_input(api, alice):
    before = Token.objects.count()
    for body, message in [
        ({"name": "x" * 31}, "参数错误：令牌名称过长"),
        ({"name": "x", "subnet": "10.0.0.0/33"}, "参数错误：无效的网段"),
        ({"name": "x", "subnet": "10.0.0.0/8, nonsense"}, "无效的网段"),
        ({"name": "x", "remain_quota": -5}, "remain_quota"),
        ({"name": "x", "remain_quota": "5"}, "remain_quota"),
        ({"name": "x", "unlimited_quota": "yes"}, "unlimited_quota"),
        ({"name": 7}, "name"),
    ]:
        api.refused(api.post("/api/token/", body, user=alice), message)
    assert Token.objects.count() == before


def test_list_search_get_only_show_own_keys(api, alice, bob):
    mine = token_create(user=alice, name="alpha", remain_quota=1)
    theirs = token_create(user=bob, name="alpha-bob")
    listed = api.ok(api.get("/api/token/", user=alice))
    assert {t["id"] for t in listed} == {mine.pk, *alice.tokens.values_list("pk", flat=True)}
    assert [t["name"] for t in api.ok(api.get("/api/token/search?keyword=alp", user=alice))] == ["alpha"]
    assert api.ok(api.get(f"/api/token/{mine.pk}", user=alice))["key"] == mine.key
    api.refused(api.get(f"/api/token/{theirs.pk}", user=alice), "令牌不存在")
    api.refused(api.delete(f"/api/token/{theirs.pk}", user=alice))
    api.refused(api.put("/api/token/", {"id": theirs.pk, "name": "mine"}, user=alice))
    assert Token.objects.get(pk=theirs.pk).name == "alpha-bob"


def test_list_orders_and_pages(api, alice):
    for i in range(12):
        token_create(user=alice, name=f"k{i}", remain_quota=i * 10)
    assert len(api.ok(api.get("/api/token/?p=1", user=alice))) == 3
    ordered = api.ok(api.get("/api/token/?order=remain_quota", user=alice))
    assert ordered[0]["name"] == "default"  # unlimited first, as the original
    assert ordered[1]["name"] == "k11"


def test_update_changes_sent_fields_and_keeps_status(api, alice_token, alice):
    data = api.ok(api.put("/api/token/", {"id": alice_token.pk, "name": "renamed", "status": 2}, user=alice))
    assert data["name"] == "renamed" and data["status"] == 1 and data["remain_quota"] == 500_000


def test_status_only_disables_and_reenables(api, alice_token, alice):
    path = "/api/token/?status_only=1"
    assert api.ok(api.put(path, {"id": alice_token.pk, "status": 2}, user=alice))["status"] == 2
    assert api.ok(api.put(path, {"id": alice_token.pk, "status": 1}, user=alice))["status"] == 1
    api.refused(api.put(path, {"id": alice_token.pk}, user=alice), "status")
    api.refused(api.put(path, {"id": alice_token.pk, "status": 9}, user=alice), "status")


def test_reenabling_an_expired_or_exhausted_key_is_refused(api, alice):
    path = "/api/token/?status_only=1"
    expired = token_create(user=alice, name="old", expired_time=int(time.time()) - 10, remain_quota=5)
    Token.objects.filter(pk=expired.pk).update(status=TokenStatus.EXPIRED)
    api.refused(api.put(path, {"id": expired.pk, "status": 1}, user=alice), "令牌已过期，无法启用")
    spent = token_create(user=alice, name="spent", remain_quota=0)
    Token.objects.filter(pk=spent.pk).update(status=TokenStatus.EXHAUSTED)
    api.refused(api.put(path, {"id": spent.pk, "status": 1}, user=alice), "令牌可用额度已用尽，无法启用")
    api.ok(api.put("/api/token/", {"id": spent.pk, "remain_quota": 100}, user=alice))
    assert api.ok(api.put(path, {"id": spent.pk, "status": 1}, user=alice))["status"] == 1


def test_delete_removes_the_key(api, alice_token, alice):
    api.ok(api.delete(f"/api/token/{alice_token.pk}", user=alice))
    assert not Token.objects.filter(pk=alice_token.pk).exists()
    api.refused(api.delete(f"/api/token/{alice_token.pk}", user=alice))
