"""Who may call what: session or access token (with or without Bearer), 401 without credentials, role gates."""

from __future__ import annotations

import pytest

from accounts.models import UserStatus

USER_ROUTES = ["/api/user/self", "/api/token/", "/api/log/self", "/api/user/dashboard", "/api/models"]
ADMIN_ROUTES = ["/api/user/", "/api/channel/", "/api/redemption/", "/api/log/", "/api/group/"]
ROOT_ROUTES = ["/api/option/"]


@pytest.mark.parametrize("path", USER_ROUTES + ADMIN_ROUTES + ROOT_ROUTES)
def test_anonymous_callers_get_401_with_the_envelope(api, db, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "message": "无权进行此操作，未登录且未提供 access token",
        "data": None,
    }


@pytest.mark.parametrize("path", USER_ROUTES)
def test_access_token_works_with_and_without_bearer(api, alice, path):
    api.ok(api.get(path, user=alice))
    api.ok(api.get(path, user=alice, bearer=True))


def test_an_unknown_access_token_is_refused_with_http_200(api, alice):
    api.refused(api.get("/api/user/self", authorization="not-a-token"), "access token 无效")
    api.refused(api.get("/api/user/self", authorization="Bearer "), "access token 无效")


@pytest.mark.parametrize("path", ADMIN_ROUTES + ROOT_ROUTES)
def test_common_users_cannot_reach_admin_routes(api, alice, path):
    api.refused(api.get(path, user=alice), "无权进行此操作，权限不足")


@pytest.mark.parametrize("path", ROOT_ROUTES)
def test_admins_cannot_reach_root_routes(api, admin, path):
    api.refused(api.get(path, user=admin), "权限不足")


@pytest.mark.parametrize("path", USER_ROUTES + ADMIN_ROUTES + ROOT_ROUTES)
def test_root_reaches_everything(api, root, path):
    assert api.get(path, user=root).json()["success"] is True


@pytest.mark.parametrize("status", [UserStatus.DISABLED, UserStatus.DELETED])
def test_disabled_and_deleted_users_are_refused_by_token(api, alice, status):
    alice.status = status
    alice.save()
    api.refused(api.get("/api/user/self", user=alice), "用户已被封禁")


def test_a_session_works_until_the_user_is_disabled_then_it_is_cleared(api, alice):
    api.ok(api.post("/api/user/login", {"username": "alice", "password": "alice-password"}))
    assert api.ok(api.get("/api/user/self"))["username"] == "alice"
    alice.status = UserStatus.DISABLED
    alice.save()
    api.refused(api.get("/api/user/self"), "用户已被封禁")
    alice.status = UserStatus.ENABLED
    alice.save()
    assert api.get("/api/user/self").status_code == 401  # the session was ended


def test_a_session_takes_precedence_over_a_bad_header(api, alice):
    api.ok(api.post("/api/user/login", {"username": "alice", "password": "alice-password"}))
    assert api.ok(api.get("/api/user/self", authorization="garbage"))["username"] == "alice"


def test_public_routes_ignore_credentials(api, db):
    api.ok(api.get("/api/user/logout", authorization="garbage"))


def test_every_route_answers_with_and_without_trailing_slash(api, root):
    for path in ("/api/user/self", "/api/user/self/", "/api/token", "/api/token/", "/api/log/stat/"):
        assert api.get(path, user=root).status_code == 200, path


def test_wrong_method_is_405_not_500(api, root):
    response = api.post("/api/user/self", {}, user=root)
    assert response.status_code == 405 and response.json()["success"] is False


def test_a_non_json_body_is_a_clear_error(api, root):
    response = api.client.post(
        "/api/token/",
        data="name=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=root.access_token,
    )
    api.refused(response)
    api.refused(api.post("/api/token/", raw="{not json", user=root), "invalid parameter")
    api.refused(api.post("/api/token/", raw="[1, 2]", user=root), "expected a JSON object")


def test_out_of_range_numbers_are_envelope_errors_not_500s(api, root):
    huge = "9" * 30
    for path in (
        f"/api/user/{huge}",
        f"/api/channel/{huge}",
        f"/api/token/{huge}",
        f"/api/redemption/{huge}",
    ):
        assert api.get(path, user=root).json()["success"] is False, path
    for path in (
        f"/api/user/?p={huge}",
        f"/api/log/?start_timestamp={huge}&channel={huge}&p={huge}",
        f"/api/user/search?keyword={huge}",
        "/api/user/search?keyword=²",
        f"/api/log/search?keyword={huge}",
        f"/api/channel/search?keyword={huge}",
        f"/api/redemption/search?keyword={huge}",
    ):
        assert api.get(path, user=root).status_code == 200, path
