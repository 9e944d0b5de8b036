"""One lock per SQLite database for this process's hot writers (reservations, settlements, consume logs).

SQLite lets one connection write at a time. When a second thread of this process tries, SQLite's busy
handler sleeps 1, 2, 5, 10… ms between tries; a reservation that met the settlement writer's transaction
waited a whole millisecond or more for a lock freed 0.2 ms later. Queuing on a Python lock instead hands the
database over the moment it is free. Other engines lock rows, not the database: no lock there.
Re-entrant: a transaction holds it around statements that take it too.
"""

from __future__ import annotations

import contextlib
import threading
from contextlib import AbstractContextManager

from django.db import connections

_locks: dict[str, AbstractContextManager] = {}
_guard = threading.Lock()


def serialized_writes(alias: str = "default") -> AbstractContextManager:
    """The lock to hold while writing to database ``alias`` (a no-op context unless it is SQLite)."""
    lock = _locks.get(alias)
    if lock is None:
        with _guard:
            lock = _locks.get(alias)
            if lock is None:
                sqlite = connections[alias].vendor == "sqlite"
                lock = _locks[alias] = threading.RLock() if sqlite else contextlib.nullcontext()
    return lock
