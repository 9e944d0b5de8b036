"""Price look-ups backed by the cached ModelRatio / CompletionRatio / GroupRatio options."""

from __future__ import annotations

from billing.ratios import completion_ratio_lookup, group_ratio_lookup, model_ratio_lookup
from config.options import option_int, option_json


def model_ratio(model: str, channel_type: int = 0) -> float:
    return model_ratio_lookup(model, channel_type, _number_map("ModelRatio"))


def completion_ratio(model: str, channel_type: int = 0) -> float:
    return completion_ratio_lookup(model, channel_type, _number_map("CompletionRatio"))


def group_ratio(group: str) -> float:
    return group_ratio_lookup(group, _number_map("GroupRatio"))


def quota_per_unit() -> int:
    return option_int("QuotaPerUnit") or 500_000


def pre_consumed_quota() -> int:
    return option_int("PreConsumedQuota")


def _number_map(key: str) -> dict[str, float]:
    value = option_json(key)
    return value if isinstance(value, dict) else {}


UNLIMITED_SUBSCRIPTION_USD = 100_000_000


def _subscription_amount(token_id: int, user_id: int, unlimited: bool) -> tuple[float, float]:
    from accounts.models import Token, User
    from config.options import option_bool

    if unlimited:
        return UNLIMITED_SUBSCRIPTION_USD, 0.0
    if option_bool("DisplayTokenStatEnabled"):
        token = Token.objects.filter(pk=token_id).values("remain_quota", "used_quota").first() or {}
        remain, used = token.get("remain_quota", 0), token.get("used_quota", 0)
        return remain + used, used
    user = User.objects.filter(pk=user_id).values("quota", "used_quota").first() or {}
    return user.get("quota", 0), user.get("used_quota", 0)


def _in_display_units(amount: float) -> float:
    from config.options import option_bool

    return amount / quota_per_unit() if option_bool("DisplayInCurrencyEnabled") else amount


async def billing_subscription_for(token) -> dict:
    """OpenAI's legacy ``/dashboard/billing/subscription`` for a key (spec §2.2)."""
    from asgiref.sync import sync_to_async

    amount, _ = await sync_to_async(_subscription_amount, thread_sensitive=False)(
        token.id, token.user.id, token.unlimited_quota
    )
    limit = amount if token.unlimited_quota else _in_display_units(amount)
    return {
        "object": "billing_subscription",
        "has_payment_method": True,
        "soft_limit_usd": limit,
        "hard_limit_usd": limit,
        "system_hard_limit_usd": limit,
        "access_until": max(token.expired_time, 0),
    }


async def billing_usage_for(token) -> dict:
    """OpenAI's legacy ``/dashboard/billing/usage``: total usage in cents."""
    from asgiref.sync import sync_to_async

    _, used = await sync_to_async(_subscription_amount, thread_sensitive=False)(
        token.id, token.user.id, False
    )
    return {"object": "list", "total_usage": used / quota_per_unit() * 100}
