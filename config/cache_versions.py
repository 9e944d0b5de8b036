"""Shared "something changed" counters that let every node drop its in-process caches within a second.

Writers call ``bump(name)`` after changing users, keys, channels or options; readers call ``changed(name, seen)``
at most once a second. The counters live in the Django cache (Redis when configured, so they cross nodes).
Losing Redis only delays invalidation to SYNC_FREQUENCY, because readers also reload on that period.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

logger = logging.getLogger(__name__)

AUTH = "auth"  # users and API keys
CHANNELS = "channels"  # channels and abilities
_warned_at = 0.0


def _key(name: str) -> str:
    return f"version:{name}"


def bump(name: str) -> None:
    try:
        try:
            cache.incr(_key(name))
        except ValueError:  # key missing
            cache.set(_key(name), time.time_ns(), None)
    except Exception:
        _warn_once("could not publish a cache invalidation; other nodes catch up within SYNC_FREQUENCY")
    _local_bumps[name] = _local_bumps.get(name, 0) + 1


def current(name: str) -> tuple[object, int]:
    """A token that changes whenever ``bump(name)`` was called on any node (or locally)."""
    try:
        shared = cache.get(_key(name))
    except Exception:
        _warn_once("shared cache unreachable; serving from local caches and the database")
        shared = None
    return shared, _local_bumps.get(name, 0)


_local_bumps: dict[str, int] = {}


def _warn_once(message: str) -> None:
    global _warned_at
    now = time.monotonic()
    if now - _warned_at > 300:
        _warned_at = now
        logger.warning(message)


class VersionedSnapshot:
    """A process-local value rebuilt when ``bump(name)`` ran anywhere, or after ``max_age`` seconds.

    The relay reads through this on every request, so the fast path is two comparisons; the shared version
    is read from the cache at most once a second, in a worker thread (Redis calls are blocking).
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
            return self._value
        self._checked_at = now
        version = await sync_to_async(current, thread_sensitive=False)(self.name)
        if version != self._version or self._local_stale(now):
            self._value = await sync_to_async(self._loader, thread_sensitive=False)()
            self._version = version
            self._loaded_at = now
        return self._value

    def get(self):
        """Synchronous twin of ``aget`` for code that already runs in a worker thread."""
        now = time.monotonic()
        if not self._local_stale(now) and now - self._checked_at < self._check_every:
            return self._value
        self._checked_at = now
        version = current(self.name)
        if version != self._version or self._local_stale(now):
            self._value = self._loader()
            self._version = version
            self._loaded_at = now
        return self._value
