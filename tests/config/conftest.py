"""End the database sessions that background threads (log writer, batch flusher) keep, so PostgreSQL can drop
the test database when only these tests ran (tests/relay's gateway fixture does the same for its run)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session", autouse=True)
def _end_background_sessions(django_db_setup, django_db_blocker):
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
