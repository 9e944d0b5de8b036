"""Log retention: delete usage logs older than ``LogRetentionDays`` (0 = keep forever, the default).

Why: the logs table is the one that grows without bound (PEERS §3 item 21: tens of GB in the peers). Only
consume (type 2) and channel-test (type 5) rows go; top-ups, management and system rows are the audit trail
and stay. Deletion runs in batches of ``BATCH`` ids, each its own short autocommit statement, with a pause
between batches, so neither PostgreSQL/MySQL row locks nor SQLite's single writer lock are held for long and
the relay's log writer keeps inserting while a purge of millions of rows goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from config.options import option_int
from logs_app.models import Log, LogType

logger = logging.getLogger(__name__)

BATCH = 5000
PAUSE_S = 0.05  # between batches: lets waiting writers in
EXPIRING_TYPES = (LogType.CONSUME, LogType.TEST)


def logs_delete_expired(
    *,
    days: int | None = None,
    batch: int = BATCH,
    progress: Callable[[int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Delete expiring logs older than ``days`` (default: the LogRetentionDays option); returns the count."""
    days = option_int("LogRetentionDays") if days is None else days
    if days <= 0:
        return 0
    cutoff = int(time.time()) - days * 86400
    expired = Log.objects.filter(created_at__lt=cutoff, type__in=EXPIRING_TYPES).order_by()
    total = 0
    while True:
        ids = list(expired.values_list("id", flat=True)[:batch])
        if not ids:
            break
        deleted, _ = Log.objects.filter(id__in=ids).delete()
        total += deleted
        if progress is not None:
            progress(total)
        if len(ids) < batch:
            break
        sleep(PAUSE_S)
    if total:
        logger.info("deleted %d logs older than %d days", total, days)
    return total
