"""Role gates of the management API: the original's UserAuth (≥1), AdminAuth (≥10) and RootAuth (100)."""

from __future__ import annotations

from rest_framework.permissions import BasePermission

from accounts.models import Role

MSG_FORBIDDEN = "无权进行此操作，权限不足"


class UserAuth(BasePermission):
    """Any signed-in, enabled user. Anonymous callers get HTTP 401; too low a role HTTP 200 success:false."""

    min_role = Role.COMMON
    message = MSG_FORBIDDEN

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user is not None and user.is_authenticated and user.role >= self.min_role)


class AdminAuth(UserAuth):
    min_role = Role.ADMIN


class RootAuth(UserAuth):
    min_role = Role.ROOT
