"""Quota: reserve before the upstream call, settle or release exactly once after it.

Every change is a single atomic ``UPDATE … SET quota = quota - n WHERE … AND quota >= n``: no row is read
first and no lock is held across the upstream call, so concurrent requests on one key can neither overspend
the reservation rules nor deadlock (PostgreSQL, MySQL or SQLite). With BATCH_UPDATE_ENABLED the settlement
deltas (not the reservations, which guard the balance) are summed in memory and flushed periodically.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
import time
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import F

from accounts.models import Token, TokenStatus, User
from billing.quota_sql import row_add
from billing.usage import Charge, Reservation, Usage
from channels_app.models import Channel
from config import cache_versions
from config.observability import relay_usage_record
from config.options import option_bool
from logs_app.consume import consume_log_create

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuotaRefused(Exception):
    status: int
    code: str
    message: str


def text_quota(usage: Usage, *, model_ratio: float, group_ratio: float, completion_ratio: float) -> int:
    """ceil((prompt + completion × completion ratio) × model ratio × group ratio); at least 1 when priced."""
    if usage.prompt_tokens + usage.completion_tokens == 0:
        return 0
    ratio = model_ratio * group_ratio
    quota = math.ceil((usage.prompt_tokens + usage.completion_tokens * completion_ratio) * ratio - 1e-9)
    return 1 if ratio != 0 and quota <= 0 else quota


def pre_consume_amount(*, prompt_tokens: int, max_tokens: int, ratio: float, base: int) -> int:
    return int((base + prompt_tokens + max_tokens) * ratio)


def quota_reserve(
    *,
    user_id: int,
    username: str,
    token_id: int,
    token_name: str,
    token_unlimited: bool,
    group: str,
    amount: int,
    request_id: str = "",
) -> Reservation:
    """Take ``amount`` from the key (if limited) and the user, atomically; raise QuotaRefused if short."""
    if amount > 0 and not token_unlimited:
        take = {"remain_quota": -amount, "used_quota": amount}
        taken = row_add(Token, token_id, take, at_least=("remain_quota", amount))
        if not taken:
            raise _token_refusal(token_id, token_name)
    if amount > 0:
        taken = row_add(User, user_id, {"quota": -amount}, at_least=("quota", amount))
        if not taken:
            if not token_unlimited:
                _token_refund(token_id, amount)
            raise QuotaRefused(403, "insufficient_user_quota", "user quota is not enough")
    if amount > 0 and not token_unlimited:
        _key_holds(token_id, +1)
    return Reservation(user_id, username, token_id, token_name, token_unlimited, group, amount, request_id)


# Reservations this process holds on each limited key. While a key has some, a balance of 0 is not
# exhaustion: most of what they reserved comes back when they settle, so the key must not be marked spent.
_holds: dict[int, int] = {}
_holds_lock = threading.Lock()


def _key_holds(token_id: int, change: int) -> None:
    with _holds_lock:
        count = _holds.get(token_id, 0) + change
        if count > 0:
            _holds[token_id] = count
        else:
            _holds.pop(token_id, None)


def _unhold(reservation: Reservation) -> None:
    if reservation.amount > 0 and not reservation.token_unlimited:
        _key_holds(reservation.token_id, -1)


def _token_refusal(token_id: int, token_name: str) -> QuotaRefused:
    if _holds.get(token_id):
        return QuotaRefused(403, "pre_consume_token_quota_failed", "令牌额度不足")
    exhausted = Token.objects.filter(pk=token_id, remain_quota__lte=0).exclude(status=TokenStatus.EXHAUSTED)
    if exhausted.update(status=TokenStatus.EXHAUSTED):
        cache_versions.bump(cache_versions.AUTH)
    if Token.objects.filter(pk=token_id, status=TokenStatus.EXHAUSTED).exists():
        return QuotaRefused(401, "", f"令牌 {token_name}（#{token_id}）额度已用尽")
    return QuotaRefused(403, "pre_consume_token_quota_failed", "令牌额度不足")


def _token_refund(token_id: int, amount: int) -> None:
    row_add(Token, token_id, {"remain_quota": amount, "used_quota": -amount})


def quota_release(reservation: Reservation) -> None:
    """Give back everything reserved (the request failed). Idempotent."""
    if reservation.settled:
        return
    reservation.settled = True
    if reservation.amount <= 0:
        return
    try:
        row_add(User, reservation.user_id, {"quota": reservation.amount})
        if not reservation.token_unlimited:
            _token_refund(reservation.token_id, reservation.amount)
    finally:
        _unhold(reservation)


def quota_settle(
    *,
    reservation: Reservation,
    charge: Charge,
    usage: Usage,
    channel_id: int,
    elapsed_ms: int,
    is_stream: bool,
    system_prompt_reset: bool = False,
    content: str = "",
) -> None:
    """Charge the real cost (reserved amount ± difference) once, and queue the consume log."""
    if reservation.settled:
        return
    reservation.settled = True
    relay_usage_record(
        charge.model_name, channel_id, usage.prompt_tokens, usage.completion_tokens, charge.quota
    )
    delta = charge.quota - reservation.amount
    if settings.BATCH_UPDATE_ENABLED:
        _batch.add(reservation, charge.quota, delta, channel_id)  # its hold on the key ends at the flush
    else:
        try:
            _apply_settlement(reservation, charge.quota, delta, channel_id)
        finally:
            _unhold(reservation)
    if option_bool("LogConsumeEnabled"):
        consume_log_create(
            user_id=reservation.user_id,
            username=reservation.username,
            token_id=reservation.token_id,
            token_name=reservation.token_name,
            model_name=charge.model_name,
            quota=charge.quota,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            channel_id=channel_id,
            request_id=reservation.request_id,
            elapsed_ms=elapsed_ms,
            is_stream=is_stream,
            system_prompt_reset=system_prompt_reset,
            content=content or charge_description(charge),
        )


def charge_description(charge: Charge) -> str:
    return f"倍率：{charge.model_ratio:.2f} × {charge.group_ratio:.2f} × {charge.completion_ratio:.2f}"


def _apply_settlement(reservation: Reservation, quota: int, delta: int, channel_id: int) -> None:
    row_add(User, reservation.user_id, {"quota": -delta, "used_quota": quota, "request_count": 1})
    now = {"accessed_time": int(time.time())}
    if reservation.token_unlimited:
        # The original never counted usage on unlimited keys; we do, so their usage is visible.
        row_add(Token, reservation.token_id, {"used_quota": quota}, sets=now)
    else:
        row_add(Token, reservation.token_id, {"remain_quota": -delta, "used_quota": delta}, sets=now)
    if quota and channel_id:
        row_add(Channel, channel_id, {"used_quota": quota})


class _BatchedSettlements:
    """Per-id sums of settlement deltas, flushed every BATCH_UPDATE_INTERVAL seconds and at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()
        self._thread: threading.Thread | None = None

    def _reset(self) -> None:
        self.users: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])  # quota delta, used, requests
        self.tokens: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # remain delta, used delta
        self.channels: dict[int, int] = defaultdict(int)
        self.holds: dict[int, int] = defaultdict(int)  # key holds released once the deltas are written

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
        self._ensure_thread()

    def flush(self) -> int:
        with self._lock:
            users, tokens, channels, holds = self.users, self.tokens, self.channels, self.holds
            self._reset()
        try:
            return self._write(users, tokens, channels, holds)
        except BaseException:
            self._restore(users, tokens, channels, holds)  # what was not written goes out with the next flush
            raise

    def _write(self, users: dict, tokens: dict, channels: dict, holds: dict) -> int:
        """Apply the sums, dropping each entry once its row is updated (so a failure leaves only the rest)."""
        written = len(users) + len(tokens) + len(channels)
        now = int(time.time())
        for user_id, (delta, used, count) in list(users.items()):
            User.objects.filter(pk=user_id).update(
                quota=F("quota") - delta,
                used_quota=F("used_quota") + used,
                request_count=F("request_count") + count,
            )
            del users[user_id]
        for token_id, (remain_delta, used) in list(tokens.items()):
            Token.objects.filter(pk=token_id).update(
                remain_quota=F("remain_quota") - remain_delta,
                used_quota=F("used_quota") + used,
                accessed_time=now,
            )
            del tokens[token_id]
        for channel_id, used in list(channels.items()):
            Channel.objects.filter(pk=channel_id).update(used_quota=F("used_quota") + used)
            del channels[channel_id]
        for token_id, count in holds.items():
            _key_holds(token_id, -count)
        holds.clear()
        return written

    def _restore(self, users: dict, tokens: dict, channels: dict, holds: dict) -> None:
        with self._lock:
            for user_id, values in users.items():
                self.users[user_id] = [a + b for a, b in zip(self.users[user_id], values, strict=True)]
            for token_id, values in tokens.items():
                self.tokens[token_id] = [a + b for a, b in zip(self.tokens[token_id], values, strict=True)]
            for channel_id, used in channels.items():
                self.channels[channel_id] += used
            for token_id, count in holds.items():
                self.holds[token_id] += count

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="one-api-batch-flush", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(settings.BATCH_UPDATE_INTERVAL)
            try:
                self.flush()
            except Exception:
                logger.exception("flushing batched quota updates failed; will retry")


_batch = _BatchedSettlements()
atexit.register(lambda: _batch.flush())


def quota_flush_batched() -> int:
    """Write batched settlement deltas now; returns how many rows were touched."""
    return _batch.flush()
