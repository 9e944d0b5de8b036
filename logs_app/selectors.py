"""Reads of the ``logs`` table for the management API and the dashboard.

The table grows by one row per relayed request, so every read here is a bounded page (``LIMIT``) walked from an
index (id, ``idx_created_at_type``, ``idx_logs_user_time`` or a per-column index) and nothing ever counts the
whole table: the API, like the original, pages without a total.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from dataclasses import dataclass

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, Mod

from config.serializers import keyword_id
from logs_app.models import Log, LogType

SEARCH_LIMIT = 100  # the original's MaxRecentItems
_COLUMNS = (
    "id",
    "user_id",
    "created_at",
    "type",
    "content",
    "username",
    "token_name",
    "model_name",
    "quota",
    "prompt_tokens",
    "completion_tokens",
    "channel_id",
    "request_id",
    "elapsed_time",
    "is_stream",
    "system_prompt_reset",
)


@dataclass(frozen=True)
class LogFilter:
    """The original's log query parameters; zero / empty means "any"."""

    log_type: int = 0
    start_timestamp: int = 0
    end_timestamp: int = 0
    username: str = ""
    token_name: str = ""
    model_name: str = ""
    channel: int = 0
    user_id: int | None = None


def _filtered(f: LogFilter) -> QuerySet[Log]:
    query = Q()
    if f.user_id is not None:
        query &= Q(user_id=f.user_id)
    if f.log_type:
        query &= Q(type=f.log_type)
    if f.start_timestamp:
        query &= Q(created_at__gte=f.start_timestamp)
    if f.end_timestamp:
        query &= Q(created_at__lte=f.end_timestamp)
    for column, value in (
        ("username", f.username),
        ("token_name", f.token_name),
        ("model_name", f.model_name),
    ):
        if value:
            query &= Q(**{column: value})
    if f.channel:
        query &= Q(channel_id=f.channel)
    return Log.objects.filter(query)


def log_rows(queryset: QuerySet[Log], *, hide_id: bool = False) -> list[dict]:
    """Rows with the original's JSON names (``channel`` for channel_id; id 0 in a user's own view)."""
    rows = []
    for row in queryset.values(*_COLUMNS):
        row["channel"] = row.pop("channel_id")
        if hide_id:
            row["id"] = 0
        rows.append(row)
    return rows


def log_page(f: LogFilter, *, offset: int, limit: int) -> QuerySet[Log]:
    """Newest first."""
    return _filtered(f).order_by("-id")[offset : offset + limit]


def log_search(keyword: str, *, user_id: int | None = None) -> QuerySet[Log]:
    """Admin: type equal to ``keyword`` or content starting with it; own logs: type only (as the original)."""
    keyword = keyword.strip()
    log_type = keyword_id(keyword)
    if user_id is not None:
        if log_type is None:
            return Log.objects.none()
        query = Q(user_id=user_id, type=log_type)
    else:
        query = Q(content__startswith=keyword)
        if log_type is not None:
            query |= Q(type=log_type)
    return Log.objects.filter(query).order_by("-id")[:SEARCH_LIMIT]


def log_quota_sum(f: LogFilter) -> int:
    """Quota used by consume logs matching ``f`` (the type filter is ignored, as in the original)."""
    consume = dataclasses.replace(f, log_type=LogType.CONSUME)
    return _filtered(consume).aggregate(total=Coalesce(Sum("quota"), 0))["total"]


DAY_S = 86400


def dashboard_days(*, user_id: int, now: float | None = None) -> list[dict]:
    """The last 7 UTC days of a user's consume logs, per day and model, with the original's capitalised keys."""
    now = int(time.time() if now is None else now)
    start = now - now % DAY_S - 6 * DAY_S
    end = now - now % DAY_S + DAY_S - 1
    rows = (
        Log.objects.filter(user_id=user_id, type=LogType.CONSUME, created_at__gte=start, created_at__lte=end)
        .annotate(day=F("created_at") - Mod("created_at", DAY_S))
        .values("day", "model_name")
        .annotate(
            request_count=Count("id"),
            quota=Coalesce(Sum("quota"), 0),
            prompt_tokens=Coalesce(Sum("prompt_tokens"), 0),
            completion_tokens=Coalesce(Sum("completion_tokens"), 0),
        )
        .order_by("day", "model_name")
    )
    return [
        {
            "Day": dt.datetime.fromtimestamp(row["day"], dt.UTC).strftime("%Y-%m-%d"),
            "ModelName": row["model_name"],
            "RequestCount": row["request_count"],
            "Quota": row["quota"],
            "PromptTokens": row["prompt_tokens"],
            "CompletionTokens": row["completion_tokens"],
        }
        for row in rows
    ]
