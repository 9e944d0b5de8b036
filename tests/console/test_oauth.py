"""GitHub, Feishu/Lark and WeChat sign-in against a loopback stand-in for the providers."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from accounts import oauth
from accounts.models import Token, User
from config.options import option_set
from tests.fakes.server import ServerThread

GITHUB_PROFILE = {"id": 4242, "login": "octocat", "name": "Octo Cat"}
LARK_PROFILE = {"open_id": "ou_77", "name": "Lark Person"}


async def _providers(scope, receive, send):
    path, query = scope["path"], parse_qs(scope["query_string"].decode())
    routes = {
        "/login/oauth/access_token": {"access_token": "gho_fake", "token_type": "bearer"},
        "/user": GITHUB_PROFILE,
        "/lark/token": {"code": 0, "access_token": "u-fake", "expires_in": 7200},
        "/lark/userinfo": LARK_PROFILE,
        "/oidc/token": {"access_token": "oidc-token", "token_type": "bearer"},
        "/oidc/userinfo": {"sub": "sub-9", "preferred_username": "olga", "name": "Olga"},
        "/api/wechat/user": (
            {"success": True, "message": "", "data": "wx-openid-1"}
            if query.get("code") == ["good"]
            else {"success": False, "message": "验证码错误"}
        ),
    }
    body = json.dumps(routes.get(path, {"error": "not found"})).encode()
    while (await receive()).get("more_body"):
        pass
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def providers(db, monkeypatch):
    server = ServerThread(_providers).start()
    monkeypatch.setattr(oauth.GitHubAdapter, "access_token_url", server.url + "/login/oauth/access_token")
    monkeypatch.setattr(oauth.GitHubAdapter, "profile_url", server.url + "/user")
    monkeypatch.setattr(oauth.LarkAdapter, "access_token_url", server.url + "/lark/token")
    monkeypatch.setattr(oauth.LarkAdapter, "profile_url", server.url + "/lark/userinfo")
    option_set("GitHubOAuthEnabled", "true")
    option_set("GitHubClientId", "gh-client")
    option_set("GitHubClientSecret", "gh-secret")
    option_set("LarkClientId", "cli_lark")
    option_set("LarkClientSecret", "lark-secret")
    option_set("OidcEnabled", "true")
    option_set("OidcClientId", "oidc-client")
    option_set("OidcClientSecret", "oidc-secret")
    option_set("OidcAuthorizationEndpoint", server.url + "/oidc/authorize")
    option_set("OidcTokenEndpoint", server.url + "/oidc/token")
    option_set("OidcUserinfoEndpoint", server.url + "/oidc/userinfo")
    option_set("WeChatAuthEnabled", "true")
    option_set("WeChatServerAddress", server.url)
    option_set("WeChatServerToken", "wx-token")
    yield server
    server.stop()


def _round_trip(client, provider: str, **params):
    start = client.get(f"/oauth/{provider}/login", params)
    assert start.status_code == 302, start.content[:500]
    target = urlparse(start["Location"])
    query = parse_qs(target.query)
    assert query["redirect_uri"] == [f"http://testserver/oauth/{provider}"]
    return start, client.get(f"/oauth/{provider}", {"code": "abc", "state": query["state"][0]})


def test_github_sign_in_creates_an_account_like_the_original(client, providers):
    start, done = _round_trip(client, "github")
    assert urlparse(start["Location"]).path == "/login/oauth/authorize"
    assert done.status_code == 302 and done["Location"] == "/dashboard"
    user = User.objects.get(github_id="octocat")
    assert user.username.startswith("github_") and user.display_name == "Octo Cat"
    assert not user.has_usable_password() and Token.objects.filter(user=user, name="default").exists()
    assert client.get("/dashboard").status_code == 200


def test_github_finds_users_imported_from_the_original(client, providers, alice):
    User.objects.filter(pk=alice.pk).update(github_id="octocat")
    _round_trip(client, "github")
    assert client.get("/dashboard").context["user"].pk == alice.pk
    assert User.objects.count() == 1


def test_linking_github_from_settings_and_unlinking(as_alice, providers, alice):
    _start, done = _round_trip(as_alice, "github", process="connect")
    assert done["Location"] == "/setting#bindings"
    alice.refresh_from_db()
    assert alice.github_id == "octocat"
    assert "linked" in as_alice.get("/setting").content.decode()
    as_alice.post("/setting/unlink/github")
    alice.refresh_from_db()
    assert alice.github_id == "" and not alice.socialaccount_set.exists()


def test_the_last_way_in_cannot_be_unlinked(client, providers):
    _round_trip(client, "github")
    page = client.post("/setting/unlink/github", follow=True).content.decode()
    assert "Set a password first" in page
    assert User.objects.get(username__startswith="github_").github_id == "octocat"


def test_closed_registration_stops_new_github_users(client, providers):
    option_set("RegisterEnabled", "false")
    _start, done = _round_trip(client, "github")
    assert "new registrations are closed" in done.content.decode()
    assert not User.objects.exists()


def test_lark_sign_in_uses_the_originals_endpoints(client, providers):
    start, done = _round_trip(client, "lark")
    assert "app_id=cli_lark" in start["Location"]
    assert done["Location"] == "/dashboard"
    assert User.objects.get(lark_id="ou_77").username.startswith("lark_")


def test_generic_openid_connect_with_configured_endpoints(client, providers):
    start, done = _round_trip(client, "oidc")
    assert start["Location"].startswith(providers.url + "/oidc/authorize?")
    assert done["Location"] == "/dashboard"
    user = User.objects.get(oidc_id="sub-9")
    assert user.username == "olga" and user.display_name == "Olga"


def test_sign_in_buttons_follow_the_options(client, providers):
    page = client.get("/login").content.decode()
    assert "/oauth/github/login" in page and "/oauth/lark/login" in page and "/oauth/wechat" in page
    option_set("GitHubOAuthEnabled", "false")
    assert "/oauth/github/login" not in client.get("/login").content.decode()


def test_wechat_sign_in_and_bind(client, providers, as_alice, alice):
    assert client.post("/oauth/wechat", {"code": "nope"}, follow=True).status_code == 200
    assert not User.objects.filter(wechat_id="wx-openid-1").exists()
    response = client.post("/oauth/wechat", {"code": "good"})
    assert response.status_code == 302
    created = User.objects.get(wechat_id="wx-openid-1")
    assert created.username.startswith("wechat_")
    api = client.get("/api/oauth/wechat?code=good").json()
    assert api["success"] is True and api["data"]["id"] == created.pk
    User.objects.filter(pk=created.pk).update(wechat_id="")
    as_alice.post("/oauth/wechat", {"code": "good"})
    assert User.objects.get(pk=alice.pk).wechat_id == "wx-openid-1"


def test_the_wechat_api_reports_the_servers_refusal(client, providers):
    reply = client.get("/api/oauth/wechat?code=bad").json()
    assert reply == {"success": False, "message": "验证码错误", "data": None}
    assert client.get("/api/oauth/wechat/bind?code=good").status_code == 401
