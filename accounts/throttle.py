"""Brute-force protection for password login, code e-mails and resets (Django cache counters).

Failures are counted per client IP and per account name in fixed windows. The IP limit mirrors the original's
"critical" limit (20 per 1200 s); the account limit stops a botnet from spreading guesses over many IPs. With
Redis configured the counters are shared by every node; with the local-memory cache they are per process,
which is what the original did too.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core.cache import cache

WINDOW_S = 1200
IP_LIMIT = 20
ACCOUNT_LIMIT = 10


@dataclass(frozen=True)
class Bucket:
    scope: str
    limit: int = IP_LIMIT
    window_s: int = WINDOW_S

    def _key(self, subject: str) -> str:
        digest = hashlib.sha256(subject.lower().encode()).hexdigest()[:32]
        return f"throttle:{self.scope}:{int(time.time()) // self.window_s}:{digest}"

    def blocked(self, subject: str) -> bool:
        return bool(subject) and (cache.get(self._key(subject)) or 0) >= self.limit

    def hit(self, subject: str) -> int:
        if not subject:
            return 0
        key = self._key(subject)
        if cache.add(key, 1, self.window_s):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, self.window_s)
            return 1

    def reset(self, subject: str) -> None:
        if subject:
            cache.delete(self._key(subject))


LOGIN_BY_IP = Bucket("login-ip", IP_LIMIT)
LOGIN_BY_ACCOUNT = Bucket("login-account", ACCOUNT_LIMIT)
# E-mails cost money and reputation: a code or reset link per address at most 5 times per window.
EMAIL_BY_IP = Bucket("email-ip", IP_LIMIT)
EMAIL_BY_ADDRESS = Bucket("email-address", 5)


def login_blocked(*, ip: str, username: str) -> bool:
    return LOGIN_BY_IP.blocked(ip) or LOGIN_BY_ACCOUNT.blocked(username)


def login_failed(*, ip: str, username: str) -> None:
    LOGIN_BY_IP.hit(ip)
    LOGIN_BY_ACCOUNT.hit(username)


def login_succeeded(*, username: str) -> None:
    LOGIN_BY_ACCOUNT.reset(username)


def email_allowed(*, ip: str, address: str) -> bool:
    """Count one e-mail request; False once the IP or the address has used up its window."""
    if EMAIL_BY_IP.blocked(ip) or EMAIL_BY_ADDRESS.blocked(address):
        return False
    EMAIL_BY_IP.hit(ip)
    EMAIL_BY_ADDRESS.hit(address)
    return True
