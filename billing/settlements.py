"""The settlement writer: sums of settled quota, written to the database by one background thread.

A request's settlement (the real cost against what was reserved) is added here in memory, on the event loop,
and the request is done; the writer thread applies the sums. Within about 50 ms (the default: the first
settlement wakes the thread, which gathers what arrives meanwhile into one transaction) or, with
BATCH_UPDATE_ENABLED, every BATCH_UPDATE_INTERVAL seconds as the original does. Both at exit and on shutdown.

Why: settling in the request's own worker thread cost a thread hand-off and three autocommitted UPDATEs per
request. Here a burst of N settlements on one key costs three UPDATEs in one transaction. Rows are updated
in id order (keys, users, channels), so writers on several nodes cannot deadlock each other; reservations,
which guard the balance, stay synchronous single UPDATEs on the request path.

Exactly once: ``Reservation.settled`` is set before a settlement is added; a batch is written all or nothing,
and one that fails is put back and retried (the writer backs off for a second).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, transaction

from accounts.models import Token, User
from billing.quota_sql import row_add
from billing.usage import Reservation
from channels_app.models import Channel
from config.db_writes import serialized_writes

logger = logging.getLogger(__name__)

_RETRY_AFTER_S = 1.0
# After the first settlement wakes it, the writer waits this long for more to share its transaction: writing
# each one at once competed with the next request for the GIL (+0.3 ms per request at one at a time).
_GATHER_S = 0.05
_IDLE_CLOSE_S = 30.0  # the writer's database connection is closed after this long with nothing to write


class SettlementWriter:
    def __init__(self, release_holds) -> None:
        self._release_holds = release_holds  # billing.services' key holds end once the sums are written
        self._lock = threading.Lock()
        self._written = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._now = threading.Event()  # skip the gathering wait (someone waits for the writes)
        self._close_db = threading.Event()
        self._db_closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._writing = 0  # settlements taken by a flush that has not finished
        self._batching = False  # whether the thread is waiting out a batch interval
        self._reset()

    def _reset(self) -> None:
        self.users: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # quota delta, used, requests
        self.tokens: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # remain delta, used delta
        self.channels: dict[int, int] = defaultdict(int)
        self.holds: dict[int, int] = defaultdict(int)  # key holds released once the deltas are written
        self.count = 0

    # --- called by the relay (event loop or worker threads) -----------------------------------------------

    def add(self, reservation: Reservation, quota: int, delta: int, channel_id: int) -> None:
        with self._lock:
            user = self.users[reservation.user_id]
            user[0] += delta
            user[1] += quota
            user[2] += 1
            token = self.tokens[reservation.token_id]
            token[0] += 0 if reservation.token_unlimited else delta
            token[1] += quota if reservation.token_unlimited else delta
            if quota and channel_id:
                self.channels[channel_id] += quota
            if reservation.amount > 0 and not reservation.token_unlimited:
                self.holds[reservation.token_id] += 1
            self.count += 1
        self._ensure_thread()
        if not settings.BATCH_UPDATE_ENABLED or not self._batching:
            self._wake.set()  # now, or (batch mode) so that the thread starts counting its interval

    def pending(self) -> int:
        """Settlements added but not yet written (including any being written now)."""
        with self._lock:
            return self.count + self._writing

    def wait_written(self, timeout: float = 10.0) -> bool:
        """Block until everything added so far is written (immediate mode); True if it was in time. With
        BATCH_UPDATE_ENABLED the sums wait for their interval by design, so this returns at once."""
        if settings.BATCH_UPDATE_ENABLED:
            return True
        deadline = time.monotonic() + timeout
        self._now.set()  # once: settlements added while waiting wake the writer themselves
        self._wake.set()
        with self._written:
            while self.count + self._writing:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._written.wait(left)
        return True

    # --- writing ------------------------------------------------------------------------------------------

    def flush(self) -> int:
        """Write the sums now, in one transaction; returns how many rows were touched."""
        with self._lock:
            users, tokens, channels, holds, count = (
                self.users,
                self.tokens,
                self.channels,
                self.holds,
                self.count,
            )
            self._reset()
            self._writing += count
        try:
            written = self._write(users, tokens, channels)
        except BaseException:
            self._restore(users, tokens, channels, holds, count)  # goes out with the next flush
            raise
        finally:
            with self._written:
                self._writing -= count
                self._written.notify_all()
        for token_id, held in holds.items():
            self._release_holds(token_id, held)
        return written

    def _write(self, users: dict, tokens: dict, channels: dict) -> int:
        if not (users or tokens or channels):
            return 0
        now = int(time.time())
        # Keys before users, each in id order: the order a reservation locks them in, so a reservation and
        # a settlement batch (or two nodes' batches) never wait for each other in a circle.
        with serialized_writes(), transaction.atomic():
            for token_id in sorted(tokens):
                remain_delta, used = tokens[token_id]
                row_add(
                    Token,
                    token_id,
                    {"remain_quota": -remain_delta, "used_quota": used},
                    sets={"accessed_time": now},
                )
            for user_id in sorted(users):
                delta, used, requests = users[user_id]
                row_add(User, user_id, {"quota": -delta, "used_quota": used, "request_count": requests})
            for channel_id in sorted(channels):
                row_add(Channel, channel_id, {"used_quota": channels[channel_id]})
        return len(users) + len(tokens) + len(channels)

    def _restore(self, users: dict, tokens: dict, channels: dict, holds: dict, count: int) -> None:
        with self._lock:
            for user_id, values in users.items():
                self.users[user_id] = [a + b for a, b in zip(self.users[user_id], values, strict=True)]
            for token_id, values in tokens.items():
                self.tokens[token_id] = [a + b for a, b in zip(self.tokens[token_id], values, strict=True)]
            for channel_id, used in channels.items():
                self.channels[channel_id] += used
            for token_id, held in holds.items():
                self.holds[token_id] += held
            self.count += count

    # --- the thread ---------------------------------------------------------------------------------------

    def close_db(self, timeout: float = 5.0) -> None:
        """Have the writer thread close its database connection (tests dropping their database)."""
        if self._thread is None or not self._thread.is_alive():
            return
        self._db_closed.clear()
        self._close_db.set()
        self._wake.set()
        self._db_closed.wait(timeout)

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(target=self._run, name="one-api-settlements", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        idle_since = time.monotonic()
        next_batch = 0.0
        while True:
            batched = settings.BATCH_UPDATE_ENABLED
            if batched and not self._batching:  # a full interval from when batching began
                next_batch = time.monotonic() + settings.BATCH_UPDATE_INTERVAL
            self._batching = batched
            timeout = max(next_batch - time.monotonic(), 0.0) if batched else _IDLE_CLOSE_S
            woken = self._wake.wait(timeout)
            self._wake.clear()
            if self._close_db.is_set():
                self._close_db.clear()
                connections.close_all()
                self._db_closed.set()
            if settings.BATCH_UPDATE_ENABLED != batched:
                continue  # switched while waiting (tests): plan again
            if batched:
                if time.monotonic() < next_batch:
                    continue  # batch mode writes on its interval only (flush() writes on demand)
                next_batch = time.monotonic() + settings.BATCH_UPDATE_INTERVAL
            elif not woken:
                if self.pending() == 0 and time.monotonic() - idle_since >= _IDLE_CLOSE_S:
                    connections.close_all()
                continue
            else:
                self._now.wait(_GATHER_S)
                self._now.clear()
                if settings.BATCH_UPDATE_ENABLED:
                    continue  # switched to batch mode meanwhile
            try:
                if self.flush():
                    idle_since = time.monotonic()
            except (InterfaceError, OperationalError):
                logger.exception("writing settled quota failed (database unreachable?); will retry")
                connections.close_all()
                self._retry_soon()
            except Exception:
                logger.exception("writing settled quota failed; will retry")
                self._retry_soon()

    def _retry_soon(self) -> None:
        time.sleep(_RETRY_AFTER_S)
        if not settings.BATCH_UPDATE_ENABLED:
            self._wake.set()
