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


# --- Management API writes (audited: each change that touches quota, roles or keys leaves a manage log) -----


class UserActionError(ValueError):
    """A refused management action; the message (the original's, mostly) is shown as is."""


def _manage_log(actor: User, content: str, user_id: int | None = None) -> None:
    from logs_app.services import manage_log_create

    manage_log_create(actor=actor, content=content, user_id=user_id)


def _username_free(username: str, *, except_pk: int | None = None) -> None:
    taken = User.objects.filter(username=username).exclude(pk=except_pk).exists()
    if taken:
        raise UserActionError(f"username {username!r} is already taken")


def can_manage(actor: User, target: User) -> bool:
    """The original's rule: an admin acts only on lower roles; root acts on anyone."""
    return actor.role == Role.ROOT or actor.role > target.role


@transaction.atomic
def user_admin_create(*, actor: User, username: str, password: str, display_name: str = "") -> User:
    """``POST /api/user/``: always a common user; gets QuotaForNewUser like any new account."""
    from config.options import option_int
    from logs_app.services import quota_text, system_log_create

    _username_free(username)
    quota = option_int("QuotaForNewUser")
    user = user_create(username=username, password=password, display_name=display_name, quota=quota)
    if quota > 0:
        system_log_create(user_id=user.pk, content=f"新用户注册赠送 {quota_text(quota)}")
    _manage_log(actor, f"created user {username!r}", user_id=user.pk)
    return user


@transaction.atomic
def user_admin_update(*, actor: User, user: User, **fields) -> User:
    """``PUT /api/user/``: like the original, only non-zero fields change (username, display_name, password,
    email, group, quota, role), so a client that always sends ``quota: 0`` cannot wipe a balance by accident."""
    from logs_app.services import quota_text

    if not can_manage(actor, user):
        raise UserActionError("无权更新同权限等级或更高权限等级的用户信息")
    role = fields.get("role") or 0
    if role and actor.role <= role and actor.role != Role.ROOT:
        raise UserActionError("无权将其他用户权限等级提升到大于等于自己的权限等级")
    changes = {name: value for name, value in fields.items() if value}
    if "username" in changes:
        _username_free(changes["username"], except_pk=user.pk)
    password = changes.pop("password", "")
    notes = []
    if "quota" in changes and changes["quota"] != user.quota:
        notes.append(f"管理员将用户额度从 {quota_text(user.quota)}修改为 {quota_text(changes['quota'])}")
    if "role" in changes and changes["role"] != user.role:
        notes.append(f"role changed from {user.role} to {changes['role']}")
    if "group" in changes and changes["group"] != user.group:
        notes.append(f"group changed from {user.group!r} to {changes['group']!r}")
    for name, value in changes.items():
        setattr(user, name, value)
    if password:
        user.set_password(password)
        notes.append("password changed")
    # Only the changed columns: saving the whole row would write back a quota read before the relay's
    # latest charges and silently undo them.
    changed = [*changes, *(["password"] if password else [])]
    if changed:
        user.save(update_fields=changed)
    for note in notes:
        _manage_log(actor, note, user_id=user.pk)
    return user


@transaction.atomic
def user_self_update(*, user: User, username: str = "", display_name: str = "", password: str = "") -> User:
    """``PUT /api/user/self``: empty fields stay as they are."""
    if username and username != user.username:
        _username_free(username, except_pk=user.pk)
        user.username = username
    if display_name:
        user.display_name = display_name
    changed = [name for name, value in (("username", username), ("display_name", display_name)) if value]
    if password:
        user.set_password(password)
        _manage_log(user, "changed own password")
        changed.append("password")
    if changed:
        user.save(update_fields=changed)  # never the quota columns: the relay changes them concurrently
    return user


def user_soft_delete(*, user: User, actor: User | None = None) -> None:
    """Status 3 and the username renamed ``deleted_<uuid hex>`` (frees the name), as the original."""
    old = user.username
    user.username = f"deleted_{uuid.uuid4().hex}"
    user.status = 3
    user.save(update_fields=["username", "status"])
    _manage_log(actor or user, f"deleted user {old!r}", user_id=user.pk)


_MANAGE_ACTIONS = ("disable", "enable", "delete", "promote", "demote")
_ROOT_IMMUNE = {
    "disable": "无法禁用超级管理员用户",
    "delete": "无法删除超级管理员用户",
    "demote": "无法降级超级管理员用户",
}


@transaction.atomic
def user_manage(*, actor: User, user: User, action: str) -> User:
    """``POST /api/user/manage``: the original's rules and messages; root is immune, promote is root-only."""
    if action not in _MANAGE_ACTIONS:
        raise UserActionError(f"unknown action {action!r}; expected one of {', '.join(_MANAGE_ACTIONS)}")
    if not can_manage(actor, user):
        raise UserActionError("无权更新同权限等级或更高权限等级的用户信息")
    if user.role == Role.ROOT and action in _ROOT_IMMUNE:
        raise UserActionError(_ROOT_IMMUNE[action])
    if action == "delete":
        user_soft_delete(user=user, actor=actor)
        return user
    if action == "promote":
        if actor.role != Role.ROOT:
            raise UserActionError("普通管理员用户无法提升其他用户为管理员")
        if user.role >= Role.ADMIN:
            raise UserActionError("该用户已经是管理员")
        user.role = Role.ADMIN
    elif action == "demote":
        if user.role == Role.COMMON:
            raise UserActionError("该用户已经是普通用户")
        user.role = Role.COMMON
    else:
        user.status = 2 if action == "disable" else 1
    user.save(update_fields=["role", "status"])
    _manage_log(actor, f"user {user.username!r}: {action}", user_id=user.pk)
    return user


def token_issue(*, actor: User, **fields) -> Token:
    """``POST /api/token/``: a new key for the caller (audited)."""
    with transaction.atomic():
        token = token_create(user=actor, **fields)
        _manage_log(actor, f"created API key {token.name!r} (#{token.pk})")
    return token


def token_revise(*, actor: User, token: Token, status: int | None = None, **fields) -> Token:
    """``PUT /api/token/``: a status change (``status`` given) or an edit of the other fields (audited)."""
    with transaction.atomic():
        if status is not None:
            token_status_set(token=token, enabled=status == TokenStatus.ENABLED)
            _manage_log(actor, f"API key {token.name!r} (#{token.pk}) status set to {token.status}")
        else:
            token_update(token=token, **fields)
            _manage_log(actor, f"API key {token.name!r} (#{token.pk}) changed: {', '.join(sorted(fields))}")
    return token


def token_revoke(*, actor: User, token: Token) -> None:
    with transaction.atomic():
        _manage_log(actor, f"deleted API key {token.name!r} (#{token.pk})")
        token.delete()


def access_token_rotate(*, user: User) -> str:
    """``GET /api/user/token``: a new management access token; the old one stops working at once."""
    with transaction.atomic():
        token = user_access_token_regenerate(user=user)
        _manage_log(user, "generated a new access token")
    return token
