"""The management API's base view and error handling, plus the options and group routes.

Every ``/api`` view derives from ``ApiView``: JSON in, the original's ``{success, message, data}`` envelope out,
per-IP throttles checked before authentication (so guessing access tokens is rate limited too), and one
exception handler that turns every expected failure into the original's answer instead of a 500.
"""

from __future__ import annotations

import logging
import re

from django.db import DatabaseError, transaction
from django.http import Http404, HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.authentication import SessionOrAccessTokenAuthentication
from accounts.permissions import AdminAuth, RootAuth, UserAuth
from config.options import is_secret_option, known_keys, option_json, option_set, option_str
from config.ratelimit import GlobalApiThrottle
from config.serializers import (
    OptionSerializer,
    OptionUpdateSerializer,
    envelope_of,
    error_message,
    query_int,
)
from config.views import envelope

logger = logging.getLogger(__name__)

MSG_NO_CREDENTIALS = "无权进行此操作，未登录且未提供 access token"
ITEMS_PER_PAGE = 10
MAX_PAGE_SIZE = 100


class ApiError(Exception):
    """A business error: answered as ``{success: false, message}``, HTTP 200 unless told otherwise."""

    def __init__(self, message: str, *, status: int = 200) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def invalid_parameter(request) -> str:
    """The original's one translated message (Accept-Language zh* → Chinese)."""
    language = request.META.get("HTTP_ACCEPT_LANGUAGE", "") if request is not None else ""
    return "无效的参数" if language.lower().startswith("zh") else "invalid parameter"


def api_exception_handler(exc: Exception, context: dict) -> HttpResponse | None:
    request = context.get("request")
    if isinstance(exc, ApiError):
        return envelope(success=False, message=exc.message, status=exc.status)
    if isinstance(exc, exceptions.Throttled):
        response = HttpResponse(status=429)  # empty body, like the original
        if exc.wait:
            response["Retry-After"] = str(int(exc.wait) + 1)
        return response
    if isinstance(exc, exceptions.NotAuthenticated):
        return envelope(success=False, message=MSG_NO_CREDENTIALS, status=401)
    if isinstance(exc, exceptions.AuthenticationFailed | exceptions.PermissionDenied):
        return envelope(success=False, message=str(exc.detail))
    if isinstance(exc, exceptions.ValidationError):
        return envelope(success=False, message=error_message(exc.detail))
    if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        return envelope(success=False, message=f"{invalid_parameter(request)}: {exc.detail}")
    if isinstance(exc, Http404 | exceptions.NotFound):
        return envelope(success=False, message="not found", status=404)
    if isinstance(exc, exceptions.MethodNotAllowed):
        return envelope(success=False, message=str(exc.detail), status=405)
    if isinstance(exc, OverflowError):  # an id or number beyond what the database column holds
        return envelope(success=False, message="number out of range")
    if isinstance(exc, DatabaseError):
        logger.exception("database error in %s", request.path if request is not None else "api")
        return envelope(success=False, message="database error; nothing was changed")
    return None


class OneApiSchema(AutoSchema):
    """operationId = view class + method (``ChannelDetailApi`` GET → ``channel_detail_get``): unique and stable."""

    def get_operation_id(self) -> str:
        name = re.sub(r"Api$", "", type(self.view).__name__)
        return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower() + "_" + self.method.lower()


class ApiView(APIView):
    """Base of every management API view (the original's UserAuth by default)."""

    schema = OneApiSchema()

    authentication_classes = [SessionOrAccessTokenAuthentication]
    permission_classes = [UserAuth]
    throttle_classes = [GlobalApiThrottle]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self):
        return api_exception_handler

    def initial(self, request, *args, **kwargs) -> None:
        # DRF's order is authenticate → permissions → throttle; the original limits first, so failed logins
        # and wrong access tokens use up the window as well.
        self.format_kwarg = self.get_format_suffix(**kwargs)
        request.accepted_renderer, request.accepted_media_type = self.perform_content_negotiation(request)
        request.version, request.versioning_scheme = self.determine_version(request, *args, **kwargs)
        self.check_throttles(request)
        self.perform_authentication(request)
        self.check_permissions(request)

    def validated(self, serializer_class: type[serializers.Serializer], **kwargs) -> dict:
        """The request body checked by ``serializer_class``; a bad body becomes one clear message."""
        data = self.request.data
        if not isinstance(data, dict):
            raise ApiError(f"{invalid_parameter(self.request)}: expected a JSON object")
        serializer = serializer_class(data=data, **kwargs)
        if not serializer.is_valid():
            raise ApiError(error_message(serializer.errors))
        return serializer.validated_data


