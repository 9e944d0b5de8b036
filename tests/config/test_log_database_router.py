"""LOG_SQL_DSN puts the logs table (and only it) in its own database."""

from __future__ import annotations

from accounts.models import User
from logs_app.models import Log
from logs_app.routers import LogDatabaseRouter


def test_without_a_log_database_everything_stays_on_default():
    router = LogDatabaseRouter()
    assert router.db_for_write(Log) is None and router.db_for_read(User) is None
    assert router.allow_migrate("default", "logs_app") is None


def test_with_a_log_database_logs_go_there_and_nothing_else_does(monkeypatch):
    from django.conf import settings

    # Patch the dict in place: the router only asks whether a "logs" alias is configured.
    monkeypatch.setitem(
        settings.DATABASES, "logs", {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}
    )
    router = LogDatabaseRouter()
    assert router.db_for_write(Log) == "logs" and router.db_for_read(Log) == "logs"
    assert router.db_for_write(User) is None
    assert router.allow_migrate("logs", "logs_app") is True
    assert router.allow_migrate("default", "logs_app") is False
    assert router.allow_migrate("logs", "accounts") is False
    assert router.allow_migrate("default", "accounts") is True
