"""Writes for redemption codes and top-ups: creating codes, redeeming one, and the admin/payment top-up."""

from __future__ import annotations

import time
import uuid

from django.db import transaction
from django.db.models import F

from config import cache_versions
from logs_app.services import manage_log_create, quota_text, topup_log_create
from redeem.models import Redemption, RedemptionStatus

REDEEM_FAILED = "兑换失败，"


class RedeemError(ValueError):
    """A refused redemption or top-up; the message is shown to the user as is."""


def _now() -> int:
    return int(time.time())


def _auth_changed() -> None:
    # Quota moved with queryset.update(), which sends no signal: tell every node's user cache.
    transaction.on_commit(lambda: cache_versions.bump(cache_versions.AUTH))


def redemption_redeem(*, user, key: str, request_id: str = "") -> int:
    """Add a code's quota to ``user`` and mark it used, atomically; returns the quota added.

    The row lock (``SELECT … FOR UPDATE``) makes two simultaneous redemptions of one code queue up: the second
    sees status "used" and fails, so a code never pays twice. Errors start with "兑换失败，" as the original.
    """
    key = (key or "").strip()
    if not key:
        raise RedeemError(REDEEM_FAILED + "未提供兑换码")
    with transaction.atomic():
        redemption = Redemption.objects.select_for_update().filter(key=key).first()
        if redemption is None:
            raise RedeemError(REDEEM_FAILED + "无效的兑换码")
        if redemption.status != RedemptionStatus.ENABLED:
            raise RedeemError(REDEEM_FAILED + "该兑换码已被使用")
        type(user).objects.filter(pk=user.pk).update(quota=F("quota") + redemption.quota)
        redemption.status = RedemptionStatus.USED
        redemption.redeemed_time = _now()
        redemption.used_user_id = user.pk
        redemption.save(update_fields=["status", "redeemed_time", "used_user_id"])
        topup_log_create(
            user_id=user.pk,
            content=f"通过兑换码充值 {quota_text(redemption.quota)}",
            quota=redemption.quota,
            request_id=request_id,
        )
        _auth_changed()
    return redemption.quota


def quota_topup(*, actor, user_id: int, quota: int, remark: str = "", request_id: str = "") -> None:
    """``POST /api/topup``: a payment system (admin access token) adds quota to a user."""
    from accounts.models import User

    if quota < 0:
        raise RedeemError("quota 不能为负数！")
    with transaction.atomic():
        if not User.objects.filter(pk=user_id).update(quota=F("quota") + quota):
            raise RedeemError("用户不存在")
        topup_log_create(
            user_id=user_id,
            content=remark or f"通过 API 充值 {quota_text(quota)}",
            quota=quota,
            request_id=request_id,
        )
        manage_log_create(actor=actor, user_id=user_id, content=f"top-up of {quota_text(quota)}")
        _auth_changed()


@transaction.atomic
def redemption_create_batch(*, actor, name: str, quota: int, count: int) -> list[str]:
    """``count`` codes worth ``quota`` each; returns their keys (uuid4 hex)."""
    codes = [
        Redemption(user_id=actor.pk, key=uuid.uuid4().hex, name=name, quota=quota, created_time=_now())
        for _ in range(count)
    ]
    Redemption.objects.bulk_create(codes)
    manage_log_create(
        actor=actor, content=f"created {count} redemption codes {name!r} of {quota_text(quota)}"
    )
    return [code.key for code in codes]


@transaction.atomic
def redemption_update(*, actor, redemption: Redemption, **fields) -> Redemption:
    """Change ``name``, ``quota`` and/or ``status`` of a code."""
    allowed = {"name", "quota", "status"}
    if set(fields) - allowed:
        raise ValueError(f"not editable: {sorted(set(fields) - allowed)}")
    for name, value in fields.items():
        setattr(redemption, name, value)
    redemption.save(update_fields=sorted(fields) or None)
    changes = ", ".join(f"{name}={value!r}" for name, value in sorted(fields.items()))
    manage_log_create(actor=actor, content=f"redemption code #{redemption.pk} changed: {changes}")
    return redemption


@transaction.atomic
def redemption_delete(*, actor, redemption: Redemption) -> None:
    manage_log_create(actor=actor, content=f"redemption code #{redemption.pk} {redemption.name!r} deleted")
    redemption.delete()
