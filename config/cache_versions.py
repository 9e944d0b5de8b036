"""Shared "something changed" counters that let every node drop its in-process caches within a second.

Writers call ``bump(name)`` after changing users, keys, channels or options (model signals and services do it
once the transaction has committed, ``bump_on_commit``); readers call ``current(name)`` at most once a
second. The counters live in the Django cache (Redis when configured, so they cross nodes).

When the shared cache is unreachable, ``current`` answers a new token on every call, so each reader reloads
from the database at every check (once a second): slower, but a key deleted or a channel disabled on another
node still stops working within a second or two. After a failure the shared cache is not tried again for
``RETRY_AFTER_S`` seconds, so a Redis that hangs costs at most one connect timeout per period, not one per
request. The outage is logged once when it starts and once when it ends; when Redis is back the versions
differ from the outage tokens and every cache rebuilds.
"""

from __future__ import annotations

import itertools
import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

AUTH = "auth"  # users and API keys
CHANNELS = "channels"  # channels and abilities
RETRY_AFTER_S = 5.0

_local_bumps: dict[str, int] = {}
_outage_tokens = itertools.count()


class SharedCacheDown(Exception):
    """The shared cache did not answer (or is resting after a failure)."""


class _Health:
    down = False
    retry_at = 0.0


_health = _Health()


def _client():
    """django-redis's raw client raises on connection errors even with IGNORE_EXCEPTIONS (which makes
    ``cache.get`` answer None); other backends (locmem in tests and single-node installs) are used as is."""
    return getattr(cache, "client", None) or cache


def shared(operation):
    """Run ``operation(client)`` against the shared cache; raise SharedCacheDown if it is unreachable."""
    now = time.monotonic()
    if _health.down and now < _health.retry_at:
        raise SharedCacheDown
    try:
        result = operation(_client())
    except ValueError:  # incr of a missing key: an answer, not an outage
        raise
    except Exception as exc:
        _health.retry_at = now + RETRY_AFTER_S
        if not _health.down:
            _health.down = True
            logger.warning(
                "shared cache (Redis) unreachable (%s): serving from the database, caches reload every second",
                exc.__class__.__name__,
            )
        raise SharedCacheDown from None
    if _health.down:
        _health.down = False
        logger.warning("shared cache (Redis) reachable again: caches rebuild")
    return result


def shared_get(key: str) -> object:
    """The value at ``key``, or a token never seen before when the shared cache is unreachable."""
    try:
        return shared(lambda client: client.get(key))
    except SharedCacheDown:
        return ("unreachable", next(_outage_tokens))


def shared_set(key: str, value: object) -> bool:
    try:
        shared(lambda client: client.set(key, value, None))
    except SharedCacheDown:
        return False
    return True


def _key(name: str) -> str:
    return f"version:{name}"


def bump(name: str) -> None:
    _local_bumps[name] = _local_bumps.get(name, 0) + 1
    try:
        try:
            shared(lambda client: client.incr(_key(name)))
        except ValueError:  # key missing
            shared(lambda client: client.set(_key(name), time.time_ns(), None))
    except SharedCacheDown:
        pass  # logged by ``shared``; other nodes reload every second while the cache is away


def bump_on_commit(name: str, using: str | None = None) -> None:
    """Bump after the current transaction commits (at once outside one).

    Why: a bump inside a transaction lets other nodes reload *before* the change is visible to them, keep the
    old value and call it current until SYNC_FREQUENCY. This process forgets at once (it may read its own
    uncommitted rows) and again after the commit. One pending bump per name and transaction is enough.
    """
    from django.db import transaction

    _local_bumps[name] = _local_bumps.get(name, 0) + 1
    connection = transaction.get_connection(using)
    if not connection.in_atomic_block:
        bump(name)
        return
    marker = f"cache_versions.bump:{name}"
    if any(getattr(func, "bump_marker", None) == marker for _sids, func, _robust in connection.run_on_commit):
        return

    def publish() -> None:
        bump(name)

    publish.bump_marker = marker  # type: ignore[attr-defined]
    transaction.on_commit(publish, using=using)


def current(name: str) -> tuple[object, int]:
    """A token that changes whenever ``bump(name)`` was called on any node (or locally)."""
    return shared_get(_key(name)), _local_bumps.get(name, 0)


class VersionedSnapshot:
    """A process-local value rebuilt when ``bump(name)`` ran anywhere, or after ``max_age`` seconds.

    The relay reads through this on every request, so the fast path is two comparisons; the shared version
    is read from the cache at most once a second, in a worker thread (Redis calls are blocking).
    ``hits``/``loads`` feed the cache hit rate on /metrics (plain ints: an increment under the GIL).
    """

    def __init__(self, name: str, loader, *, max_age: float, check_every: float = 1.0) -> None:
        self.name = name
        self._loader = loader
        self._max_age = max_age
        self._check_every = check_every
        self._value = None
        self._version: tuple[object, int] | None = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self.hits = 0
        self.loads = 0

    def _local_stale(self, now: float) -> bool:
        return (
            self._version is None
            or _local_bumps.get(self.name, 0) != self._version[1]
            or now - self._loaded_at > self._max_age
        )

    async def aget(self):
        from asgiref.sync import sync_to_async

        now = time.monotonic()
        if not self._local_stale(now) and now - self._checked_at < self._check_every:
            self.hits += 1
            return self._value
        self._checked_at = now
        version = await sync_to_async(current, thread_sensitive=False)(self.name)
        if version != self._version or self._local_stale(now):
            self._value = await sync_to_async(self._loader, thread_sensitive=False)()
            self._version = version
            self._loaded_at = now
            self.loads += 1
        else:
            self.hits += 1
        return self._value

    def get(self):
        """Synchronous twin of ``aget`` for code that already runs in a worker thread."""
        now = time.monotonic()
        if not self._local_stale(now) and now - self._checked_at < self._check_every:
            self.hits += 1
            return self._value
        self._checked_at = now
        version = current(self.name)
        if version != self._version or self._local_stale(now):
            self._value = self._loader()
            self._version = version
            self._loaded_at = now
            self.loads += 1
        else:
            self.hits += 1
        return self._value
