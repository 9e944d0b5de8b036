"""Log retention: old consume and test logs go in batches; the audit trail stays; 0 days keeps everything."""

from __future__ import annotations

import time

from config.options import option_set
from logs_app.models import Log, LogType
from logs_app.retention import logs_delete_expired
from logs_app.tasks import log_delete_expired_task

DAY = 86400


def _logs(kind: int, age_days: float, count: int = 1) -> None:
    now = int(time.time())
    Log.objects.bulk_create([Log(type=kind, created_at=now - int(age_days * DAY)) for _ in range(count)])


def test_it_keeps_everything_by_default(db):
    _logs(LogType.CONSUME, 400, 3)
    assert logs_delete_expired() == 0 and Log.objects.count() == 3


def test_it_deletes_old_consume_and_test_logs_and_keeps_the_audit_trail(db):
    option_set("LogRetentionDays", "30")
    _logs(LogType.CONSUME, 31, 4)
    _logs(LogType.TEST, 45, 2)
    _logs(LogType.CONSUME, 29, 3)
    for kind in (LogType.TOPUP, LogType.MANAGE, LogType.SYSTEM):
        _logs(kind, 365)
    assert logs_delete_expired() == 6
    remaining = sorted(Log.objects.values_list("type", flat=True))
    assert remaining == [
        LogType.TOPUP,
        LogType.CONSUME,
        LogType.CONSUME,
        LogType.CONSUME,
        LogType.MANAGE,
        LogType.SYSTEM,
    ]


def test_it_deletes_in_batches(db):
    _logs(LogType.CONSUME, 10, 10)
    progress: list[int] = []
    pauses: list[float] = []
    assert logs_delete_expired(days=1, batch=3, progress=progress.append, sleep=pauses.append) == 10
    assert progress == [3, 6, 9, 10] and len(pauses) == 3
    assert not Log.objects.exists()


def test_the_periodic_task_uses_the_option(db):
    option_set("LogRetentionDays", "7")
    _logs(LogType.CONSUME, 8, 2)
    _logs(LogType.CONSUME, 6, 1)
    assert log_delete_expired_task.apply().get() == 2
