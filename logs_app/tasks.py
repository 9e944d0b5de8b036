"""Celery tasks for logs; each only calls a service (schedule: config.celery.beat_schedule)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def log_delete_expired_task() -> int:
    from logs_app.retention import logs_delete_expired

    return logs_delete_expired()
