"""The console's and the management API's "test all channels" (``relay.tasks.channel_test_all.delay``).

A manual run: it ends with the "test all finished" notification. The periodic run is
``channels_app.tasks.channel_test_all_task``; both call ``channels_app.testing.channels_test_all``.
Without a broker Celery runs tasks eagerly, which would hold the admin's request for the whole run (minutes
with POLLING_INTERVAL), so then ``delay`` starts a background thread instead, as the original's goroutine.
"""

from __future__ import annotations

import threading

from celery import Task, shared_task


class BackgroundWhenEager(Task):
    def apply_async(self, args=None, kwargs=None, **options):
        if not self.app.conf.task_always_eager:
            return super().apply_async(args, kwargs, **options)
        thread = threading.Thread(
            target=_run_and_close,
            args=(self, args or (), kwargs or {}),
            name=f"task-{self.name}",
            daemon=True,
        )
        thread.start()
        return thread


def _run_and_close(task: Task, args: tuple, kwargs: dict) -> None:
    from django.db import connections

    try:
        task.apply(args=args, kwargs=kwargs)
    finally:
        connections.close_all()  # this thread's own connections


@shared_task(base=BackgroundWhenEager)
def channel_test_all(scope: str = "all") -> dict:
    from channels_app.testing import channels_test_all

    return channels_test_all(scope=scope, manual=True).as_dict()
