"""Writes for users and API keys."""

from __future__ import annotations

import secrets
import string
import uuid

from django.db import transaction

from accounts.models import Role, Token, User

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
