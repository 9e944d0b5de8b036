"""Operations endpoints: ``/metrics`` (Prometheus), ``/healthz`` (process alive), ``/readyz`` (can serve).

Relay metrics are recorded by two calls, one where a request ends (``observe_relay``, wrapped around the relay's
ASGI app in config/asgi.py) and one where a request is billed (``relay_usage_record``, in
billing.services.quota_settle, which knows the model, channel, tokens and quota). Both only touch
prometheus_client's own per-metric locks; label children are looked up once and kept. Channel status and the
cache hit rate are read when Prometheus scrapes, not on the request path.

The registry is the process's default one: with several worker processes per node each process answers
for itself (run one worker per node, the default, or scrape each process).
"""

from __future__ import annotations

import hmac
import logging
import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from prometheus_client import REGISTRY, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

logger = logging.getLogger(__name__)

# Latency of whole requests (streams included) and time to the first streamed byte, in seconds.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300)
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60)

REQUESTS = Counter(
    "oneapi_relay_requests", "Relay requests answered, by endpoint and HTTP status", ["mode", "status"]
)
ERRORS = Counter("oneapi_relay_errors", "Relay requests answered with HTTP 4xx/5xx", ["mode", "status"])
LATENCY = Histogram(
    "oneapi_relay_request_duration_seconds", "Relay request duration", ["mode"], buckets=LATENCY_BUCKETS
)
TTFT = Histogram(
    "oneapi_relay_time_to_first_token_seconds",
    "Time to the first streamed chunk",
    ["mode"],
    buckets=TTFT_BUCKETS,
)
BILLED = Counter("oneapi_relay_billed_requests", "Billed relay requests", ["model", "channel"])
TOKENS = Counter("oneapi_relay_tokens", "Tokens billed", ["model", "channel", "kind"])
QUOTA = Counter("oneapi_relay_quota", "Quota charged", ["model", "channel"])

_MODES = {
    "chat": "chat",
    "completions": "completions",
    "embeddings": "embeddings",
    "engines": "embeddings",
    "moderations": "moderations",
    "images": "images",
    "audio": "audio",
    "edits": "edits",
    "models": "models",
    "messages": "messages",
    "responses": "responses",
}


def _mode(path: str) -> str:
    parts = path.split("/", 3)  # "", "v1", "<mode>", ...
    if len(parts) > 2 and parts[1] == "v1":
        return _MODES.get(parts[2], "other")
    return "billing" if path.startswith("/dashboard/") else "other"


class _Children:
    """``metric.labels(...)`` children kept per label tuple: one dict lookup per request instead of a lock."""

    def __init__(self, metric) -> None:
        self._metric = metric
        self._children: dict[tuple, object] = {}

    def __call__(self, *labels):
        child = self._children.get(labels)
        if child is None:
            child = self._children[labels] = self._metric.labels(*labels)
        return child


_requests, _errors, _latency, _ttft = (
    _Children(REQUESTS),
    _Children(ERRORS),
    _Children(LATENCY),
    _Children(TTFT),
)
_billed, _tokens, _quota = _Children(BILLED), _Children(TOKENS), _Children(QUOTA)


class _Probe:
    """Wraps ASGI ``send`` to see the status and when the first streamed body chunk leaves."""

    __slots__ = ("_send", "status", "stream", "first_at")

    def __init__(self, send) -> None:
        self._send = send
        self.status = 0
        self.stream = False
        self.first_at = 0.0

    async def send(self, message: dict) -> None:
        if self.status == 0 and message["type"] == "http.response.start":
            self.status = message["status"]
            self.stream = message.get("headers") is not None and any(
                k == b"content-type" and v.startswith(b"text/event-stream") for k, v in message["headers"]
            )
        elif self.stream and not self.first_at and message.get("body"):
            self.first_at = time.perf_counter()
        await self._send(message)


async def observe_relay(app, scope: dict, receive, send) -> None:
    """Run the relay's ASGI app and record the request once it ends (answered, failed or cancelled)."""
    started = time.perf_counter()
    probe = _Probe(send)
    try:
        await app(scope, receive, probe.send)
    finally:
        relay_request_record(scope["path"], probe.status or 499, started, probe.first_at)


