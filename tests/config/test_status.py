from __future__ import annotations

from config.options import option_set


def test_status_answers_with_the_originals_envelope(client, db):
    response = client.get("/api/status")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and body["message"] == ""
    data = body["data"]
    for field in (
        "version",
        "start_time",
        "email_verification",
        "github_oauth",
        "github_client_id",
        "lark_client_id",
        "system_name",
        "logo",
        "footer_html",
        "wechat_qrcode",
        "wechat_login",
        "server_address",
        "turnstile_check",
        "turnstile_site_key",
        "top_up_link",
        "chat_link",
        "quota_per_unit",
        "display_in_currency",
        "oidc",
        "oidc_client_id",
        "oidc_well_known",
        "oidc_authorization_endpoint",
        "oidc_token_endpoint",
        "oidc_userinfo_endpoint",
    ):
        assert field in data
    assert data["quota_per_unit"] == 500000 and data["system_name"] == "One API"


def test_every_response_carries_a_request_id(client, db):
    first = client.get("/api/status")["X-Oneapi-Request-Id"]
    second = client.get("/")["X-Oneapi-Request-Id"]
    assert first != second and len(first) >= 24 and first.isdigit()


def test_status_reflects_saved_options(client, db):
    option_set("SystemName", "My Gateway")
    option_set("Notice", "maintenance tonight")
    assert client.get("/api/status").json()["data"]["system_name"] == "My Gateway"
    assert client.get("/api/notice").json()["data"] == "maintenance tonight"


def test_home_page_warns_while_root_keeps_the_default_password(client, root):
    from accounts.selectors import root_default_password_recheck

    root_default_password_recheck()
    assert "default password 123456" in client.get("/").content.decode()
    root.set_password("a-better-password")
    root.save()
    root_default_password_recheck()
    page = client.get("/").content.decode()
    assert "default password 123456" not in page and "One API" in page


def test_admin_accepts_root(client, root):
    assert client.login(username="root", password="123456")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/channels_app/channel/").status_code == 200
