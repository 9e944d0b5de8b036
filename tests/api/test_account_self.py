"""Sign-up, sign-in and the caller's own account: self, access token, invitation code, dashboard, models."""

from __future__ import annotations

import time

import pytest

from accounts.models import User, UserStatus
from channels_app.models import Channel
from channels_app.services import channel_save
from config.options import option_set
from logs_app.models import Log, LogType


def test_register_creates_a_common_user_who_can_log_in(api, db):
    api.ok(api.post("/api/user/register", {"username": "dave", "password": "dave-password"}))
    dave = User.objects.get(username="dave")
    assert dave.role == 1 and dave.display_name == "dave" and dave.email == ""
    data = api.ok(api.post("/api/user/login", {"username": "dave", "password": "dave-password"}))
    assert data == {"id": dave.pk, "username": "dave", "display_name": "dave", "role": 1, "status": 1}


def test_register_gives_the_new_user_and_inviter_their_quota(api, alice):
    option_set("QuotaForNewUser", "100")
    option_set("QuotaForInvitee", "20")
    option_set("QuotaForInviter", "30")
    api.ok(
        api.post(
            "/api/user/register",
            {"username": "erin", "password": "erin-password", "aff_code": alice.aff_code},
        )
    )
    erin = User.objects.get(username="erin")
    alice.refresh_from_db()
    assert erin.quota == 120 and erin.inviter_id == alice.pk and alice.quota == 1_000_030
    assert Log.objects.filter(type=LogType.SYSTEM, user_id=erin.pk).count() == 2
    assert Log.objects.filter(
        type=LogType.SYSTEM, user_id=alice.pk, content__startswith="邀请用户赠送"
    ).exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("RegisterEnabled", "管理员关闭了新用户注册"),
        ("PasswordRegisterEnabled", "管理员关闭了通过密码进行注册"),
    ],
)
def test_register_honours_the_switches(api, db, option, message):
    option_set(option, "false")
    api.refused(api.post("/api/user/register", {"username": "dave", "password": "dave-password"}), message)
    assert not User.objects.filter(username="dave").exists()


def test_register_validates_input(api, alice):
    for body, message in [
        ({"username": "a" * 13, "password": "long-enough"}, "username"),
        ({"username": "dave", "password": "short"}, "password"),
        ({"username": "dave", "password": "x" * 21}, "password"),
        ({"username": "alice", "password": "long-enough"}, "already taken"),
        ({"username": "dave"}, "password"),
    ]:
        api.refused(api.post("/api/user/register", body), message)


def test_register_with_email_verification_needs_a_valid_code(api, db):
    from accounts.verification import PURPOSE_VERIFY, code_issue

    option_set("EmailVerificationEnabled", "true")
    body = {"username": "dave", "password": "dave-password"}
    api.refused(api.post("/api/user/register", body), "请输入邮箱地址和验证码")
    body |= {"email": "dave@example.com", "verification_code": "WRONG1"}
    api.refused(api.post("/api/user/register", body), "验证码错误或已过期")
    body["verification_code"] = code_issue(email="dave@example.com", purpose=PURPOSE_VERIFY)
    api.ok(api.post("/api/user/register", body))
    assert User.objects.get(username="dave").email == "dave@example.com"


def test_login_by_username_or_email_and_the_shared_failure_message(api, alice):
    alice.email = "alice@example.com"
    alice.save()
    api.ok(api.post("/api/user/login", {"username": "alice@example.com", "password": "alice-password"}))
    failed = "用户名或密码错误，或用户已被封禁"
    api.refused(api.post("/api/user/login", {"username": "alice", "password": "wrong-password"}), failed)
    api.refused(api.post("/api/user/login", {"username": "nobody", "password": "wrong-password"}), failed)
    alice.status = UserStatus.DISABLED
    alice.save()
    api.refused(api.post("/api/user/login", {"username": "alice", "password": "alice-password"}), failed)
    api.refused(api.post("/api/user/login", {"username": "", "password": ""}), "用户名或密码为空")


def test_login_honours_password_login_switch(api, alice):
    option_set("PasswordLoginEnabled", "false")
    api.refused(
        api.post("/api/user/login", {"username": "alice", "password": "alice-password"}),
        "管理员关闭了密码登录",
    )


def test_logout_ends_the_session(api, alice):
    api.ok(api.post("/api/user/login", {"username": "alice", "password": "alice-password"}))
    api.ok(api.get("/api/user/logout"))
    assert api.get("/api/user/self").status_code == 401


