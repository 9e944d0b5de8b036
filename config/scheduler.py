"""Run the Celery beat schedule inside the web process when no broker is configured.

Why: the one-command SQLite install must still test channels, update balances and flush batched quota on
time without Redis, and Celery's in-memory transport cannot cross processes. A daemon thread that calls each
task eagerly on its interval is the smallest thing that keeps the same tasks and schedule in both set-ups.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time

from django.conf import settings

logger = logging.getLogger(__name__)
_started = False


def start_in_process_scheduler() -> None:
    global _started
    if _started or settings.CELERY_BROKER_URL or not settings.IS_MASTER_NODE or settings.TESTING:
        return
    _started = True
    threading.Thread(target=_run_forever, name="one-api-scheduler", daemon=True).start()


def _run_forever() -> None:
    from config.celery import app, beat_schedule

    schedule = beat_schedule()
    next_run = {name: time.monotonic() + entry["schedule"] for name, entry in schedule.items()}
    logger.info("in-process scheduler running %d periodic jobs", len(schedule))
    while True:
        now = time.monotonic()
        for name, entry in schedule.items():
            if now < next_run[name]:
                continue
            next_run[name] = now + entry["schedule"]
            _run_job(app, name, entry["task"])
        time.sleep(1)


def _run_job(app, name: str, task_name: str) -> None:
    from django.db import close_old_connections

    try:
        # Import the task's module by name: without a worker nothing runs Celery's autodiscovery, so
        # ``app.tasks`` would not know the project's tasks.
        module, _, attr = task_name.rpartition(".")
        task = getattr(importlib.import_module(module), attr)
        task.apply(throw=True)
    except Exception:
        logger.exception("periodic job %s failed", name)
    finally:
        close_old_connections()
