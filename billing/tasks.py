"""Celery tasks for billing; each only calls a service (schedule: config.celery.beat_schedule)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def quota_flush_batched_task() -> dict:
    """Write this process's batched quota deltas and queued consume logs.

    Web processes also flush their own buffers every BATCH_UPDATE_INTERVAL seconds and on shutdown; this task
    is what the in-process scheduler runs, and a harmless no-op in a worker (whose buffers are empty).
    """
    from billing.services import quota_flush_batched
    from logs_app.consume import consume_logs_flush

    return {"quota_rows": quota_flush_batched(), "logs": consume_logs_flush()}


@shared_task
def quota_remind_low_task() -> int:
    from billing.reminders import quota_remind_low_users

    return quota_remind_low_users()
