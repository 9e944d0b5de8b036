"""Cross-cutting HTTP behaviour: request ids, and the slave node's redirect of page requests."""

from __future__ import annotations

import random
import time
from datetime import datetime

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpResponse, HttpResponsePermanentRedirect

REQUEST_ID_HEADER = "X-Oneapi-Request-Id"


_stamp: tuple[int, str] = (0, "")  # (second, its yyyyMMddHHmmss): formatting a date per request cost ~10 µs


def new_request_id() -> str:
    """Same shape as the original: yyyyMMddHHmmss + nanoseconds + 8 random digits."""
    global _stamp
    now = time.time_ns()
    second = now // 1_000_000_000
    if _stamp[0] != second:
        _stamp = (second, datetime.fromtimestamp(second).strftime("%Y%m%d%H%M%S"))
    return f"{_stamp[1]}{now % 1_000_000_000}{random.randint(0, 99_999_999):08d}"


class RequestIdMiddleware:
    """Give every request an id (``request.request_id``) and echo it in ``X-Oneapi-Request-Id``."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self._async:
            return self._acall(request)
        request.request_id = new_request_id()
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response

    async def _acall(self, request):
        request.request_id = new_request_id()
        response = await self.get_response(request)
        response[REQUEST_ID_HEADER] = request.request_id
        return response


# "/dashboard/billing/" is the OpenAI billing compat API; "/dashboard" alone is a console page and redirects.
_API_PREFIXES = ("/v1", "/api", "/dashboard/billing/", "/admin", "/static", "/metrics", "/healthz", "/readyz")


class SlaveFrontendRedirectMiddleware:
    """On slave nodes with FRONTEND_BASE_URL, page requests go to the frontend node (as the original)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self._active = settings.NODE_TYPE == "slave" and bool(settings.FRONTEND_BASE_URL)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def _redirect(self, request):
        if self._active and not request.path.startswith(_API_PREFIXES):
            return HttpResponsePermanentRedirect(settings.FRONTEND_BASE_URL + request.get_full_path())
        return None

    def __call__(self, request):
        if self._async:
            return self._acall(request)
        return self._redirect(request) or self.get_response(request)

    async def _acall(self, request):
        return self._redirect(request) or await self.get_response(request)


_UNLIMITED_PREFIXES = ("/api/", "/v1", "/static/", "/healthz", "/readyz", "/metrics")


class WebRateLimitMiddleware:
    """GLOBAL_WEB_RATE_LIMIT page requests per IP per 3 minutes (the original's GlobalWebRateLimit).

    /api has its own DRF throttles and /v1 is never limited (as the original); static files are free.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        from config.ratelimit import GlobalWebThrottle, request_allowed

        if not request.path.startswith(_UNLIMITED_PREFIXES) and not request_allowed(request, GlobalWebThrottle):
            return HttpResponse(status=429)
        return self.get_response(request)
