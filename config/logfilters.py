"""Logging filters (no Django imports: logging is configured while settings load)."""

from __future__ import annotations

import logging
import time


class OncePerInterval(logging.Filter):
    """Let one record through per ``seconds``; the rest are dropped (a dead Redis errs on every request)."""

    def __init__(self, seconds: float = 300.0) -> None:
        super().__init__()
        self.seconds = seconds
        self._last = float("-inf")

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        if now - self._last < self.seconds:
            return False
        self._last = now
        return True
