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
