"""Redemption codes (admin), redeeming one (``POST /api/user/topup``) and the admin top-up."""

from __future__ import annotations

from accounts.models import User
from logs_app.models import Log, LogType
from redeem.models import Redemption, RedemptionStatus
from redeem.services import RedeemError, redemption_redeem


def _codes(api, admin, count=2, quota=1000, name="promo"):
    return api.ok(api.post("/api/redemption/", {"name": name, "quota": quota, "count": count}, user=admin))


def test_create_returns_the_keys(api, admin):
    keys = _codes(api, admin, count=3)
    assert len(keys) == 3 and all(len(k) == 32 and int(k, 16) >= 0 for k in keys)
    assert Redemption.objects.filter(key__in=keys, user_id=admin.pk, quota=1000).count() == 3
    assert Log.objects.filter(
        type=LogType.MANAGE, user_id=admin.pk, content__contains="3 redemption"
    ).exists()


def test_create_refuses_bad_input(api, admin):
    for body, message in [
        ({"name": "", "quota": 1, "count": 1}, "兑换码名称长度必须在1-20之间"),
        ({"name": "x" * 21, "quota": 1, "count": 1}, "兑换码名称长度必须在1-20之间"),
        ({"name": "x", "quota": 1, "count": 0}, "兑换码个数必须大于0"),
        ({"name": "x", "quota": 1, "count": 101}, "一次兑换码批量生成的个数不能大于 100"),
        ({"name": "x", "quota": -1, "count": 1}, "quota"),
        ({"name": "x", "count": 1}, "quota"),
        ({"name": "x", "quota": 1, "count": "2"}, "count"),
    ]:
        api.refused(api.post("/api/redemption/", body, user=admin), message)
    assert Redemption.objects.count() == 0


def test_list_search_get_update_delete(api, admin):
    keys = _codes(api, admin, count=12, name="bulk")
    assert len(api.ok(api.get("/api/redemption/?p=1", user=admin))) == 2
    code = Redemption.objects.get(key=keys[0])
    assert api.ok(api.get(f"/api/redemption/{code.pk}", user=admin))["key"] == keys[0]
    assert len(api.ok(api.get("/api/redemption/search?keyword=bu", user=admin))) == 12
    assert api.ok(api.get(f"/api/redemption/search?keyword={code.pk}", user=admin))[-1]["id"] == code.pk
    data = api.ok(
        api.put("/api/redemption/", {"id": code.pk, "name": "renamed", "quota": 5, "status": 2}, user=admin)
    )
    assert (data["name"], data["quota"], data["status"]) == ("renamed", 5, 1)
    data = api.ok(api.put("/api/redemption/?status_only=1", {"id": code.pk, "status": 2}, user=admin))
    assert data["status"] == 2 and data["name"] == "renamed"
    api.refused(api.put("/api/redemption/", {"id": code.pk, "quota": -3}, user=admin), "quota")
    api.ok(api.delete(f"/api/redemption/{code.pk}", user=admin))
    api.refused(api.get(f"/api/redemption/{code.pk}", user=admin), "兑换码不存在")


def test_common_users_cannot_manage_codes(api, alice):
    api.refused(api.post("/api/redemption/", {"name": "x", "quota": 1, "count": 1}, user=alice), "权限不足")


def test_redeeming_adds_quota_once_and_logs_a_topup(api, admin, alice, bob):
    key = _codes(api, admin, count=1, quota=2500)[0]
    assert api.ok(api.post("/api/user/topup", {"key": key}, user=alice)) == 2500
    alice.refresh_from_db()
    assert alice.quota == 1_002_500
    code = Redemption.objects.get(key=key)
    assert code.status == RedemptionStatus.USED and code.redeemed_time > 0 and code.used_user_id == alice.pk
    log = Log.objects.get(type=LogType.TOPUP, user_id=alice.pk)
    assert log.quota == 2500 and log.content.startswith("通过兑换码充值")
    api.refused(api.post("/api/user/topup", {"key": key}, user=bob), "兑换失败，该兑换码已被使用")
    api.refused(api.post("/api/user/topup", {"key": "0" * 32}, user=bob), "兑换失败，无效的兑换码")
    api.refused(api.post("/api/user/topup", {"key": ""}, user=bob), "兑换失败，")
    assert User.objects.get(pk=bob.pk).quota == 1_000_000


def test_disabled_codes_cannot_be_redeemed(admin, alice):
    code = Redemption.objects.create(key="a" * 32, name="off", quota=5, status=RedemptionStatus.DISABLED)
    try:
        redemption_redeem(user=alice, key=code.key)
    except RedeemError as exc:
        assert str(exc).startswith("兑换失败，")
    else:
        raise AssertionError("a disabled code paid out")


def test_admin_topup_for_payment_systems(api, admin, alice):
    api.ok(api.post("/api/topup", {"user_id": alice.pk, "quota": 700, "remark": "order 42"}, user=admin))
    alice.refresh_from_db()
    assert alice.quota == 1_000_700
    assert Log.objects.get(type=LogType.TOPUP, user_id=alice.pk).content == "order 42"
    assert Log.objects.filter(type=LogType.MANAGE, user_id=alice.pk, content__contains="admin #").exists()
    api.ok(api.post("/api/topup/", {"user_id": alice.pk, "quota": 1}, user=admin))
    assert Log.objects.filter(type=LogType.TOPUP, content__startswith="通过 API 充值").exists()
    api.refused(api.post("/api/topup", {"user_id": 99999, "quota": 1}, user=admin), "用户不存在")
    api.refused(api.post("/api/topup", {"user_id": alice.pk, "quota": -1}, user=admin), "quota")
    api.refused(api.post("/api/topup", {"user_id": alice.pk, "quota": 1}, user=alice), "权限不足")
