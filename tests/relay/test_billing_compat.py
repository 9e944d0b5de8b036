"""OpenAI's legacy billing routes (spec §2.2): /dashboard/billing/subscription|usage and their /v1 twins."""

from __future__ import annotations

import pytest

from accounts.models import Token
from config.options import option_set

PATHS = ("/dashboard/billing/subscription", "/v1/dashboard/billing/subscription")
USAGE_PATHS = ("/dashboard/billing/usage", "/v1/dashboard/billing/usage")


@pytest.mark.parametrize("path", PATHS)
def test_subscription_shows_the_keys_total_in_dollars(relay, path):
    Token.objects.filter(pk=relay.token.pk).update(remain_quota=4_000_000, used_quota=1_000_000)
    body = relay.get(path).json()
    # (remain 4M + used 1M) / 500 000 quota per $ = $10
    assert body == {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": 10.0,
        "hard_limit_usd": 10.0,
        "system_hard_limit_usd": 10.0,
        "access_until": 0,
    }


def test_subscription_access_until_is_the_keys_expiry(relay):
    token = relay.make_token(expired_time=4_102_444_800)
    assert relay.get(PATHS[0], key=f"sk-{token.key}").json()["access_until"] == 4_102_444_800


def test_subscription_of_an_unlimited_key_is_100_million(relay):
    token = relay.make_token(unlimited_quota=True)
    body = relay.get(PATHS[1], key=f"sk-{token.key}").json()
    assert body["hard_limit_usd"] == 100_000_000


def test_subscription_uses_the_user_quota_when_token_stats_are_off(relay):
    option_set("DisplayTokenStatEnabled", "false")
    assert relay.get(PATHS[0]).json()["hard_limit_usd"] == 20.0  # 10M / 500 000


def test_subscription_in_quota_units_when_currency_display_is_off(relay):
    option_set("DisplayInCurrencyEnabled", "false")
    assert relay.get(PATHS[0]).json()["hard_limit_usd"] == 5_000_000


@pytest.mark.parametrize("path", USAGE_PATHS)
def test_usage_is_the_keys_used_quota_in_cents(relay, path):
    Token.objects.filter(pk=relay.token.pk).update(used_quota=250_000)
    assert relay.get(path).json() == {"object": "list", "total_usage": 50.0}


def test_usage_grows_by_what_a_request_cost(relay):
    relay.channel("bill-key")
    relay.upstream.plan("bill-key", usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13})
    assert relay.chat().status_code == 200
    relay.refresh()
    # gpt-3.5-turbo: ceil((10 + 3 × 3) × 0.25) = 5 quota = 0.001 cents
    assert relay.get(USAGE_PATHS[0]).json()["total_usage"] == pytest.approx(5 / 500_000 * 100)


def test_billing_routes_need_a_valid_key(relay):
    response = relay.get(PATHS[0], key="sk-unknown")
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("无效的令牌")
