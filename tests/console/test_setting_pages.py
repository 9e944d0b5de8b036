from __future__ import annotations

from accounts.models import User
from config.models import Option
from config.options import option_bool, option_str
from tests.console.conftest import csrf_client, csrf_token_from


def test_personal_settings_change_name_and_password_without_signing_out(as_alice, alice):
    response = as_alice.post(
        "/setting/profile", {"display_name": "Al", "password": "new-password", "password2": "new-password"}
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.display_name == "Al" and alice.check_password("new-password")
    assert as_alice.get("/dashboard").status_code == 200


def test_password_mismatch_is_shown_next_to_the_field(as_alice):
    page = as_alice.post(
        "/setting/profile", {"password": "aaaaaaaa", "password2": "bbbbbbbb"}
    ).content.decode()
    assert "The two passwords differ." in page.split('id="field-password2"')[1].split("</div>")[0]


def test_access_token_is_regenerated_and_shown_once(as_alice, alice):
    old = alice.access_token
    page = as_alice.post("/setting/access_token", follow=True).content.decode()
    alice.refresh_from_db()
    assert alice.access_token != old and alice.access_token in page
    assert alice.access_token not in as_alice.get("/setting").content.decode()


def test_the_invite_link_carries_my_code(as_alice, alice):
    assert f"/register?aff={alice.aff_code}" in as_alice.get("/setting").content.decode()


def test_only_root_opens_system_settings(as_alice, as_admin, as_root):
    assert as_alice.get("/setting/system/general").status_code == 403
    assert as_admin.get("/setting/system/general").status_code == 403
    assert as_admin.post("/setting/system/general", {"general-SystemName": "x"}).status_code == 403
    assert as_root.get("/setting/system/general").status_code == 200
    assert as_root.get("/setting/system/nope").status_code == 404
    assert "/setting/system/smtp" not in as_admin.get("/setting").content.decode()


def _general(**overrides) -> dict:
    data = {
        "SystemName": "One API",
        "Logo": "",
        "ServerAddress": "http://localhost:3000",
        "Theme": "default",
        "Notice": "",
        "Footer": "",
        "About": "",
        "HomePageContent": "",
    }
    data.update(overrides)
    return {f"general-{key}": value for key, value in data.items()}


def test_root_changes_options_and_only_changes_are_saved(as_root):
    as_root.post("/setting/system/general", _general(SystemName="My Gateway", Theme="berry"))
    assert option_str("SystemName") == "My Gateway"
    assert set(Option.objects.values_list("key", flat=True)) == {"SystemName", "Theme"}
    page = as_root.get("/dashboard").content.decode()
    assert "My Gateway" in page and 'class="theme-berry"' in page


def test_secrets_are_write_only(as_root):
    Option.objects.create(key="SMTPToken", value="smtp-secret")
    page = as_root.get("/setting/system/smtp").content.decode()
    assert "smtp-secret" not in page
    data = {
        "smtp-SMTPServer": "mail.example",
        "smtp-SMTPPort": "465",
        "smtp-SMTPAccount": "a",
        "smtp-SMTPFrom": "",
    }
    as_root.post("/setting/system/smtp", {**data, "smtp-SMTPToken": ""})
    assert option_str("SMTPToken") == "smtp-secret" and option_str("SMTPServer") == "mail.example"
    as_root.post("/setting/system/smtp", {**data, "smtp-SMTPToken": "new-secret"})
    assert option_str("SMTPToken") == "new-secret"


def test_switching_github_on_needs_its_client_first(as_root):
    data = {"oauth-GitHubOAuthEnabled": "on"}
    page = as_root.post("/setting/system/oauth", data).content.decode()
    assert (
        "Fill in GitHubClientId, GitHubClientSecret first." in page.split('id="field-GitHubOAuthEnabled"')[1]
    )
    assert not option_bool("GitHubOAuthEnabled")
    as_root.post(
        "/setting/system/oauth", {**data, "oauth-GitHubClientId": "id", "oauth-GitHubClientSecret": "secret"}
    )
    assert option_bool("GitHubOAuthEnabled") and option_str("GitHubClientSecret") == "secret"


def test_numbers_are_validated_next_to_the_field(as_root):
    data = {
        "quota-QuotaPerUnit": "lots",
        "quota-QuotaForNewUser": "0",
        "quota-QuotaForInviter": "0",
        "quota-QuotaForInvitee": "0",
        "quota-PreConsumedQuota": "500",
        "quota-QuotaRemindThreshold": "1000",
    }
    page = as_root.post("/setting/system/quota", data).content.decode()
    assert "Enter a whole number." in page.split('id="field-QuotaPerUnit"')[1].split("</div>")[0]


def test_system_settings_require_the_csrf_token(root):
    client = csrf_client(User.objects.get(pk=root.pk))
    assert client.post("/setting/system/general", _general(SystemName="X")).status_code == 403
    token = csrf_token_from(client, "/setting/system/general")
    client.post("/setting/system/general", {**_general(SystemName="X"), "csrfmiddlewaretoken": token})
    assert option_str("SystemName") == "X"
