"""Quota: reserve before the upstream call, settle or release exactly once after it.

Every change is a single atomic ``UPDATE … SET quota = quota - n WHERE … AND quota >= n``: no row is read
first and no lock is held across the upstream call, so concurrent requests on one key can neither overspend
the reservation rules nor deadlock (PostgreSQL, MySQL or SQLite). Settlements (not the reservations, which
guard the balance) are summed in memory and written by one background thread: see billing.settlements.
"""

from __future__ import annotations

import atexit
import logging
import math
import threading
from dataclasses import dataclass

from accounts.models import Token, TokenStatus, User
from billing.quota_sql import row_add
from billing.reserve_now import reserve_now
from billing.settlements import SettlementWriter
from billing.usage import Charge, Reservation, Usage
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


def quota_reserve(wanted: Reservation) -> Reservation:
    """Take ``wanted.amount`` from the key (if limited) and the user, atomically; raise QuotaRefused if short.
    Returns ``wanted``, now held (settle or release it once).

    Two autocommitted UPDATEs, not one transaction: on PostgreSQL BEGIN and COMMIT are round trips of their
    own, and measured (deploy/bench, --sql-dsn) the transaction cost more than the second commit it saved."""
    amount, token_id = wanted.amount, wanted.token_id
    if amount > 0 and not wanted.token_unlimited:
        take = {"remain_quota": -amount, "used_quota": amount}
        if not row_add(Token, token_id, take, at_least=("remain_quota", amount)):
            raise _token_refusal(token_id, wanted.token_name)
    if amount > 0 and not row_add(User, wanted.user_id, {"quota": -amount}, at_least=("quota", amount)):
        if not wanted.token_unlimited:
            _token_refund(token_id, amount)
        raise QuotaRefused(403, "insufficient_user_quota", "user quota is not enough")
    return _held(wanted)


def quota_reserve_now(wanted: Reservation) -> Reservation | None:
    """``quota_reserve`` without waiting, on the calling (event loop) thread, when it can: SQLite with the
    database free and enough quota. None: call ``quota_reserve`` in a worker thread (see billing.reserve_now)."""
    taken = reserve_now(
        user_id=wanted.user_id,
        token_id=wanted.token_id,
        token_unlimited=wanted.token_unlimited,
        amount=wanted.amount,
    )
    return _held(wanted) if taken else None


def _held(reservation: Reservation) -> Reservation:
    if reservation.amount > 0 and not reservation.token_unlimited:
        _key_holds(reservation.token_id, +1)
    return reservation


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
    """Charge the real cost (reserved amount ± difference) once, and queue the consume log.

    No database work here: safe to call on the event loop. The settlement writer applies the sums.
    """
    if reservation.settled:
        return
    reservation.settled = True
    relay_usage_record(
        charge.model_name, channel_id, usage.prompt_tokens, usage.completion_tokens, charge.quota
    )
    # Written by the settlement writer (billing.settlements); the hold on the key ends once it is.
    _settlements.add(reservation, charge.quota, charge.quota - reservation.amount, channel_id)
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


_settlements = SettlementWriter(release_holds=lambda token_id, count: _key_holds(token_id, -count))
atexit.register(lambda: _settlements.flush())


def quota_flush_batched() -> int:
    """Write the pending settlement sums now; returns how many rows were touched."""
    return _settlements.flush()


def quota_settlements_wait(timeout: float = 10.0) -> bool:
    """Wait until every settlement so far is in the database (not with BATCH_UPDATE_ENABLED: see
    billing.settlements)."""
    return _settlements.wait_written(timeout)


def quota_writer_close_db() -> None:
    """Close the settlement writer's database connection (it reopens on the next write)."""
    _settlements.close_db()
