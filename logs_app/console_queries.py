"""Read queries behind the console's dashboard and log pages, shaped to stay fast on millions of log rows.

- Paging is keyset on ``(created_at, id)`` descending: each page is an index range scan, never an OFFSET
  and never a COUNT. Filters use indexed columns (user_id+created_at, created_at+type, token_name, model_name,
  channel_id, username+model_name) with exact matches so the database can use them.
- Totals for a filter are an explicit request (the original's "click to show" total), because a sum over an
  unbounded filter is a scan.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import BigIntegerField, Count, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import Mod
from django.utils import timezone

from logs_app.models import Log, LogType

DAY_S = 86400
_SUMS = {
    "requests": Count("id"),
    "quota": Sum("quota"),
    "prompt": Sum("prompt_tokens"),
    "completion": Sum("completion_tokens"),
}


@dataclass(frozen=True)
class LogFilter:
    user_id: int | None = None  # None = every user (admins)
    start: int | None = None
    end: int | None = None
    type: int | None = None
    model_name: str = ""
    token_name: str = ""
    username: str = ""
    channel_id: int | None = None

    def queryset(self):
        qs = Log.objects.all()
        if self.user_id is not None:
            qs = qs.filter(user_id=self.user_id)
        if self.start is not None:
            qs = qs.filter(created_at__gte=self.start)
        if self.end is not None:
            qs = qs.filter(created_at__lte=self.end)
        if self.type is not None:
            qs = qs.filter(type=self.type)
        if self.model_name:
            qs = qs.filter(model_name=self.model_name)
        if self.token_name:
            qs = qs.filter(token_name=self.token_name)
        if self.username:
            qs = qs.filter(username=self.username)
        if self.channel_id is not None:
            qs = qs.filter(channel_id=self.channel_id)
        return qs


def _cursor(value: str) -> tuple[int, int] | None:
    try:
        created, _, pk = value.partition(".")
        return int(created), int(pk)
    except ValueError:
        return None


def log_page(flt: LogFilter, *, before: str = "", after: str = "", size: int = 20) -> dict:
    """One page of logs, newest first. ``before``/``after`` are cursors ``"<created_at>.<id>"``.

    Returns rows plus the cursors for the older and newer pages (empty when there is none).
    """
    qs = flt.queryset()
    older, newer = _cursor(before), _cursor(after)
    if newer:
        c, i = newer
        newer_qs = qs.filter(Q(created_at__gt=c) | Q(created_at=c, id__gt=i))
        rows = list(newer_qs.order_by("created_at", "id")[: size + 1])
        has_newer, rows = len(rows) > size, rows[:size]
        rows.reverse()
        has_older = bool(rows)
    else:
        if older:
            c, i = older
            qs = qs.filter(Q(created_at__lt=c) | Q(created_at=c, id__lt=i))
        rows = list(qs.order_by("-created_at", "-id")[: size + 1])
        has_older, rows = len(rows) > size, rows[:size]
        has_newer = older is not None and bool(rows)
    return {
        "rows": rows,
        "older": f"{rows[-1].created_at}.{rows[-1].pk}" if rows and has_older else "",
        "newer": f"{rows[0].created_at}.{rows[0].pk}" if rows and has_newer else "",
    }


def log_totals(flt: LogFilter) -> dict:
    """Sum of quota and tokens over the filter (consume logs carry the quota; others add 0)."""
    totals = flt.queryset().aggregate(rows=Count("id"), **{k: v for k, v in _SUMS.items() if k != "requests"})
    return {key: value or 0 for key, value in totals.items()}


def _day_offset() -> int:
    offset = timezone.localtime().utcoffset()
    return int(offset.total_seconds()) if offset else 0


def usage_by_day(*, user_id: int, days: int) -> dict:
    """Consume logs of one user over the last ``days`` local days, per day and model (for the chart)."""
    offset = _day_offset()
    today = (int(time.time()) + offset) // DAY_S * DAY_S  # local midnight, as a shifted timestamp
    since = today - (days - 1) * DAY_S - offset
    shifted = F("created_at") + offset
    day = ExpressionWrapper(shifted - Mod(shifted, DAY_S), output_field=BigIntegerField())
    rows = (
        Log.objects.filter(user_id=user_id, type=LogType.CONSUME, created_at__gte=since)
        .annotate(day=day)
        .values("day", "model_name")
        .annotate(**_SUMS)
        .order_by("day", "model_name")
    )
    labels = [(timezone.localdate() - timedelta(days=days - 1 - n)).isoformat() for n in range(days)]
    first_day = today - (days - 1) * DAY_S
    series: dict[str, dict[str, list[int]]] = {}
    for row in rows:
        index = (int(row["day"]) - first_day) // DAY_S
        if not 0 <= index < days:
            continue
        model = series.setdefault(
            row["model_name"] or "?", {"requests": [0] * days, "tokens": [0] * days, "quota": [0] * days}
        )
        model["requests"][index] += row["requests"]
        model["tokens"][index] += (row["prompt"] or 0) + (row["completion"] or 0)
        model["quota"][index] += row["quota"] or 0
    return {"labels": labels, "series": series}
