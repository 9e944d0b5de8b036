"""Admin user routes: list/search/get/create/update/delete/manage, with the original's role rules."""

from __future__ import annotations

from accounts.models import Role, User, UserStatus
from accounts.services import user_create
from logs_app.models import Log, LogType


def _users(n: int) -> list[User]:
    return [user_create(username=f"u{i:02d}", password="password-1", quota=i) for i in range(n)]


def test_list_pages_by_ten_newest_first_and_hides_secrets(api, root):
    _users(12)
    first = api.ok(api.get("/api/user/?p=0", user=root))
    second = api.ok(api.get("/api/user/?p=1", user=root))
    assert len(first) == 10 and len(second) == 3
    assert first[0]["username"] == "u11"
    assert all("password" not in u and "access_token" not in u for u in first + second)
    assert api.ok(api.get("/api/user/?p=abc", user=root)) == first  # bad p means page 0, like Atoi
    assert len(api.ok(api.get("/api/user/?size=5", user=root))) == 5
    assert len(api.ok(api.get("/api/user/?size=1000", user=root))) == 13


def test_list_orders_by_quota_and_skips_deleted(api, root):
    users = _users(3)
    users[2].status = UserStatus.DELETED
    users[2].save()
    names = [u["username"] for u in api.ok(api.get("/api/user/?order=quota", user=root))]
    assert names[0] == "root" and "u02" not in names and names[1:] == ["u01", "u00"]


def test_search_matches_id_or_prefixes(api, root, alice, bob):
    assert [u["username"] for u in api.ok(api.get("/api/user/search?keyword=al", user=root))] == ["alice"]
    found = api.ok(api.get(f"/api/user/search?keyword={bob.pk}", user=root))
    assert [u["username"] for u in found] == ["bob"]


def test_get_user_respects_roles(api, root, admin, alice):
    assert api.ok(api.get(f"/api/user/{alice.pk}", user=admin))["username"] == "alice"
    api.refused(api.get(f"/api/user/{root.pk}", user=admin), "无权获取同级或更高等级用户的信息")
    other_admin = user_create(username="admin2", password="password-1", role=Role.ADMIN)
    api.refused(api.get(f"/api/user/{other_admin.pk}", user=admin))
    assert api.ok(api.get(f"/api/user/{admin.pk}", user=root))["role"] == 10
    api.refused(api.get("/api/user/99999", user=root), "用户不存在")


def test_create_makes_a_common_user_with_a_default_key(api, admin):
    api.ok(api.post("/api/user/", {"username": "carol", "password": "carol-pass-1"}, user=admin))
    carol = User.objects.get(username="carol")
    assert (
        carol.role == Role.COMMON and carol.display_name == "carol" and carol.check_password("carol-pass-1")
    )
    assert carol.tokens.filter(name="default").exists()
    assert Log.objects.filter(type=LogType.MANAGE, user_id=carol.pk, content__contains="admin #").exists()


def test_create_refuses_bad_input(api, admin, alice):
    cases = [
        ({"username": "x", "password": "short"}, "password"),
        ({"username": "a" * 13, "password": "long-enough"}, "username"),
        ({"password": "long-enough"}, "username"),
        ({"username": 5, "password": "long-enough"}, "username"),
        ({"username": "alice", "password": "long-enough"}, "already taken"),
        ({"username": "x", "password": "long-enough", "role": 10}, "无法创建权限大于等于自己的用户"),
    ]
    for body, message in cases:
        api.refused(api.post("/api/user/", body, user=admin), message)
    assert User.objects.count() == 2


def test_update_changes_non_zero_fields_and_logs_quota_changes(api, admin, alice):
    api.ok(
        api.put("/api/user/", {"id": alice.pk, "quota": 42, "group": "vip", "display_name": ""}, user=admin)
    )
    alice.refresh_from_db()
    assert alice.quota == 42 and alice.group == "vip" and alice.display_name == "alice"
    log = Log.objects.get(type=LogType.MANAGE, user_id=alice.pk, content__startswith="管理员将用户额度")
    assert "(by admin #" in log.content and log.username == "alice"
    api.ok(api.put("/api/user/", {"id": alice.pk, "quota": 0, "password": "new-password"}, user=admin))
    alice.refresh_from_db()
    assert alice.quota == 42 and alice.check_password("new-password")


def test_update_follows_the_role_rules(api, root, admin, alice):
    api.refused(api.put("/api/user/", {"id": root.pk, "quota": 1}, user=admin), "无权更新同权限等级")
    api.refused(api.put("/api/user/", {"id": alice.pk, "role": 10}, user=admin), "无权将其他用户权限等级提升")
    api.ok(api.put("/api/user/", {"id": alice.pk, "role": 10}, user=root))
    assert User.objects.get(pk=alice.pk).role == Role.ADMIN


def test_update_refuses_bad_input(api, admin, alice, bob):
    for body, message in [
        ({"quota": 5}, "id"),
        ({"id": alice.pk, "quota": -1}, "quota"),
        ({"id": alice.pk, "quota": "5"}, "quota"),
        ({"id": alice.pk, "role": 7}, "role"),
        ({"id": alice.pk, "username": "bob"}, "already taken"),
        ({"id": 99999, "quota": 5}, "用户不存在"),
    ]:
        api.refused(api.put("/api/user/", body, user=admin), message)
    alice.refresh_from_db()
    assert alice.quota == 1_000_000 and alice.username == "alice"


def test_delete_is_a_soft_delete_with_an_empty_body(api, admin, alice):
    response = api.delete(f"/api/user/{alice.pk}", user=admin)
    assert response.status_code == 200 and response.content == b""
    alice.refresh_from_db()
    assert alice.status == UserStatus.DELETED and alice.username.startswith("deleted_")
    assert len(alice.username) == len("deleted_") + 32
    api.refused(api.delete(f"/api/user/{admin.pk}", user=admin), "无权删除同权限等级或更高权限等级的用户")


def test_manage_actions_and_their_rules(api, root, admin, alice):
    def manage(actor, username, action):
        return api.post("/api/user/manage", {"username": username, "action": action}, user=actor)

    assert api.ok(manage(admin, "alice", "disable")) == {"role": 1, "status": 2}
    assert api.ok(manage(admin, "alice", "enable")) == {"role": 1, "status": 1}
    api.refused(manage(admin, "alice", "promote"), "普通管理员用户无法提升其他用户为管理员")
    assert api.ok(manage(root, "alice", "promote")) == {"role": 10, "status": 1}
    api.refused(manage(root, "alice", "promote"), "该用户已经是管理员")
    assert api.ok(manage(root, "alice", "demote"))["role"] == 1
    api.refused(manage(root, "alice", "demote"), "该用户已经是普通用户")
    api.refused(manage(admin, "root", "disable"), "无权更新同权限等级或更高权限等级的用户信息")
    api.refused(manage(root, "root", "disable"), "无法禁用超级管理员用户")
    api.refused(manage(root, "root", "delete"), "无法删除超级管理员用户")
    api.refused(manage(root, "nobody", "disable"), "用户不存在")
    api.refused(manage(root, "alice", "explode"), "action")
    assert api.ok(manage(admin, "alice", "delete"))["status"] == 3
    assert Log.objects.filter(type=LogType.MANAGE, user_id=alice.pk).count() == 5
