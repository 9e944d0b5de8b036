from __future__ import annotations

import pytest

from accounts import throttle
from accounts.models import Token, User, UserStatus
from config.options import option_set
from logs_app.models import Log
from tests.console.conftest import csrf_client, csrf_token_from


def test_it_signs_in_with_username_and_goes_to_next(client, alice):
    response = client.post("/login", {"username": "alice", "password": "alice-password", "next": "/token"})
    assert response.status_code == 302 and response["Location"] == "/token"
    assert client.get("/dashboard").status_code == 200


def test_it_signs_in_with_email(client, alice):
    User.objects.filter(pk=alice.pk).update(email="alice@example.com")
    response = client.post("/login", {"username": "alice@example.com", "password": "alice-password"})
    assert response.status_code == 302 and response["Location"] == "/dashboard"


def test_it_ignores_a_next_that_leaves_the_site(client, alice):
    response = client.post(
        "/login", {"username": "alice", "password": "alice-password", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/dashboard"


def test_wrong_password_and_disabled_account_get_the_same_message(client, alice, bob):
    User.objects.filter(pk=bob.pk).update(status=UserStatus.DISABLED)
    wrong = client.post("/login", {"username": "alice", "password": "nope-nope"})
    disabled = client.post("/login", {"username": "bob", "password": "bob-password"})
    for response in (wrong, disabled):
        assert response.status_code == 200
        assert "Wrong username or password, or the account is disabled." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_blocks_an_account_after_too_many_failures(client, alice, monkeypatch):
    monkeypatch.setattr(throttle, "LOGIN_BY_ACCOUNT", throttle.Bucket("login-account", 3))
    for _ in range(3):
        client.post("/login", {"username": "alice", "password": "wrong-password"})
    response = client.post("/login", {"username": "alice", "password": "alice-password"})
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_it_blocks_an_ip_that_guesses_many_accounts(client, alice, monkeypatch):
    monkeypatch.setattr(throttle, "LOGIN_BY_IP", throttle.Bucket("login-ip", 2))
    for name in ("x1", "x2"):
        client.post("/login", {"username": name, "password": "wrong-password"})
    response = client.post("/login", {"username": "alice", "password": "alice-password"})
    assert "Too many failed attempts" in response.content.decode()


def test_password_login_can_be_switched_off(client, alice):
    option_set("PasswordLoginEnabled", "false")
    page = client.get("/login").content.decode()
    assert "Password sign-in is switched off" in page
    response = client.post("/login", {"username": "alice", "password": "alice-password"})
    assert "_auth_user_id" not in client.session and response.status_code == 200


def test_login_requires_the_csrf_token(alice):
    client = csrf_client()
    assert client.post("/login", {"username": "alice", "password": "alice-password"}).status_code == 403
    token = csrf_token_from(client, "/login")
    response = client.post(
        "/login", {"username": "alice", "password": "alice-password", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_logout_needs_a_post(as_alice):
    assert as_alice.get("/logout").status_code == 405
    assert as_alice.post("/logout").status_code == 302
    assert as_alice.get("/dashboard").status_code == 302


def test_pages_send_anonymous_visitors_to_login(client, db):
    response = client.get("/token?keyword=x")
    assert response.status_code == 302 and response["Location"] == "/login?next=%2Ftoken%3Fkeyword%3Dx"


def _register(client, **extra):
    data = {"username": "carol", "password": "carol-password", "password2": "carol-password", **extra}
    return client.post("/register" + (f"?aff={extra['aff_code']}" if "aff_code" in extra else ""), data)


def test_registration_creates_the_account_with_a_default_key_and_signs_in(client, db):
    option_set("QuotaForNewUser", "1000")
    response = _register(client)
    assert response.status_code == 302 and response["Location"] == "/dashboard"
    carol = User.objects.get(username="carol")
    assert carol.quota == 1000 and carol.check_password("carol-password")
    assert Token.objects.filter(user=carol, name="default", unlimited_quota=True).exists()
    assert Log.objects.filter(user_id=carol.pk, type=4).exists()
    assert client.get("/dashboard").status_code == 200


def test_invitation_rewards_both_sides(client, alice):
    option_set("QuotaForInviter", "300")
    option_set("QuotaForInvitee", "200")
    page = client.get(f"/register?aff={alice.aff_code}").content.decode()
    assert f'value="{alice.aff_code}"' in page
    _register(client, aff_code=alice.aff_code)
    carol = User.objects.get(username="carol")
    alice.refresh_from_db()
    assert carol.inviter_id == alice.pk and carol.quota == 200
    assert alice.quota == 1_000_000 + 300
    assert Log.objects.filter(user_id=alice.pk, type=4, content__startswith="邀请用户赠送").exists()


def test_registration_errors_sit_next_to_their_fields(client, alice):
    response = client.post("/register", {"username": "alice", "password": "short", "password2": "different"})
    page = response.content.decode()
    assert response.status_code == 200
    for field in ("username", "password"):
        block = page.split(f'id="field-{field}"')[1].split("</div>")[0]
        assert 'class="error"' in block, field
    assert "This username is taken." in page


def test_registration_can_be_closed(client, db):
    option_set("RegisterEnabled", "false")
    assert "New registrations are closed." in client.get("/register").content.decode()
    _register(client)
    assert not User.objects.filter(username="carol").exists()


def test_registration_needs_a_verified_email_when_switched_on(client, db):
    option_set("EmailVerificationEnabled", "true")
    page = client.get("/register").content.decode()
    assert 'name="email"' in page and 'name="verification_code"' in page
    response = _register(client, email="carol@gmail.com", verification_code="WRONG1")
    assert "The code is wrong or has expired." in response.content.decode()
    assert not User.objects.filter(username="carol").exists()


@pytest.mark.parametrize("username", ["<b>x</b>", "a b"])
def test_usernames_with_markup_or_spaces_are_refused(client, db, username):
    response = client.post("/register", {"username": username, "password": "p" * 8, "password2": "p" * 8})
    assert "Use letters, digits" in response.content.decode()
    assert "<b>x</b>" not in response.content.decode()
