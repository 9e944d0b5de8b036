"""``/api/option/`` (root): secrets are write-only, values are checked, changes are audited."""

from __future__ import annotations

import json

import pytest

from config.models import Option
from config.options import option_str
from logs_app.models import Log, LogType


def test_get_lists_options_without_secrets(api, root):
    Option.objects.create(key="TurnstileSecretKey", value="ts-secret")
    Option.objects.create(key="SMTPToken", value="smtp-secret")
    Option.objects.create(key="GitHubClientSecret", value="gh-secret")
    data = api.ok(api.get("/api/option/", user=root))
    keys = {row["key"] for row in data}
    assert {"SystemName", "ModelRatio", "QuotaPerUnit", "Theme"} <= keys
    assert not any(k.endswith(("Secret", "SecretKey", "Token")) for k in keys)
    assert "secret" not in json.dumps(data)


def test_put_saves_and_audits_without_showing_secrets(api, root):
    api.ok(api.put("/api/option/", {"key": "SystemName", "value": "My Gateway"}, user=root))
    api.ok(api.put("/api/option/", {"key": "SMTPToken", "value": "smtp-pass"}, user=root))
    assert option_str("SystemName") == "My Gateway" and option_str("SMTPToken") == "smtp-pass"
    contents = list(
        Log.objects.filter(type=LogType.MANAGE, user_id=root.pk).values_list("content", flat=True)
    )
    assert any("SystemName" in c and "My Gateway" in c for c in contents)
    assert any("SMTPToken" in c for c in contents) and not any("smtp-pass" in c for c in contents)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"key": "ModelRatio", "value": "{bad json"}, "ModelRatio must be JSON"),
        ({"key": "GroupRatio", "value": "[1, 2]"}, "JSON object"),
        ({"key": "CompletionRatio", "value": '{"gpt-4o": "four"}'}, "must be a number"),
        ({"key": "GroupRatio", "value": '{"vip": -1}'}, "negative"),
        ({"key": "RegisterEnabled", "value": "yes"}, "'true' or 'false'"),
        ({"key": "QuotaPerUnit", "value": "lots"}, "whole number"),
        ({"key": "SMTPPort", "value": "70000"}, "between"),
        ({"key": "Theme", "value": "neon"}, "无效的主题"),
        ({"key": "NoSuchOption", "value": "1"}, "unknown option"),
        ({"key": "SystemName", "value": 5}, "value"),
        ({"key": "GitHubOAuthEnabled", "value": "true"}, "无法启用 GitHub OAuth"),
        ({"key": "TurnstileCheckEnabled", "value": "true"}, "无法启用 Turnstile 校验"),
        ({"key": "WeChatAuthEnabled", "value": "true"}, "无法启用微信登录"),
    ],
)
def test_put_refuses_bad_values(api, root, body, message):
    api.refused(api.put("/api/option/", body, user=root), message)
    assert not Option.objects.filter(key=body["key"]).exists()


def test_valid_ratio_json_is_accepted(api, root):
    api.ok(api.put("/api/option/", {"key": "GroupRatio", "value": '{"default": 1, "vip": 0.5}'}, user=root))
    assert sorted(api.ok(api.get("/api/group/", user=root))) == ["default", "vip"]


def test_an_undecodable_body_is_http_400(api, root):
    response = api.put("/api/option/", raw="{oops", user=root)
    assert response.status_code == 400 and response.json()["success"] is False


def test_admins_cannot_read_or_write_options(api, admin):
    api.refused(api.get("/api/option/", user=admin), "权限不足")
    api.refused(api.put("/api/option/", {"key": "SystemName", "value": "x"}, user=admin), "权限不足")