class PublicApiView(ApiView):
    """No credentials needed (and none looked at, as the original's public routes)."""

    authentication_classes: list = []
    permission_classes: list = []


def page_bounds(request) -> tuple[int, int]:
    """``p`` is a 0-based page of 10 (bad values mean 0, as Go's Atoi); ``size`` may ask for up to 100."""
    page = _query_int(request, "p", 0)
    size = _query_int(request, "size", ITEMS_PER_PAGE) or ITEMS_PER_PAGE
    size = min(max(size, 1), MAX_PAGE_SIZE)
    page = min(max(page, 0), 10**9)
    return page * size, size


def _query_int(request, name: str, default: int) -> int:
    return query_int(request.query_params, name, default)


PAGE_PARAMETERS = [
    OpenApiParameter("p", int, description="0-based page number (10 rows a page)"),
    OpenApiParameter("size", int, description="rows a page, 1–100 (default 10)"),
]


# --- /api/option/ (root) ------------------------------------------------------------------------------------
class OptionApi(ApiView):
    """Site options. Secret ones (names ending Secret, SecretKey or Token) are write-only."""

    permission_classes = [RootAuth]

    @extend_schema(responses=envelope_of("OptionListResponse", OptionSerializer(many=True)))
    def get(self, request):
        keys = sorted(set(known_keys()) | _stored_option_keys())
        return envelope([{"key": key, "value": option_str(key)} for key in keys if not is_secret_option(key)])

    @extend_schema(request=OptionUpdateSerializer, responses=envelope_of("OptionUpdateResponse"))
    def put(self, request):
        try:
            data = self.validated(OptionUpdateSerializer)
        except (exceptions.ParseError, exceptions.UnsupportedMediaType):
            # The original answers an undecodable body on this route with HTTP 400.
            return envelope(success=False, message=invalid_parameter(request), status=400)
        _option_guard(data["key"], data["value"])
        option_update(actor=request.user, key=data["key"], value=data["value"])
        return envelope()


def _stored_option_keys() -> set[str]:
    from config.models import Option

    return set(Option.objects.values_list("key", flat=True))


# Switching these on needs their settings first (the original's messages).
_ENABLE_GUARDS = {
    "GitHubOAuthEnabled": (
        ("GitHubClientId",),
        "无法启用 GitHub OAuth，请先填入 GitHub Client Id 以及 GitHub Client Secret！",
    ),
    "EmailDomainRestrictionEnabled": (
        ("EmailDomainWhitelist",),
        "无法启用邮箱域名限制，请先填入限制的邮箱域名！",
    ),
    "WeChatAuthEnabled": (("WeChatServerAddress",), "无法启用微信登录，请先填入微信登录相关配置信息！"),
    "TurnstileCheckEnabled": (
        ("TurnstileSiteKey",),
        "无法启用 Turnstile 校验，请先填入 Turnstile 校验相关配置信息！",
    ),
}


def _option_guard(key: str, value: str) -> None:
    guard = _ENABLE_GUARDS.get(key)
    if guard and value == "true" and not all(option_str(needed).strip() for needed in guard[0]):
        raise ApiError(guard[1])


@transaction.atomic
def option_update(*, actor, key: str, value: str) -> None:
    """Save an option and record who changed it (the value only when it is short and not a secret)."""
    from logs_app.services import manage_log_create

    option_set(key, value)
    shown = "" if is_secret_option(key) or len(value) > 200 else f" to {value!r}"
    manage_log_create(actor=actor, content=f"option {key} changed{shown}")


# --- /api/group/ (admin) ------------------------------------------------------------------------------------
class GroupListApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(
        responses=envelope_of("GroupListResponse", serializers.ListField(child=serializers.CharField()))
    )
    def get(self, request):
        ratios = option_json("GroupRatio")
        return envelope(sorted(ratios) if isinstance(ratios, dict) else [])
