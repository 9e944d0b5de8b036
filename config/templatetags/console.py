"""Template filters for the console: quotas in dollars or units, unix times, masked keys."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.options import option_bool, option_int

register = template.Library()


def quota_amount(quota: int | float) -> str:
    """``$1.25`` when DisplayInCurrencyEnabled (QuotaPerUnit quota = $1), else raw units with separators."""
    quota = quota or 0
    if not option_bool("DisplayInCurrencyEnabled"):
        return f"{int(quota):,}"
    amount = quota / (option_int("QuotaPerUnit") or 500_000)
    size = abs(amount)
    text = f"{size:,.{2 if size >= 1 else 4 if size >= 0.01 else 6}f}"
    whole, _sep, cents = text.partition(".")
    return f"{'-' if amount < 0 else ''}${whole}.{cents.rstrip('0').ljust(2, '0')}"


@register.filter
def quota(value) -> str:
    try:
        return quota_amount(float(value))
    except (TypeError, ValueError):
        return ""


@register.filter
def unixtime(value, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A unix timestamp in the server's time zone; 0 / -1 / empty render as "–"."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return "–"
    if seconds <= 0:
        return "–"
    moment = datetime.fromtimestamp(seconds, tz=dt_timezone.utc)
    return timezone.localtime(moment).strftime(fmt)


@register.filter
def sk_mask(key: str) -> str:
    """``sk-abcd…wxyz``: enough to tell keys apart, not enough to use one."""
    key = key or ""
    return f"sk-{key[:4]}…{key[-4:]}" if len(key) > 8 else "sk-…"


@register.filter
def expiry(value) -> str:
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return ""
    return _("Never") if seconds == -1 else unixtime(seconds, "%Y-%m-%d %H:%M")


@register.filter
def ms(value) -> str:
    """Milliseconds as ``0.84 s``; 0 renders as "–" (never tested)."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return "–"
    return f"{value / 1000:.2f} s" if value else "–"


@register.filter
def markdown(text: str) -> str:
    """Render root-authored Markdown (Notice, About, home page); raw HTML passes: only root sets it."""
    import markdown as md
    from django.utils.safestring import mark_safe

    return mark_safe(md.markdown(text or "", extensions=["extra", "sane_lists"]))


LOG_TYPE_NAMES = {
    1: gettext_lazy("Top-up"),
    2: gettext_lazy("Consume"),
    3: gettext_lazy("Manage"),
    4: gettext_lazy("System"),
    5: gettext_lazy("Test"),
}


@register.filter
def log_type(value) -> str:
    return LOG_TYPE_NAMES.get(value, _("Unknown"))


@register.filter
def trim(value, digits: int = 6) -> str:
    """A number with at most ``digits`` decimals and no trailing zeros: 0.852, 15, 0.000568."""
    try:
        text = f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return ""
    return text.rstrip("0").rstrip(".") if "." in text else text
