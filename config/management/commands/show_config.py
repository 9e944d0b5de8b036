"""``manage.py show_config``: the effective configuration (environment, databases, options), secrets masked."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

# Settings read from the environment (config/settings.py), in the README's order.
KNOBS = (
    "NODE_TYPE",
    "FRONTEND_BASE_URL",
    "SYNC_FREQUENCY",
    "MEMORY_CACHE_ENABLED",
    "CHANNEL_TEST_FREQUENCY",
    "CHANNEL_UPDATE_FREQUENCY",
    "POLLING_INTERVAL",
    "BATCH_UPDATE_ENABLED",
    "BATCH_UPDATE_INTERVAL",
    "GLOBAL_API_RATE_LIMIT",
    "GLOBAL_WEB_RATE_LIMIT",
    "RELAY_TIMEOUT",
    "RELAY_PROXY",
    "RELAY_MAX_BODY_BYTES",
    "TRUSTED_PROXIES",
    "USER_CONTENT_REQUEST_PROXY",
    "USER_CONTENT_REQUEST_TIMEOUT",
    "ENFORCE_INCLUDE_USAGE",
    "GEMINI_SAFETY_SETTING",
    "GEMINI_VERSION",
    "THEME",
    "ENABLE_METRIC",
    "METRIC_QUEUE_SIZE",
    "METRIC_SUCCESS_RATE_THRESHOLD",
    "TEST_PROMPT",
    "TIKTOKEN_CACHE_DIR",
    "TIME_ZONE",
    "DEBUG",
    "DATA_DIR",
    "LOG_DIR",
    "SQLITE_PATH",
    "SQLITE_BUSY_TIMEOUT",
    "SQL_MAX_OPEN_CONNS",
    "SQL_MAX_LIFETIME",
)
SECRET_KNOBS = ("SECRET_KEY", "INITIAL_ROOT_TOKEN", "INITIAL_ROOT_ACCESS_TOKEN")
URL_KNOBS = ("REDIS_CONN_STRING", "CELERY_BROKER_URL")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@]*:)(?P<secret>[^@]*)(?=@)", re.IGNORECASE)


def mask(value: object) -> str:
    return "(set, hidden)" if value else "(not set)"


def mask_url(url: str) -> str:
    """``redis://:pw@host/0`` → ``redis://:***@host/0``; the one-api MySQL form ``u:pw@tcp(h)/db`` too."""
    if not url:
        return ""
    masked = _URL_PASSWORD.sub(r"\g<head>***", url)
    if masked == url and "@" in url and ":" in url.split("@", 1)[0] and "://" not in url:
        user = url.split("@", 1)[0].split(":", 1)[0]
        masked = f"{user}:***@{url.split('@', 1)[1]}"
    return masked


class Command(BaseCommand):
    help = "Print the configuration this node runs with: environment settings, databases, cache and options."

    def handle(self, *args, **options) -> None:
        self._section("environment")
        for name in KNOBS:
            self._row(name, getattr(settings, name, ""))
        for name in SECRET_KNOBS:
            self._row(name, mask(getattr(settings, name, "")))
        for name in URL_KNOBS:
            self._row(name, mask_url(getattr(settings, name, "")))
        self._section("databases")
        for alias, db in settings.DATABASES.items():
            where = (
                db["NAME"]
                if db["ENGINE"].endswith("sqlite3")
                else f"{db.get('HOST')}:{db.get('PORT')}/{db['NAME']}"
            )
            user = f" as {db['USER']}" if db.get("USER") else ""
            password = " (password hidden)" if db.get("PASSWORD") else ""
            self._row(alias, f"{db['ENGINE'].rsplit('.', 1)[-1]} {where}{user}{password}")
        self._section("cache")
        cache = settings.CACHES["default"]
        self._row(
            "default", f"{cache['BACKEND'].rsplit('.', 1)[-1]} {mask_url(str(cache.get('LOCATION', '')))}"
        )
        self._section("options (database)")
        try:
            from config.options import is_secret_option, known_keys, option_str

            for key in sorted(known_keys()):
                value = option_str(key)
                if is_secret_option(key):
                    value = mask(value)
                elif len(value) > 80:
                    value = value[:77] + "..."
                self._row(key, value)
        except Exception as exc:
            raise CommandError(f"could not read the options table: {exc}") from exc

    def _section(self, title: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(f"[{title}]"))

    def _row(self, name: str, value: object) -> None:
        self.stdout.write(f"  {name} = {value}")
