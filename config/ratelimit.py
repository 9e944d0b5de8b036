"""Per-IP rate limits, as the original's ``GlobalAPIRateLimit`` / ``GlobalWebRateLimit`` / ``CriticalRateLimit``.

The original keeps a sliding window of request times per ``<mark><ip>`` in Redis (or in memory) and answers
HTTP 429 with an empty body. DRF's ``SimpleRateThrottle`` does the same with the Django cache, so the windows
live in Redis when REDIS_CONN_STRING is set and hold across nodes. Limits are off when settings.DEBUG is on,
as in the original, and a limit of 0 disables that limiter.

Views built on DRF list the throttle classes; plain Django views (the console's pages) use ``rate_limited``.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import SimpleRateThrottle

from config.net import forwarded_client_ip

logger = logging.getLogger(__name__)

API_PERIOD_S = 180  # GLOBAL_API_RATE_LIMIT / GLOBAL_WEB_RATE_LIMIT window (the original's 3 minutes)
CRITICAL_RATE = "20/1200s"  # login, register, redeem-by-code, verification mails: 20 per 20 minutes
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str | None) -> tuple[int | None, int | None]:
    """``"480/180s"`` → (480, 180); ``"5/m"`` → (5, 60); ``None`` or ``"0/…"`` → no limit."""
    if not rate:
        return None, None
    match = _RATE.match(rate)
    if match is None:
        raise ValueError(f"bad rate {rate!r}: expected N/<seconds>s, N/m, N/h or N/d")
    count, multiple, unit = int(match[1]), int(match[2] or 1), match[3]
    if count == 0:
        return None, None
    return count, multiple * _UNIT_S[unit]


def client_ip(request: HttpRequest) -> str:
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR") or request.META.get("HTTP_X_REAL_IP")
    return forwarded_client_ip(request.META.get("REMOTE_ADDR", "") or "", forwarded)


class PeriodRateThrottle(SimpleRateThrottle):
    """A per-IP sliding window whose rate may name any period ("N/180s"); subclasses read it from settings."""

    scope = "api"

    def parse_rate(self, rate):
        return parse_rate(rate)

    def get_ident(self, request) -> str:
        return client_ip(request)

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request, view) -> bool:
        if settings.DEBUG or self.rate is None:
            return True
        try:
            return super().allow_request(request, view)
        except Exception:  # the shared cache is down: serving beats refusing everyone
            logger.warning("rate limit store unreachable; request let through", exc_info=True)
            return True


class GlobalApiThrottle(PeriodRateThrottle):
    """GLOBAL_API_RATE_LIMIT requests per IP per 180 s on every /api route."""

    scope = "global_api"

    def get_rate(self) -> str | None:
        return f"{settings.GLOBAL_API_RATE_LIMIT}/{API_PERIOD_S}s"


class GlobalWebThrottle(PeriodRateThrottle):
    """GLOBAL_WEB_RATE_LIMIT requests per IP per 180 s on the console's pages."""

    scope = "global_web"

    def get_rate(self) -> str | None:
        return f"{settings.GLOBAL_WEB_RATE_LIMIT}/{API_PERIOD_S}s"


class CriticalThrottle(PeriodRateThrottle):
    """The stricter limit on routes worth brute-forcing: login, register, redeem codes, verification mails."""

    scope = "critical"

    def get_rate(self) -> str | None:
        return CRITICAL_RATE


def request_allowed(request: HttpRequest, throttle_class: type[PeriodRateThrottle]) -> bool:
    """Count this request against ``throttle_class``'s window; False once the window is full."""
    return throttle_class().allow_request(request, None)


def rate_limited(*throttle_classes: type[PeriodRateThrottle]) -> Callable:
    """Decorate a plain Django view: answer 429 with an empty body, like the original, when over a limit.

    ``@rate_limited(GlobalWebThrottle)`` for pages; ``@rate_limited(GlobalWebThrottle, CriticalThrottle)`` for
    a page that sends mail or checks a password.
    """

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            for throttle_class in throttle_classes:
                if not request_allowed(request, throttle_class):
                    return HttpResponse(status=429)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
