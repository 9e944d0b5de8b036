"""Cached, immutable views of API keys and their owners for the relay's hot path.

Entries are kept per process and all dropped when keys or users change on any node (``cache_versions.AUTH``)
or after SYNC_FREQUENCY seconds. Quota is deliberately not cached: it is only ever changed and checked by
atomic database updates (billing.services), so a stale cache can never let a spent key through.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings

from accounts.models import Token, TokenStatus, User, UserStatus
from config import cache_versions

_MAX_ENTRIES = 100_000


@dataclass(frozen=True, slots=True)
class UserSnapshot:
    id: int
    username: str
    group: str
    role: int
    status: int

    @property
    def enabled(self) -> bool:
        return self.status == UserStatus.ENABLED


@dataclass(frozen=True, slots=True)
class TokenSnapshot:
    id: int
    name: str
    user: UserSnapshot
    status: int
    expired_time: int
    unlimited_quota: bool
    models: frozenset[str]
    subnets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    def expired(self, now: float) -> bool:
        return self.expired_time != -1 and self.expired_time < now

    def allows_ip(self, ip: str) -> bool:
        if not self.subnets:
            return True
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in net for net in self.subnets)

    def allows_model(self, model: str) -> bool:
        return not self.models or model in self.models


def parse_subnets(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated CIDRs (or single addresses); raises ValueError on a bad entry."""
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip())


def _snapshot_user(user: User) -> UserSnapshot:
    return UserSnapshot(user.id, user.username, user.group, user.role, user.status)


def _load_token(key: str) -> TokenSnapshot | None:
    token = Token.objects.select_related("user").filter(key=key).first()
    # The index lookup found the row; compare once more in constant time so the decision never leaks timing.
    if token is None or not hmac.compare_digest(token.key.encode(), key.encode()):
        return None
    try:
        subnets = parse_subnets(token.subnet or "")
    except ValueError:
        subnets = (ipaddress.ip_network("0.0.0.0/32"),)  # an unparsable allowlist admits nobody
    return TokenSnapshot(
        id=token.id,
        name=token.name,
        user=_snapshot_user(token.user),
        status=token.status,
        expired_time=token.expired_time,
        unlimited_quota=token.unlimited_quota,
        models=frozenset(m.strip() for m in (token.allowed_models or "").split(",") if m.strip()),
        subnets=subnets,
    )


class _AuthCache:
    def __init__(self) -> None:
        self._tokens: dict[bytes, TokenSnapshot | None] = {}
        self._version: tuple[object, int] | None = None
        self._checked_at = 0.0
        self._loaded_at = 0.0
        self.hits = 0  # for the cache hit rate on /metrics
        self.misses = 0

    async def token(self, key: str) -> TokenSnapshot | None:
        await self._drop_if_stale()
        digest = hashlib.sha256(key.encode()).digest()
        try:
            snapshot = self._tokens[digest]
        except KeyError:
            self.misses += 1
        else:
            self.hits += 1
            return snapshot
        snapshot = await sync_to_async(_load_token, thread_sensitive=False)(key)
        if len(self._tokens) >= _MAX_ENTRIES:
            self._tokens.clear()
        self._tokens[digest] = snapshot
        return snapshot

    async def _drop_if_stale(self) -> None:
        now = time.monotonic()
        local_bumps = cache_versions._local_bumps.get(cache_versions.AUTH, 0)
        local_changed = self._version is not None and self._version[1] != local_bumps
        if not local_changed and now - self._checked_at < 1.0:
            return
        self._checked_at = now
        version = await sync_to_async(cache_versions.current, thread_sensitive=False)(cache_versions.AUTH)
        if version != self._version or now - self._loaded_at > settings.SYNC_FREQUENCY:
            self._tokens = {}
            self._version = version
            self._loaded_at = now

    def clear(self) -> None:
        self._tokens = {}
        self._version = None


auth_cache = _AuthCache()


async def token_snapshot_get(key: str) -> TokenSnapshot | None:
    return await auth_cache.token(key)


def token_mark_status(token_id: int, status: int) -> None:
    """Persist an expiry/exhaustion noticed by the relay, and drop cached copies everywhere."""
    if Token.objects.filter(pk=token_id).exclude(status=status).update(status=status):
        cache_versions.bump(cache_versions.AUTH)


__all__ = ["TokenSnapshot", "UserSnapshot", "TokenStatus", "token_snapshot_get", "token_mark_status"]
