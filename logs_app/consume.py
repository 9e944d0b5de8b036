"""Consume logs, written off the request path.

The relay hands each finished request's log row to ``consume_log_create``; a background thread inserts the
queued rows in batches (every 0.5 s, or sooner when many are waiting), and on interpreter exit whatever is
still queued is written before the process ends.

Rows travel as plain tuples and go in with one prepared multi-row INSERT per batch, in one transaction:
building ``Log`` instances and ``bulk_create`` cost ~90 µs of CPU per row, held the GIL for 20-30 ms per
batch under load and so delayed the event loop's requests; this costs a tenth of that.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time

from django.db import close_old_connections, connections, router, transaction

from config.db_writes import serialized_writes
from logs_app.models import Log, LogType

logger = logging.getLogger(__name__)

_FLUSH_EVERY_S = 0.5
_BATCH = 500


# Every column but the id, in this order, for each queued row.
_COLUMNS = (
    "user_id", "created_at", "type", "content", "username", "token_id", "token_name", "model_name", "quota",
    "prompt_tokens", "completion_tokens", "channel_id", "request_id", "elapsed_time", "is_stream",
    "system_prompt_reset",
)  # fmt: skip
_insert_sql: dict[str, str] = {}


def _insert(rows: list[tuple]) -> None:
    alias = router.db_for_write(Log)
    sql = _insert_sql.get(alias)
    if sql is None:
        quote = connections[alias].ops.quote_name
        columns = ", ".join(quote(Log._meta.get_field(name).column) for name in _COLUMNS)
        marks = ", ".join(["%s"] * len(_COLUMNS))
        sql = _insert_sql[alias] = f"INSERT INTO {quote(Log._meta.db_table)} ({columns}) VALUES ({marks})"
    with serialized_writes(alias), transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.executemany(sql, rows)


class _LogWriter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[tuple] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def put(self, row: tuple) -> None:
        self._queue.put(row)
        self._ensure_thread()
        if self._queue.qsize() >= _BATCH:
            self._wake.set()

    def flush(self) -> int:
        """Write everything queued now; returns the number of rows written."""
        written = 0
        with self._lock:
            while True:
                rows = self._drain()
                if not rows:
                    return written
                try:
                    _insert(rows)
                    written += len(rows)
                except Exception:
                    logger.exception("could not write %d consume logs; retrying shortly", len(rows))
                    close_old_connections()
                    for row in rows:
                        self._queue.put(row)
                    return written

    def _drain(self) -> list[tuple]:
        rows: list[tuple] = []
        while len(rows) < _BATCH:
            try:
                rows.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return rows

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="one-api-log-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(_FLUSH_EVERY_S)
            self._wake.clear()
            if not self._queue.empty():
                self.flush()


_writer = _LogWriter()
atexit.register(_writer.flush)


def consume_log_create(
    *,
    user_id: int,
    username: str,
    token_id: int,
    token_name: str,
    model_name: str,
    quota: int,
    prompt_tokens: int,
    completion_tokens: int,
    channel_id: int,
    request_id: str,
    elapsed_ms: int,
    is_stream: bool,
    system_prompt_reset: bool,
    content: str,
) -> None:
    """Queue a type-2 (consume) log row; it reaches the database within about half a second."""
    _writer.put(
        (
            user_id,
            int(time.time()),
            LogType.CONSUME.value,
            content,
            username,
            token_id,
            token_name,
            model_name,
            quota,
            prompt_tokens,
            completion_tokens,
            channel_id,
            request_id,
            elapsed_ms,
            is_stream,
            system_prompt_reset,
        )
    )


def consume_logs_flush() -> int:
    """Write queued consume logs now (tests, shutdown, the flush command)."""
    return _writer.flush()
