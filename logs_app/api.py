"""``/api/log/...`` and ``/api/user/dashboard``: reading (and purging) the logs."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounts.permissions import AdminAuth
from config.api import PAGE_PARAMETERS, ApiError, ApiView, page_bounds
from config.serializers import envelope_of, query_int
from config.views import envelope
from logs_app.selectors import LogFilter, dashboard_days, log_page, log_quota_sum, log_rows, log_search
from logs_app.serializers import DashboardRowSerializer, LogSerializer, LogStatSerializer
from logs_app.services import logs_delete_before, manage_log_create

_FILTERS = [
    OpenApiParameter("type", int, description="0 any, 1 top-up, 2 consume, 3 manage, 4 system, 5 test"),
    OpenApiParameter("start_timestamp", int, description="unix seconds, inclusive"),
    OpenApiParameter("end_timestamp", int, description="unix seconds, inclusive"),
    OpenApiParameter("token_name", str),
    OpenApiParameter("model_name", str),
]
_ADMIN_FILTERS = [*_FILTERS, OpenApiParameter("username", str), OpenApiParameter("channel", int)]
_KEYWORD = [OpenApiParameter("keyword", str)]
_LIST = envelope_of("LogListResponse", LogSerializer(many=True))
_STAT = envelope_of("LogStatResponse", LogStatSerializer())


def _int(request, name: str) -> int:
    return query_int(request.query_params, name)


def _filter(request, *, user=None) -> LogFilter:
    """Query parameters → filter; a user's own view is pinned to their id (and, for stats, their name)."""
    params = request.query_params
    return LogFilter(
        log_type=_int(request, "type"),
        start_timestamp=_int(request, "start_timestamp"),
        end_timestamp=_int(request, "end_timestamp"),
        username=params.get("username", "") if user is None else "",
        token_name=params.get("token_name", ""),
        model_name=params.get("model_name", ""),
        channel=_int(request, "channel") if user is None else 0,
        user_id=None if user is None else user.pk,
    )


class LogListApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=[*PAGE_PARAMETERS, *_ADMIN_FILTERS], responses=_LIST)
    def get(self, request):
        offset, limit = page_bounds(request)
        return envelope(log_rows(log_page(_filter(request), offset=offset, limit=limit)))

    @extend_schema(
        parameters=[OpenApiParameter("target_timestamp", int, required=True)],
        responses=envelope_of("LogDeleteResponse"),
    )
    def delete(self, request):
        """Delete every log created before ``target_timestamp``; data = rows deleted."""
        target = _int(request, "target_timestamp")
        if target <= 0:
            raise ApiError("target timestamp is required")
        count = logs_delete_before(timestamp=target)
        manage_log_create(actor=request.user, content=f"deleted {count} logs older than {target}")
        return envelope(count)


class LogStatApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=_ADMIN_FILTERS, responses=_STAT)
    def get(self, request):
        return envelope({"quota": log_quota_sum(_filter(request))})


class LogSearchApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=_KEYWORD, responses=_LIST)
    def get(self, request):
        return envelope(log_rows(log_search(request.query_params.get("keyword", ""))))


class LogSelfListApi(ApiView):
    @extend_schema(parameters=[*PAGE_PARAMETERS, *_FILTERS], responses=_LIST)
    def get(self, request):
        offset, limit = page_bounds(request)
        page = log_page(_filter(request, user=request.user), offset=offset, limit=limit)
        return envelope(log_rows(page, hide_id=True))


class LogSelfStatApi(ApiView):
    @extend_schema(parameters=_FILTERS, responses=_STAT)
    def get(self, request):
        return envelope({"quota": log_quota_sum(_filter(request, user=request.user))})


class LogSelfSearchApi(ApiView):
    @extend_schema(parameters=_KEYWORD, responses=_LIST)
    def get(self, request):
        keyword = request.query_params.get("keyword", "")
        return envelope(log_rows(log_search(keyword, user_id=request.user.pk), hide_id=True))


class UserDashboardApi(ApiView):
    @extend_schema(responses=envelope_of("DashboardResponse", DashboardRowSerializer(many=True)))
    def get(self, request):
        """The last 7 days of the caller's consumption, per day and model."""
        return envelope(dashboard_days(user_id=request.user.pk))
