"""Celery app. Workers and beat need a broker (Redis); without one, config.scheduler runs the schedule."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("one_api")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def beat_schedule() -> dict[str, dict]:
    """Every periodic job in one place: task name → interval in seconds (0 = off). None on slave nodes."""
    from django.conf import settings

    if not settings.IS_MASTER_NODE:
        return {}
    jobs = {
        "channel-test-all": (
            "channels_app.tasks.channel_test_all_task",
            settings.CHANNEL_TEST_FREQUENCY * 60,
        ),
        "channel-balance-update-all": (
            "channels_app.tasks.channel_balance_update_all_task",
            settings.CHANNEL_UPDATE_FREQUENCY * 60,
        ),
        "billing-flush-batched-updates": (
            "billing.tasks.quota_flush_batched_task",
            settings.BATCH_UPDATE_INTERVAL if settings.BATCH_UPDATE_ENABLED else 0,
        ),
        "logs-delete-expired": ("logs_app.tasks.log_delete_expired_task", 3600),  # LogRetentionDays
        "quota-remind-low": ("billing.tasks.quota_remind_low_task", 3600),  # QuotaRemindThreshold
    }
    return {name: {"task": task, "schedule": every} for name, (task, every) in jobs.items() if every > 0}


app.conf.beat_schedule = {}


@app.on_after_finalize.connect
def _install_beat_schedule(sender: Celery, **kwargs) -> None:
    sender.conf.beat_schedule = beat_schedule()
