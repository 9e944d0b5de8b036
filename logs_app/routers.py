"""Send the ``logs`` table to the ``logs`` database when LOG_SQL_DSN configures one."""

from __future__ import annotations

from django.conf import settings

_LOG_APP = "logs_app"


def _has_log_database() -> bool:
    return "logs" in settings.DATABASES


class LogDatabaseRouter:
    def db_for_read(self, model, **hints):
        return "logs" if model._meta.app_label == _LOG_APP and _has_log_database() else None

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if not _has_log_database():
            return None
        if app_label == _LOG_APP:
            return db == "logs"
        return db != "logs"
