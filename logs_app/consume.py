"""Consume logs, written off the request path.

The relay hands each finished request's log row to ``consume_log_create``; a background thread inserts the
queued rows in batches (every 0.5 s, or sooner when many are waiting), and on interpreter exit whatever is
still queued is written before the process ends.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time

from django.db import close_old_connections

from logs_app.models import Log, LogType

logger = logging.getLogger(__name__)

_FLUSH_EVERY_S = 0.5
_BATCH = 500


class _LogWriter:
    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Log] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()

    def put(self, row: Log) -> None:
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
                    Log.objects.bulk_create(rows, batch_size=_BATCH)
                    written += len(rows)
                except Exception:
                    logger.exception("could not write %d consume logs; retrying shortly", len(rows))
                    close_old_connections()
                    for row in rows:
                        self._queue.put(row)
                    return written

    def _drain(self) -> list[Log]:
        rows: list[Log] = []
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
        Log(
            user_id=user_id,
            username=username,
            created_at=int(time.time()),
            type=LogType.CONSUME,
            content=content,
            token_id=token_id,
            token_name=token_name,
            model_name=model_name,
            quota=quota,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            channel_id=channel_id,
            request_id=request_id,
            elapsed_time=elapsed_ms,
            is_stream=is_stream,
            system_prompt_reset=system_prompt_reset,
        )
    )


def consume_logs_flush() -> int:
    """Write queued consume logs now (tests, shutdown, the flush command)."""
    return _writer.flush()
