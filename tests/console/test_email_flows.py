from __future__ import annotations

import email
import email.policy
import re

import pytest

from accounts import throttle
from accounts.emails import smtp_backend
from accounts.models import User
from config.options import option_set


def _body(message: dict) -> str:
    """The HTML part of a received message, transfer encoding undone."""
    parsed = email.message_from_string(message["data"], policy=email.policy.default)
    return parsed.get_body(preferencelist=("html",)).get_content()


def test_a_verification_code_is_mailed_and_lets_you_register(client, smtp):
    option_set("EmailVerificationEnabled", "true")
    reply = client.get("/api/verification?email=carol@gmail.com").json()
    assert reply["success"] is True
    assert smtp.messages[0]["rcpt"] == ["carol@gmail.com"]
    code = re.search(r">([A-Z0-9]{6})<", _body(smtp.messages[0]))[1]
    data = {
        "username": "carol",
        "password": "carol-password",
        "password2": "carol-password",
        "email": "carol@gmail.com",
        "verification_code": code.lower(),
    }
    assert client.post("/register", data).status_code == 302
    assert User.objects.get(username="carol").email == "carol@gmail.com"


def test_the_domain_whitelist_and_taken_addresses_are_refused(client, smtp, alice):
    option_set("EmailDomainRestrictionEnabled", "true")
    reply = client.get("/api/verification?email=x@evil.example").json()
    assert reply["success"] is False and "domain is not allowed" in reply["message"]
    User.objects.filter(pk=alice.pk).update(email="alice@gmail.com")
    reply = client.get("/api/verification?email=ALICE@gmail.com").json()
    assert reply["success"] is False and "already registered" in reply["message"]
    assert smtp.messages == []


def test_without_smtp_the_api_says_so(client, db):
    reply = client.get("/api/verification?email=carol@gmail.com").json()
    assert reply == {"success": False, "message": "E-mail is not set up on this server.", "data": None}


def test_mails_per_address_are_throttled(client, smtp, monkeypatch):
    monkeypatch.setattr(throttle, "EMAIL_BY_ADDRESS", throttle.Bucket("email-address", 2))
    for _ in range(2):
        assert client.get("/api/verification?email=c@gmail.com").json()["success"]
    reply = client.get("/api/verification?email=c@gmail.com").json()
    assert reply["success"] is False and "Too many e-mails" in reply["message"]


def _reset_link(client, smtp, email: str) -> str:
    page = client.post("/reset", {"email": email}, follow=True).content.decode()
    assert "Check your inbox" in page
    return re.search(r'href="([^"]+)"', _body(smtp.messages[-1]))[1].replace("&amp;", "&")


def test_password_reset_by_mail_link(client, smtp, alice):
    User.objects.filter(pk=alice.pk).update(email="alice@gmail.com")
    option_set("ServerAddress", "https://gw.example.com")
    link = _reset_link(client, smtp, "alice@gmail.com")
    assert link.startswith("https://gw.example.com/user/reset?email=alice%40gmail.com&token=")
    path = link.removeprefix("https://gw.example.com")
    page = client.get(path).content.decode()
    assert "Reset my password" in page
    assert User.objects.get(pk=alice.pk).check_password("alice-password")  # GET changed nothing
    page = client.post(path).content.decode()
    password = re.search(r'data-testid="new-password">([A-Za-z0-9]{12})<', page)[1]
    assert User.objects.get(pk=alice.pk).check_password(password)
    assert "invalid or has expired" in client.post(path).content.decode()  # single use


def test_reset_for_an_unknown_address_is_reported_next_to_the_field(client, smtp):
    page = client.post("/reset", {"email": "nobody@gmail.com"}).content.decode()
    assert "No account uses this e-mail address." in page.split('id="field-email"')[1].split("</div>")[0]


def test_the_originals_json_reset_routes(client, smtp, alice):
    User.objects.filter(pk=alice.pk).update(email="alice@gmail.com")
    assert client.get("/api/reset_password?email=alice@gmail.com").json()["success"] is True
    token = re.search(r"token=([0-9a-f]{32})", _body(smtp.messages[-1]))[1]
    bad = client.post("/api/user/reset", {"email": "alice@gmail.com", "token": "0" * 32}, "application/json")
    assert bad.json()["success"] is False
    good = client.post("/api/user/reset", {"email": "alice@gmail.com", "token": token}, "application/json")
    assert good.json()["success"] is True and len(good.json()["data"]) == 12
    assert User.objects.get(pk=alice.pk).check_password(good.json()["data"])


def test_binding_an_email_needs_its_code(as_alice, alice, smtp):
    as_alice.get("/api/verification?email=new@gmail.com")
    code = re.search(r">([A-Z0-9]{6})<", _body(smtp.messages[0]))[1]
    page = as_alice.post("/setting/email", {"email": "new@gmail.com", "code": "WRONG1"}).content.decode()
    assert "The code is wrong or has expired." in page.split('id="field-code"')[1].split("</div>")[0]
    assert as_alice.post("/setting/email", {"email": "new@gmail.com", "code": code}).status_code == 302
    assert User.objects.get(pk=alice.pk).email == "new@gmail.com"


@pytest.mark.parametrize("port,ssl", [(465, True), (587, False), (25, False)])
def test_port_465_is_implicit_tls_and_others_upgrade_when_offered(db, port, ssl):
    option_set("SMTPServer", "mail.example")
    option_set("SMTPPort", str(port))
    backend = smtp_backend()
    assert backend.use_ssl is ssl and backend.use_tls is False and backend.port == port


def test_turnstile_guards_login_once_per_session(client, alice, monkeypatch):
    import httpx

    option_set("TurnstileCheckEnabled", "true")
    option_set("TurnstileSiteKey", "site-key")
    calls = []

    def fake_post(url, data, timeout):
        calls.append(data["response"])
        return httpx.Response(200, json={"success": data["response"] == "good"})

    monkeypatch.setattr(httpx, "post", fake_post)
    page = client.get("/login").content.decode()
    assert 'data-sitekey="site-key"' in page
    credentials = {"username": "alice", "password": "alice-password"}
    assert (
        "human check"
        in client.post("/login", {**credentials, "cf-turnstile-response": "bad"}).content.decode()
    )
    assert client.post("/login", {**credentials, "cf-turnstile-response": "good"}).status_code == 302
    client.post("/logout")
    assert calls == ["bad", "good"]