def test_self_shows_the_account_without_secrets(api, alice):
    data = api.ok(api.get("/api/user/self", user=alice))
    assert data["username"] == "alice" and data["quota"] == 1_000_000
    assert "password" not in data and "access_token" not in data


def test_self_update_changes_only_what_is_sent(api, alice, bob):
    api.ok(api.put("/api/user/self", {"display_name": "Alice A."}, user=alice))
    api.ok(api.put("/api/user/self", {"password": "brand-new-pass"}, user=alice))
    alice.refresh_from_db()
    assert (
        alice.display_name == "Alice A."
        and alice.username == "alice"
        and alice.check_password("brand-new-pass")
    )
    api.refused(api.put("/api/user/self", {"username": "bob"}, user=alice), "already taken")
    api.refused(api.put("/api/user/self", {"password": "short"}, user=alice), "password")
    api.refused(api.put("/api/user/self", {"display_name": "x" * 21}, user=alice), "display_name")


def test_self_delete_is_refused_to_root(api, root, alice):
    api.refused(api.delete("/api/user/self", user=root), "不能删除超级管理员账户")
    api.ok(api.delete("/api/user/self", user=alice))
    alice.refresh_from_db()
    assert alice.status == UserStatus.DELETED


def test_access_token_rotation_invalidates_the_old_token(api, alice):
    old = alice.access_token
    new = api.ok(api.get("/api/user/token", user=alice))
    assert len(new) == 32 and new != old
    api.refused(api.get("/api/user/self", authorization=old), "access token 无效")
    api.ok(api.get("/api/user/self", authorization=new))
    assert Log.objects.filter(
        type=LogType.MANAGE, user_id=alice.pk, content__contains="access token"
    ).exists()


def test_aff_code_is_made_once(api, alice):
    User.objects.filter(pk=alice.pk).update(aff_code=None)
    code = api.ok(api.get("/api/user/aff", user=alice))
    assert len(code) == 4 and api.ok(api.get("/api/user/aff", user=alice)) == code


def test_dashboard_sums_seven_days_by_day_and_model(api, alice, bob):
    now = int(time.time())
    day = 86400
    rows = [
        (alice, now, "gpt-4o", 10),
        (alice, now, "gpt-4o", 5),
        (alice, now - day, "o3", 7),
        (alice, now - 9 * day, "gpt-4o", 100),  # too old
        (bob, now, "gpt-4o", 1000),  # someone else
    ]
    for user, at, model, quota in rows:
        Log.objects.create(
            user_id=user.pk,
            created_at=at,
            type=LogType.CONSUME,
            model_name=model,
            quota=quota,
            prompt_tokens=1,
            completion_tokens=2,
        )
    data = api.ok(api.get("/api/user/dashboard", user=alice))
    today = time.strftime("%Y-%m-%d", time.gmtime(now))
    assert {
        "Day": today,
        "ModelName": "gpt-4o",
        "RequestCount": 2,
        "Quota": 15,
        "PromptTokens": 2,
        "CompletionTokens": 4,
    } in data
    assert sorted(row["ModelName"] for row in data) == ["gpt-4o", "o3"]


def test_available_models_and_models_by_type(api, alice):
    channel_save(Channel(name="c", type=1, key="k", model_names="gpt-4o,o3", group="default"))
    channel_save(Channel(name="v", type=1, key="k", model_names="secret-model", group="vip"))
    assert api.ok(api.get("/api/user/available_models", user=alice)) == ["gpt-4o", "o3"]
    by_type = api.ok(api.get("/api/models", user=alice))
    assert "1" in by_type and "gpt-4o" in by_type["1"]


def test_changing_the_password_keeps_this_session_signed_in(api, alice):
    api.ok(api.post("/api/user/login", {"username": "alice", "password": "alice-password"}))
    api.ok(api.put("/api/user/self", {"password": "another-password"}))
    assert api.ok(api.get("/api/user/self"))["username"] == "alice"


def test_register_checks_turnstile_when_switched_on(api, db, monkeypatch):
    from accounts import verification

    option_set("TurnstileSiteKey", "site")
    option_set("TurnstileCheckEnabled", "true")
    body = {"username": "dave", "password": "dave-password"}
    api.refused(api.post("/api/user/register", body), "Turnstile token 为空")
    monkeypatch.setattr(verification, "turnstile_verify", lambda request, token: token == "good")
    api.refused(api.post("/api/user/register?turnstile=bad", body), "Turnstile 校验失败")
    api.ok(api.post("/api/user/register?turnstile=good", body))
