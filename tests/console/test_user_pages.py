from __future__ import annotations

import pytest

from accounts.models import Role, User, UserStatus
from accounts.services import user_create
from tests.console.conftest import csrf_client, csrf_token_from


@pytest.fixture
def admin2(db):
    return user_create(username="admin2", password="admin2-password", role=Role.ADMIN)


def test_common_users_cannot_open_user_admin(as_alice, bob):
    assert as_alice.get("/user").status_code == 403
    assert as_alice.post(f"/user/{bob.pk}/manage", {"action": "disable"}).status_code == 403
    assert User.objects.get(pk=bob.pk).status == UserStatus.ENABLED


def test_search_by_prefix_and_id(as_admin, alice, bob):
    page = as_admin.get("/user?keyword=ali").content.decode()
    assert "alice" in page and "bob" not in page
    assert "bob" in as_admin.get(f"/user?keyword={bob.pk}").content.decode()


def test_admin_creates_a_common_user(as_admin):
    response = as_admin.post(
        "/user/new", {"username": "dave", "password": "dave-password", "display_name": ""}
    )
    assert response.status_code == 302
    dave = User.objects.get(username="dave")
    assert dave.role == Role.COMMON and dave.check_password("dave-password")


def test_create_errors_sit_next_to_the_field(as_admin, alice):
    response = as_admin.post("/user/new", {"username": "alice", "password": "x"})
    page = response.content.decode()
    assert response.status_code == 400
    assert "This username is taken." in page.split('id="field-username"')[1].split("</div>")[0]
    assert "at least 8 characters" in page.split('id="field-password"')[1].split("</div>")[0]


def test_admin_edits_quota_and_group(as_admin, alice):
    response = as_admin.post(
        f"/user/{alice.pk}/edit",
        {"username": "alice", "display_name": "Alice", "group": "vip", "quota": "42", "email": ""},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert (alice.quota, alice.group, alice.display_name) == (42, "vip", "Alice")


def test_an_admin_cannot_touch_an_equal_or_higher_role(as_admin, admin2, root):
    for target in (admin2, root):
        assert as_admin.get(f"/user/{target.pk}/edit").status_code == 403
        response = as_admin.post(f"/user/{target.pk}/manage", {"action": "disable"}, follow=True)
        assert "无权更新同权限等级或更高权限等级的用户信息" in response.content.decode()
        assert User.objects.get(pk=target.pk).status == UserStatus.ENABLED
    assert "no access" in as_admin.get("/user").content.decode()


def test_only_root_promotes_and_root_is_immune(as_admin, as_root, alice, root):
    as_admin.post(f"/user/{alice.pk}/manage", {"action": "promote"})
    assert User.objects.get(pk=alice.pk).role == Role.COMMON
    as_root.post(f"/user/{alice.pk}/manage", {"action": "promote"})
    assert User.objects.get(pk=alice.pk).role == Role.ADMIN
    as_root.post(f"/user/{alice.pk}/manage", {"action": "demote"})
    assert User.objects.get(pk=alice.pk).role == Role.COMMON
    response = as_root.post(f"/user/{root.pk}/manage", {"action": "disable"}, follow=True)
    assert "无法禁用超级管理员用户" in response.content.decode()


def test_disable_enable_and_delete(as_admin, alice):
    as_admin.post(f"/user/{alice.pk}/manage", {"action": "disable"})
    assert User.objects.get(pk=alice.pk).status == UserStatus.DISABLED
    as_admin.post(f"/user/{alice.pk}/manage", {"action": "enable"})
    assert User.objects.get(pk=alice.pk).status == UserStatus.ENABLED
    as_admin.post(f"/user/{alice.pk}/manage", {"action": "delete"})
    gone = User.objects.get(pk=alice.pk)
    assert gone.status == UserStatus.DELETED and gone.username.startswith("deleted_")
    assert "deleted_" not in as_admin.get("/user").content.decode()


def test_a_disabled_user_is_signed_out(as_alice, alice):
    User.objects.filter(pk=alice.pk).update(status=UserStatus.DISABLED)
    assert as_alice.get("/dashboard").status_code == 302


def test_user_admin_forms_require_the_csrf_token(admin, alice):
    client = csrf_client(admin)
    assert client.post(f"/user/{alice.pk}/manage", {"action": "disable"}).status_code == 403
    token = csrf_token_from(client, "/user")
    client.post(f"/user/{alice.pk}/manage", {"action": "disable", "csrfmiddlewaretoken": token})
    assert User.objects.get(pk=alice.pk).status == UserStatus.DISABLED


def test_display_names_are_escaped(as_admin, alice):
    User.objects.filter(pk=alice.pk).update(display_name="<i>evil</i>")
    assert "<i>evil</i>" not in as_admin.get("/user").content.decode()