def relay_request_record(path: str, status: int, started: float, first_at: float = 0.0) -> None:
    mode = _mode(path)
    code = str(status)
    _requests(mode, code).inc()
    if status >= 400:
        _errors(mode, code).inc()
    _latency(mode).observe(time.perf_counter() - started)
    if first_at:
        _ttft(mode).observe(first_at - started)


def relay_usage_record(
    model: str, channel_id: int, prompt_tokens: int, completion_tokens: int, quota: int
) -> None:
    """Called once per billed request (billing.services.quota_settle)."""
    channel = str(channel_id)
    _billed(model, channel).inc()
    _tokens(model, channel, "prompt").inc(prompt_tokens)
    _tokens(model, channel, "completion").inc(completion_tokens)
    _quota(model, channel).inc(quota)


class _ScrapeTimeCollector:
    """Channel status (from the database) and cache hit counts, computed when /metrics is read."""

    def describe(self):
        # Without describe(), registering would call collect() and touch the database at import time.
        yield GaugeMetricFamily("oneapi_channel_status", "")
        yield GaugeMetricFamily("oneapi_relay_in_flight", "")
        yield CounterMetricFamily("oneapi_cache_lookups", "", labels=["cache", "result"])
        yield GaugeMetricFamily("oneapi_cache_hit_ratio", "", labels=["cache"])

    def collect(self):
        yield from self._channels()
        from relay.http_io import InFlight

        yield GaugeMetricFamily("oneapi_relay_in_flight", "Relay requests running now", value=InFlight.count)
        yield from self._caches()

    def _channels(self):
        from channels_app.models import Channel

        status = GaugeMetricFamily(
            "oneapi_channel_status",
            "Channel status: 1 enabled, 2 manually disabled, 3 automatically disabled",
            labels=["channel", "name", "type"],
        )
        try:
            for pk, name, kind, value in Channel.objects.values_list("pk", "name", "type", "status"):
                status.add_metric([str(pk), name, str(kind)], value)
        except Exception:
            logger.warning("channel status not available for /metrics", exc_info=True)
        yield status

    def _caches(self):
        from accounts.auth_cache import auth_cache
        from channels_app.routing import routing_table

        counts = {
            "keys": (auth_cache.hits, auth_cache.misses),
            "routing": (routing_table.hits, routing_table.loads),
        }
        lookups = CounterMetricFamily(
            "oneapi_cache_lookups",
            "In-process cache lookups (miss = loaded from the database)",
            labels=["cache", "result"],
        )
        ratio = GaugeMetricFamily(
            "oneapi_cache_hit_ratio", "Share of lookups served from memory", labels=["cache"]
        )
        for cache, (hits, misses) in counts.items():
            lookups.add_metric([cache, "hit"], hits)
            lookups.add_metric([cache, "miss"], misses)
            ratio.add_metric([cache], hits / (hits + misses) if hits + misses else 1.0)
        yield lookups
        yield ratio


REGISTRY.register(_ScrapeTimeCollector())


# --- views ---------------------------------------------------------------------------------------------------


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text format; ``Authorization: Bearer <MetricsToken>``. No token configured: 404."""
    from config.options import option_str

    token = option_str("MetricsToken")
    if not token:
        raise Http404("metrics are disabled (set the MetricsToken option)")
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        response = HttpResponse("metrics need Authorization: Bearer <MetricsToken>\n", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)


def healthz_view(request: HttpRequest) -> HttpResponse:
    """The process is alive and answering (nothing else is checked: a load balancer restarts on this)."""
    return JsonResponse({"status": "ok"})


def readyz_view(request: HttpRequest) -> HttpResponse:
    """Can this node serve? Every database answers, and Redis when one is configured. 503 otherwise."""
    checks: dict[str, str] = {}
    for alias in settings.DATABASES:
        checks[f"database:{alias}"] = _check(lambda alias=alias: _database_ping(alias))
    if settings.REDIS_CONN_STRING:
        checks["redis"] = _check(_redis_ping)
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _check(probe) -> str:
    try:
        probe()
    except Exception as exc:
        logger.warning("readiness check failed: %s", exc.__class__.__name__)
        return f"failed: {exc.__class__.__name__}"
    return "ok"


def _database_ping(alias: str) -> None:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis_ping() -> None:
    from django_redis import get_redis_connection

    get_redis_connection("default").ping()
