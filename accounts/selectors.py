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
