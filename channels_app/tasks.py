"""Celery tasks for channels; each only calls a service (schedule: config.celery.beat_schedule)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def channel_test_all_task(scope: str = "all", manual: bool = False) -> dict:
    """Test every channel (periodic: every CHANNEL_TEST_FREQUENCY minutes; manual: the console's button)."""
    from channels_app.testing import channels_test_all

    return channels_test_all(scope=scope, manual=manual).as_dict()


@shared_task
def channel_balance_update_all_task() -> dict:
    """Update the balance of every enabled channel that has a balance endpoint."""
    from channels_app.balance import channel_balances_update_all

    summary = channel_balances_update_all()
    return {
        "updated": len(summary.updated),
        "unknown": len(summary.unknown),
        "disabled": len(summary.disabled),
    }
