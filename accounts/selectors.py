"""Reads for users and API keys."""

from __future__ import annotations

import time

from accounts.models import Role, User
from accounts.services import ROOT_DEFAULT_PASSWORD

_default_password_checked: tuple[float, bool] = (0.0, False)


def root_uses_default_password(max_age_s: float = 60.0) -> bool:
    """True while a root account still accepts 123456 (checked at most once a minute: hashing is slow)."""
    global _default_password_checked
    checked_at, answer = _default_password_checked
    if time.monotonic() - checked_at < max_age_s:
        return answer
    answer = any(
        user.check_password(ROOT_DEFAULT_PASSWORD) for user in User.objects.filter(role=Role.ROOT, status=1)
    )
    _default_password_checked = (time.monotonic(), answer)
    return answer


def root_default_password_recheck() -> None:
    global _default_password_checked
    _default_password_checked = (0.0, False)


# --- Management API reads -----------------------------------------------------------------------------------
SEARCH_LIMIT = 100
_USER_ORDER = {"quota": "-quota", "used_quota": "-used_quota", "request_count": "-request_count"}
_TOKEN_ORDER = {"remain_quota": ("-unlimited_quota", "-remain_quota"), "used_quota": ("-used_quota",)}


def user_by_access_token(token: str) -> User | None:
    """The user whose management access token is ``token`` (a unique-index lookup)."""
    if not token:
        return None
    return User.objects.filter(access_token=token).first()


def user_by_login(identifier: str) -> User | None:
    """Username first, then e-mail (in that order, so nobody can shadow a name by choosing it as an e-mail)."""
    if not identifier:
        return None
    user = User.objects.filter(username=identifier).first()
    if user is None:
        user = User.objects.filter(email=identifier).exclude(email="").order_by("id").first()
    return user


def user_page(*, offset: int, limit: int, order: str = ""):
    """Not-deleted users, newest first or by ``order`` (quota, used_quota, request_count), one page."""
    from accounts.models import UserStatus

    ordering = _USER_ORDER.get(order, "-id")
    return User.objects.exclude(status=UserStatus.DELETED).order_by(ordering, "-id")[offset : offset + limit]


def user_search(keyword: str):
    """Users whose id is ``keyword`` or whose username, e-mail or display name starts with it."""
    from config.serializers import id_or_prefix_search

    return id_or_prefix_search(
        User.objects.all(), keyword, "username", "email", "display_name", limit=SEARCH_LIMIT
    )


def token_page(*, user: User, offset: int, limit: int, order: str = ""):
    from accounts.models import Token

    ordering = _TOKEN_ORDER.get(order, ("-id",))
    return Token.objects.filter(user=user).order_by(*ordering, "-id")[offset : offset + limit]


def token_search(*, user: User, keyword: str):
    from accounts.models import Token

    return Token.objects.filter(user=user, name__startswith=keyword.strip()).order_by("-id")[:SEARCH_LIMIT]


def username_taken(username: str) -> bool:
    return User.objects.filter(username=username).exists()
