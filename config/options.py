"""Typed site options (the ``options`` table), cached in process.

Reads never touch the database in steady state: values live in a process-local dict that is reloaded when
another process bumps the shared version (Django cache; Redis when configured), checked at most once a second,
and at least every SYNC_FREQUENCY seconds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

_VERSION_KEY = "options:version"
_CHECK_EVERY_S = 1.0

BOOL_DEFAULTS: dict[str, bool] = {
    "PasswordLoginEnabled": True,
    "PasswordRegisterEnabled": True,
    "RegisterEnabled": True,
    "LogConsumeEnabled": True,
    "DisplayInCurrencyEnabled": True,
    "DisplayTokenStatEnabled": True,
    "EmailVerificationEnabled": False,
    "GitHubOAuthEnabled": False,
    "OidcEnabled": False,
    "WeChatAuthEnabled": False,
    "TurnstileCheckEnabled": False,
    "AutomaticDisableChannelEnabled": False,
    "AutomaticEnableChannelEnabled": False,
    "ApproximateTokenEnabled": False,
    "EmailDomainRestrictionEnabled": False,
}
INT_DEFAULTS: dict[str, int] = {
    "ChannelDisableThreshold": 5,
    "SMTPPort": 587,
    "QuotaForNewUser": 0,
    "QuotaForInviter": 0,
    "QuotaForInvitee": 0,
    "QuotaRemindThreshold": 1000,
    "PreConsumedQuota": 500,
    "QuotaPerUnit": 500000,
    "RetryTimes": 0,
    "LogRetentionDays": 0,
}
STR_DEFAULTS: dict[str, str] = {
    "SMTPServer": "",
    "SMTPAccount": "",
    "SMTPFrom": "",
    "SMTPToken": "",
    "Notice": "",
    "About": "",
    "HomePageContent": "",
    "Footer": "",
    "Logo": "",
    "ServerAddress": "http://localhost:3000",
    "GitHubClientId": "",
    "GitHubClientSecret": "",
    "LarkClientId": "",
    "LarkClientSecret": "",
    "OidcClientId": "",
    "OidcClientSecret": "",
    "OidcWellKnown": "",
    "OidcAuthorizationEndpoint": "",
    "OidcTokenEndpoint": "",
    "OidcUserinfoEndpoint": "",
    "WeChatServerAddress": "",
    "WeChatServerToken": "",
    "WeChatAccountQRCodeImageURL": "",
    "MessagePusherAddress": "",
    "MessagePusherToken": "",
    "TurnstileSiteKey": "",
    "TurnstileSecretKey": "",
    "TopUpLink": "",
    "ChatLink": "",
    "SystemName": "One API",
    "MetricsToken": "",
    "EmailDomainWhitelist": (
        "gmail.com,163.com,126.com,qq.com,outlook.com,hotmail.com,icloud.com,yahoo.com,foxmail.com"
    ),
}
JSON_OPTIONS = ("ModelRatio", "GroupRatio", "CompletionRatio")
SECRET_SUFFIXES = ("Secret", "SecretKey", "Token")


def is_secret_option(key: str) -> bool:
    return key.endswith(SECRET_SUFFIXES)


def default_value(key: str) -> str:
    """The default of an option as the text stored in the table."""
    if key in BOOL_DEFAULTS:
        return "true" if BOOL_DEFAULTS[key] else "false"
    if key in INT_DEFAULTS:
        return str(INT_DEFAULTS[key])
    if key == "Theme":
        return settings.THEME
    if key in JSON_OPTIONS:
        from billing.ratios import default_ratio_json

        return default_ratio_json(key)
    return STR_DEFAULTS.get(key, "")


def known_keys() -> list[str]:
    return [*BOOL_DEFAULTS, *INT_DEFAULTS, *STR_DEFAULTS, "Theme", *JSON_OPTIONS]


class _OptionStore:
    def __init__(self) -> None:
        self._values: dict[str, str] = {}
        self._parsed: dict[str, Any] = {}
        self._version: object = None
        self._loaded_at = 0.0
        self._checked_at = 0.0
        self._lock = threading.Lock()

    def get(self, key: str) -> str:
        self._refresh_if_stale()
        value = self._values.get(key)
        return default_value(key) if value is None else value

    def parsed(self, key: str, parse) -> Any:
        self._refresh_if_stale()
        if key not in self._parsed:
            self._parsed[key] = parse(self.get(key))
        return self._parsed[key]

    def invalidate(self) -> None:
        self._checked_at = 0.0
        self._version = object()  # force a reload on next read in this process

    def stale(self) -> bool:
        return time.monotonic() - self._checked_at >= _CHECK_EVERY_S

    def _refresh_if_stale(self) -> None:
        if not self.stale() or _in_event_loop():
            # In the event loop the database is off limits; async callers run ``options_arefresh()`` first.
            return
        self.refresh()

    def refresh(self) -> None:
        now = time.monotonic()
        self._checked_at = now
        version = _shared_version()
        if version == self._version and now - self._loaded_at < settings.SYNC_FREQUENCY:
            return
        with self._lock:
            self._load()
            self._version = version
            self._loaded_at = now

    def _load(self) -> None:
        from django.db import DatabaseError

        from config.models import Option

        try:
            self._values = dict(Option.objects.values_list("key", "value"))
        except DatabaseError:  # not migrated yet (first boot, collectstatic)
            logger.debug("options table not readable; using defaults", exc_info=True)
            self._values = {}
        self._parsed = {}


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _shared_version() -> object:
    # A fresh token while the shared cache is away, so options reload from the database every second.
    from config.cache_versions import shared_get

    return shared_get(_VERSION_KEY)


_store = _OptionStore()


async def options_arefresh() -> None:
    """Reload options if another process changed them; call at the start of async request handling."""
    if _store.stale():
        from asgiref.sync import sync_to_async

        await sync_to_async(_store.refresh, thread_sensitive=False)()


def option_str(key: str) -> str:
    return _store.get(key)


def option_bool(key: str) -> bool:
    return _store.get(key).strip().lower() == "true"


def option_int(key: str) -> int:
    return _store.parsed(key, lambda raw: _to_int(raw, INT_DEFAULTS.get(key, 0)))


def option_float(key: str) -> float:
    try:
        return float(_store.get(key))
    except ValueError:
        return float(INT_DEFAULTS.get(key, 0))


def option_json(key: str) -> Any:
    """A JSON option parsed once per reload; invalid stored JSON falls back to the default."""
    return _store.parsed(key, lambda raw: _to_json(key, raw))


def option_set(key: str, value: str) -> None:
    """Save an option and tell every process to reload."""
    from config.models import Option

    Option.objects.update_or_create(key=key, defaults={"value": value})
    options_changed()


def options_changed() -> None:
    """Reload here at once, and on every node once the change is committed (see cache_versions.bump_on_commit)."""
    from django.db import transaction

    _store.invalidate()
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_options_publish)
    else:
        _options_publish()


def _options_publish() -> None:
    from config.cache_versions import shared_set

    if not shared_set(_VERSION_KEY, time.time_ns()):
        logger.warning("could not publish an option change; other nodes reload within SYNC_FREQUENCY")
    _store.invalidate()


def _to_int(raw: str, fallback: int) -> int:
    try:
        return int(float(raw))
    except ValueError:
        return fallback


def _to_json(key: str, raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        logger.error("option %s holds invalid JSON; using the default", key)
        return json.loads(default_value(key))
