"""API-key authentication on /v1 (spec §3.1): key forms, key and user states, allowlists, cache invalidation."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

from accounts.models import Role, Token, TokenStatus, User, UserStatus
from channels_app.models import ChannelStatus
from config.options import option_set


@pytest.fixture
def upstream(relay):
    return relay.channel("auth-upstream")


def error_of(response: httpx.Response) -> dict:
    return response.json()["error"]


def assert_refused(response: httpx.Response, status: int, message: str) -> None:
    assert response.status_code == status, response.text
    error = error_of(response)
    request_id = response.headers["x-oneapi-request-id"]
    assert error["message"] == f"{message} (request id: {request_id})"
    assert error["type"] == "one_api_error"


# --- key forms -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["Bearer sk-{key}", "Bearer {key}", "bearer sk-{key}", "sk-{key}"])
def test_accepted_key_forms(relay, upstream, form):
    response = relay.chat(headers={"Authorization": form.format(key=relay.token.key)})
    assert response.status_code == 200, response.text


def test_sdk_with_the_key_works(relay, upstream):
    answer = relay.client().chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "Hello from the fake upstream."


def test_missing_key_is_401(relay, upstream):
    response = httpx.post(relay.url + "/v1/chat/completions", json={"model": "gpt-3.5-turbo"})
    assert_refused(response, 401, "未提供令牌")
    assert relay.upstream.requests == []


@pytest.mark.parametrize("authorization", ["Bearer sk-", ""])
def test_empty_key_is_401(relay, upstream, authorization):
    response = relay.chat(headers={"Authorization": authorization})
    assert_refused(response, 401, "未提供令牌")


def test_unknown_key_is_401(relay, upstream):
    assert_refused(relay.chat(key="sk-" + "x" * 48), 401, "无效的令牌")
    with pytest.raises(openai.AuthenticationError):
        relay.client("sk-nope").chat.completions.create(
            model="gpt-3.5-turbo", messages=[{"role": "user", "content": "x"}]
        )
    assert relay.upstream.requests == []


# --- key states ----------------------------------------------------------------------------------------


def test_disabled_key_is_401(relay, upstream):
    token = relay.make_token(status=TokenStatus.DISABLED)
    assert_refused(relay.chat(key=f"sk-{token.key}"), 401, "该令牌状态不可用")


def test_exhausted_key_is_401_with_its_name_and_id(relay, upstream):
    token = relay.make_token(name="spent", status=TokenStatus.EXHAUSTED)
    assert_refused(relay.chat(key=f"sk-{token.key}"), 401, f"令牌 spent（#{token.pk}）额度已用尽")


def test_expired_status_key_is_401(relay, upstream):
    token = relay.make_token(status=TokenStatus.EXPIRED)
    assert_refused(relay.chat(key=f"sk-{token.key}"), 401, "该令牌已过期")


def test_key_past_its_expiry_is_401_and_marked_expired(relay, upstream):
    token = relay.make_token(expired_time=int(time.time()) - 5)
    assert_refused(relay.chat(key=f"sk-{token.key}"), 401, "该令牌已过期")
    token.refresh_from_db()
    assert token.status == TokenStatus.EXPIRED
    assert relay.upstream.requests == []
    # and stays refused (now by its status)
    assert_refused(relay.chat(key=f"sk-{token.key}"), 401, "该令牌已过期")


def test_key_past_its_expiry_cannot_list_models_either(relay, upstream):
    token = relay.make_token(expired_time=int(time.time()) - 5)
    assert_refused(relay.get("/v1/models", key=f"sk-{token.key}"), 401, "该令牌已过期")
    token.refresh_from_db()
    assert token.status == TokenStatus.EXPIRED


def test_key_with_future_expiry_works(relay, upstream):
    token = relay.make_token(expired_time=int(time.time()) + 3600)
    assert relay.chat(key=f"sk-{token.key}").status_code == 200


def test_limited_key_with_nothing_left_is_401_and_marked_exhausted(relay, upstream):
    token = relay.make_token(name="empty", remain_quota=0)
    assert_refused(relay.chat(key=f"sk-{token.key}"), 401, f"令牌 empty（#{token.pk}）额度已用尽")
    token.refresh_from_db()
    assert token.status == TokenStatus.EXHAUSTED
    assert relay.upstream.requests == []


def test_unlimited_key_with_zero_remain_works(relay, upstream):
    token = relay.make_token(remain_quota=0, unlimited_quota=True)
    assert relay.chat(key=f"sk-{token.key}").status_code == 200


# --- the sk-KEY-CHANNELID form -------------------------------------------------------------------------


def test_common_user_cannot_pick_a_channel(relay, upstream):
    response = relay.chat(key=f"sk-{relay.token.key}-{upstream.pk}")
    assert_refused(response, 403, "普通用户不支持指定渠道")
    assert relay.upstream.requests == []


@pytest.fixture
def admin(relay):
    relay.user.role = Role.ADMIN
    relay.user.save()
    return relay


def test_admin_key_with_channel_id_goes_to_exactly_that_channel(admin, upstream):
    relay = admin
    low = relay.channel("auth-low", priority=-5)
    for _ in range(5):
        assert relay.chat(key=f"sk-{relay.token.key}-{low.pk}").status_code == 200
    assert len(relay.upstream.requests_for("auth-low")) == 5
    assert relay.upstream.requests_for("auth-upstream") == []


def test_admin_specific_channel_is_never_retried(admin, upstream):
    relay = admin
    option_set("RetryTimes", "3")
    relay.upstream.plan("auth-upstream", status=500)
    relay.channel("auth-other")
    response = relay.chat(key=f"sk-{relay.token.key}-{upstream.pk}")
    assert response.status_code == 500
    assert len(relay.upstream.requests_for("auth-upstream")) == 1
    assert relay.upstream.requests_for("auth-other") == []


def test_admin_specific_channel_that_does_not_exist_is_400(admin, upstream):
    relay = admin
    response = relay.chat(key=f"sk-{relay.token.key}-99999")
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("无效的渠道 Id")


def test_admin_specific_channel_that_is_not_a_number_is_400(admin, upstream):
    response = admin.chat(key=f"sk-{admin.token.key}-abc")
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("无效的渠道 Id")


def test_admin_specific_channel_that_is_disabled_is_403(admin):
    relay = admin
    off = relay.channel("auth-off", status=ChannelStatus.MANUALLY_DISABLED)
    response = relay.chat(key=f"sk-{relay.token.key}-{off.pk}")
    assert response.status_code == 403
    assert error_of(response)["message"].startswith("该渠道已被禁用")
    assert relay.upstream.requests == []


# --- subnet allowlist ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subnet,ip,allowed",
    [
        ("10.1.0.0/16", "10.1.200.3", True),
        ("10.1.0.0/16", "10.2.0.1", False),
        ("192.168.1.7", "192.168.1.7", True),
        ("192.168.1.7/32", "192.168.1.8", False),
        ("2001:db8::/32", "2001:db8:1::42", True),
        ("2001:db8::/32", "2001:db9::1", False),
        ("10.0.0.0/8, 2001:db8::/32", "2001:db8::1", True),
        ("10.0.0.0/8, 2001:db8::/32", "10.9.9.9", True),
        ("10.0.0.0/8, 2001:db8::/32", "172.16.0.1", False),
        ("10.0.0.0/8", "::ffff:172.16.0.1", False),
    ],
)
def test_subnet_allowlist(relay, upstream, subnet, ip, allowed):
    token = relay.make_token(subnet=subnet)
    response = relay.chat(key=f"sk-{token.key}", headers={"X-Forwarded-For": ip})
    if allowed:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert f"当前 ip：{ip}" in error_of(response)["message"]
        assert relay.upstream.requests == []


def test_the_last_forwarded_address_is_the_client(relay, upstream):
    # A client may put anything first; the proxy appends the address it saw.
    token = relay.make_token(subnet="10.0.0.0/8")
    ok = relay.chat(key=f"sk-{token.key}", headers={"X-Forwarded-For": "172.16.0.1, 10.0.0.5"})
    assert ok.status_code == 200
    spoofed = relay.chat(key=f"sk-{token.key}", headers={"X-Forwarded-For": "10.0.0.5, 172.16.0.1"})
    assert spoofed.status_code == 403


def test_forwarded_for_is_ignored_from_an_untrusted_peer(relay, upstream, settings):
    settings.TRUSTED_PROXIES = ["203.0.113.0/24"]
    token = relay.make_token(subnet="10.0.0.0/8")
    response = relay.chat(key=f"sk-{token.key}", headers={"X-Forwarded-For": "10.0.0.5"})
    assert response.status_code == 403
    assert "当前 ip：127.0.0.1" in error_of(response)["message"]
    loopback = relay.make_token(subnet="127.0.0.0/8")
    assert relay.chat(key=f"sk-{loopback.key}", headers={"X-Forwarded-For": "10.0.0.5"}).status_code == 200


# --- model allowlist and user state ---------------------------------------------------------------------


def test_model_allowlist(relay, upstream):
    token = relay.make_token(allowed_models="gpt-4o-mini, text-embedding-3-small")
    key = f"sk-{token.key}"
    assert relay.chat("gpt-4o-mini", key=key).status_code == 200
    assert_refused(relay.chat("gpt-3.5-turbo", key=key), 403, "该令牌无权使用模型：gpt-3.5-turbo")
    # exact match only
    assert_refused(relay.chat("gpt-4o", key=key), 403, "该令牌无权使用模型：gpt-4o")
    assert len(relay.upstream.requests) == 1


def test_model_allowlist_applies_to_embeddings_too(relay, upstream):
    token = relay.make_token(allowed_models="gpt-4o-mini")
    response = relay.post(
        "/v1/embeddings", {"model": "text-embedding-3-small", "input": "x"}, key=f"sk-{token.key}"
    )
    assert_refused(response, 403, "该令牌无权使用模型：text-embedding-3-small")


def test_disabled_user_is_403(relay, upstream):
    User.objects.filter(pk=relay.user.pk).update(status=UserStatus.DISABLED)
    relay.user.refresh_from_db()
    relay.user.save()  # through the ORM, as the console does
    assert_refused(relay.chat(), 403, "用户已被封禁")
    assert relay.upstream.requests == []


# --- changes take effect on the next request ------------------------------------------------------------


def test_disabling_a_key_takes_effect_on_the_next_request(relay, upstream):
    assert relay.chat().status_code == 200  # now cached
    relay.token.status = TokenStatus.DISABLED
    relay.token.save()
    assert_refused(relay.chat(), 401, "该令牌状态不可用")


def test_re_enabling_a_key_takes_effect_on_the_next_request(relay, upstream):
    relay.token.status = TokenStatus.DISABLED
    relay.token.save()
    assert relay.chat().status_code == 401
    relay.token.status = TokenStatus.ENABLED
    relay.token.save()
    assert relay.chat().status_code == 200


def test_banning_a_user_takes_effect_on_the_next_request(relay, upstream):
    assert relay.chat().status_code == 200
    relay.user.status = UserStatus.DISABLED
    relay.user.save()
    assert_refused(relay.chat(), 403, "用户已被封禁")


def test_deleting_a_key_takes_effect_on_the_next_request(relay, upstream):
    assert relay.chat().status_code == 200
    Token.objects.get(pk=relay.token.pk).delete()
    assert_refused(relay.chat(), 401, "无效的令牌")


def test_changing_the_allowlist_takes_effect_on_the_next_request(relay, upstream):
    assert relay.chat().status_code == 200
    relay.token.allowed_models = "gpt-4o-mini"
    relay.token.save()
    assert relay.chat().status_code == 403
    relay.token.subnet = "10.0.0.0/8"
    relay.token.allowed_models = ""
    relay.token.save()
    assert relay.chat().status_code == 403
    assert relay.chat(headers={"X-Forwarded-For": "10.3.3.3"}).status_code == 200


def test_promoting_a_user_to_admin_takes_effect_on_the_next_request(relay, upstream):
    assert relay.chat(key=f"sk-{relay.token.key}-{upstream.pk}").status_code == 403
    relay.user.role = Role.ADMIN
    relay.user.save()
    assert relay.chat(key=f"sk-{relay.token.key}-{upstream.pk}").status_code == 200
