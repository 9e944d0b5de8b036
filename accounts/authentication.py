"""Who is calling the management API: the session cookie first, else the user's access token.

Same order and answers as the original's ``authHelper``: a live session wins; otherwise ``Authorization``
holds the access token, with or without ``Bearer ``. No credentials at all → HTTP 401 (raised later by the
permission check); a token that matches nobody, or a disabled/deleted user → ``AuthenticationFailed``, which
the API's exception handler answers with HTTP 200 ``success: false`` as the original does.

CSRF: the session cookie is SameSite=Lax (Django's default) and the API parses JSON bodies only, so a
cross-site form can neither carry the cookie on POST nor produce a body we accept; that is why session calls
need no CSRF token here, exactly like the original's UI and scripts.
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import User, UserStatus
from accounts.selectors import user_by_access_token

MSG_BANNED = "用户已被封禁"
MSG_BAD_ACCESS_TOKEN = "无权进行此操作，access token 无效"


def access_token_from_header(header: str) -> str:
    """The original strips one ``Bearer `` and compares the rest verbatim."""
    return header.strip().removeprefix("Bearer ").strip()


class SessionOrAccessTokenAuthentication(BaseAuthentication):
    def authenticate(self, request) -> tuple[User, str | None] | None:
        django_request = request._request
        user = getattr(django_request, "user", None)
        if user is not None and user.is_authenticated:
            return user, None
        session = getattr(django_request, "session", None)
        if session is not None and SESSION_KEY in session:
            # Django's backend refuses users who are no longer enabled but keeps the session: end it, as the
            # original clears the session of a banned user.
            session.flush()
            raise AuthenticationFailed(MSG_BANNED)
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        token = access_token_from_header(header)
        user = user_by_access_token(token) if token else None
        if user is None:
            raise AuthenticationFailed(MSG_BAD_ACCESS_TOKEN)
        if user.status != UserStatus.ENABLED:
            raise AuthenticationFailed(MSG_BANNED)
        return user, token

    def authenticate_header(self, request) -> str:
        return "Bearer"


class SessionOrAccessTokenScheme(OpenApiAuthenticationExtension):
    """Describe both ways in for the OpenAPI schema."""

    target_class = SessionOrAccessTokenAuthentication
    name = ["session", "accessToken"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "cookie", "name": "session"},
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "The user's access token (GET /api/user/token), optionally prefixed 'Bearer '.",
            },
        ]
