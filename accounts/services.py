"""Writes for users and API keys."""

from __future__ import annotations

import secrets
import string
import time
import uuid

from django.db import transaction
from django.db.models import F

from accounts.models import Role, Token, TokenStatus, User

_ALNUM = string.ascii_letters + string.digits


def token_key_generate() -> str:
    """16 random [0-9a-zA-Z] + 32 uuid4 hex with even-index letters upper-cased (the original's shape)."""
    head = "".join(secrets.choice(_ALNUM) for _ in range(16))
    tail = "".join(ch.upper() if i % 2 == 0 else ch for i, ch in enumerate(uuid.uuid4().hex))
    return head + tail


def access_token_generate() -> str:
    return uuid.uuid4().hex


def aff_code_generate() -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(4))


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    display_name: str = "",
    role: int = Role.COMMON,
    quota: int = 0,
    email: str = "",
    group: str = "default",
    inviter_id: int = 0,
    access_token: str | None = None,
) -> User:
    """Create a user and the "default" API key every new user gets (unlimited, never expires)."""
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        quota=quota,
        email=email,
        group=group,
        inviter_id=inviter_id,
        access_token=access_token or access_token_generate(),
        aff_code=_unique_aff_code(),
    )
    user.set_password(password)
    user.save()
    token_create(user=user, name="default", unlimited_quota=True, remain_quota=-1)
    return user


def _unique_aff_code() -> str:
    while True:
        code = aff_code_generate()
        if not User.objects.filter(aff_code=code).exists():
            return code


def token_create(
    *,
    user: User,
    name: str,
    key: str | None = None,
    remain_quota: int = 0,
    unlimited_quota: bool = False,
    expired_time: int = -1,
    allowed_models: str = "",
    subnet: str = "",
) -> Token:
    return Token.objects.create(
        user=user,
        name=name,
        key=key or token_key_generate(),
        remain_quota=remain_quota,
        unlimited_quota=unlimited_quota,
        expired_time=expired_time,
        allowed_models=allowed_models,
        subnet=subnet,
    )


ROOT_DEFAULT_USERNAME = "root"
ROOT_DEFAULT_PASSWORD = "123456"
ROOT_DEFAULT_QUOTA = 500_000_000_000_000


@transaction.atomic
def root_bootstrap(*, initial_token: str = "", initial_access_token: str = "") -> User | None:
    """On an empty users table create root/123456; apply INITIAL_ROOT_TOKEN / _ACCESS_TOKEN. Idempotent."""
    created = None
    if not User.objects.exists():
        created = user_create(
            username=ROOT_DEFAULT_USERNAME,
            password=ROOT_DEFAULT_PASSWORD,
            display_name="Root User",
            role=Role.ROOT,
            quota=ROOT_DEFAULT_QUOTA,
            access_token=initial_access_token or None,
        )
    root = User.objects.filter(role=Role.ROOT).order_by("id").first()
    if root is None:
        return created
    if initial_access_token and root.access_token != initial_access_token:
        User.objects.filter(pk=root.pk).update(access_token=initial_access_token)
    key = initial_token.removeprefix("sk-")
    if key and not Token.objects.filter(key=key).exists():
        token_create(user=root, name="Initial Root Token", key=key, unlimited_quota=True, remain_quota=-1)
    return created


# --- Console account flows (registration with invitations, key edits) -------------------------------------


@transaction.atomic
def user_register(*, username: str, password: str, email: str = "", aff_code: str = "") -> User:
    """Self-service sign-up (spec §7): QuotaForNewUser, then invitation rewards for both sides, logged."""
    from config.options import option_int
    from logs_app.services import quota_text, system_log_create

    inviter = User.objects.filter(aff_code=aff_code).first() if aff_code else None
    new_user_quota = option_int("QuotaForNewUser")
    user = user_create(
        username=username,
        password=password,
        email=email,
        quota=new_user_quota,
        inviter_id=inviter.pk if inviter else 0,
    )
    if new_user_quota > 0:
        system_log_create(user_id=user.pk, content=f"新用户注册赠送 {quota_text(new_user_quota)}")
    if inviter is not None:
        invitee_reward, inviter_reward = option_int("QuotaForInvitee"), option_int("QuotaForInviter")
        if invitee_reward > 0:
            User.objects.filter(pk=user.pk).update(quota=F("quota") + invitee_reward)
            system_log_create(user_id=user.pk, content=f"使用邀请码赠送 {quota_text(invitee_reward)}")
        if inviter_reward > 0:
            User.objects.filter(pk=inviter.pk).update(quota=F("quota") + inviter_reward)
            system_log_create(user_id=inviter.pk, content=f"邀请用户赠送 {quota_text(inviter_reward)}")
        user.refresh_from_db()
    return user


def token_update(*, token: Token, **fields) -> Token:
    """Change a key's editable fields (name, expired_time, remain_quota, unlimited_quota, allowed_models,
    subnet). A key that was expired or exhausted comes back to life when the change cures that."""
    editable = {"name", "expired_time", "remain_quota", "unlimited_quota", "allowed_models", "subnet"}
    unknown = set(fields) - editable
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(token, name, value)
    now = int(time.time())
    if token.status == TokenStatus.EXPIRED and (token.expired_time == -1 or token.expired_time > now):
        token.status = TokenStatus.ENABLED
    if token.status == TokenStatus.EXHAUSTED and (token.unlimited_quota or token.remain_quota > 0):
        token.status = TokenStatus.ENABLED
    token.save()
    return token


class TokenStateError(ValueError):
    """Refused status change; the message is shown to the user."""


def token_status_set(*, token: Token, enabled: bool) -> Token:
    """Enable or disable a key. Like the original, an expired or spent key cannot simply be re-enabled."""
    if enabled:
        if token.expired_time != -1 and token.expired_time <= int(time.time()):
            raise TokenStateError("expired")
        if not token.unlimited_quota and token.remain_quota <= 0:
            raise TokenStateError("exhausted")
    token.status = TokenStatus.ENABLED if enabled else TokenStatus.DISABLED
    token.save(update_fields=["status"])
    return token


def user_access_token_regenerate(*, user: User) -> str:
    user.access_token = access_token_generate()
    user.save(update_fields=["access_token"])
    return user.access_token


def user_aff_code_ensure(*, user: User) -> str:
    if not user.aff_code:
        user.aff_code = _unique_aff_code()
        user.save(update_fields=["aff_code"])
    return user.aff_code
