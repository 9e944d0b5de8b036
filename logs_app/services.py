"""Writes to the ``logs`` table for management actions: audit (manage), system gifts, top-ups, clean-up.

The relay's consume logs are written elsewhere (batched, off the request path); these are rare and written at
once. When LOG_SQL_DSN puts logs in their own database a log cannot join the change's transaction, so it is
written on commit instead: an audit line never describes a change that was rolled back.
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, router, transaction

from config.options import option_bool, option_int
from logs_app.models import Log, LogType

DELETE_BATCH = 5000


def quota_text(quota: int) -> str:
    """The original's ``LogQuota``: ``＄0.002000 额度`` in currency mode, else ``1000 点额度``."""
    if option_bool("DisplayInCurrencyEnabled"):
        return f"＄{quota / (option_int('QuotaPerUnit') or 500_000):.6f} 额度"
    return f"{quota} 点额度"


def _username(user_id: int) -> str:
    from accounts.models import User

    return User.objects.filter(pk=user_id).values_list("username", flat=True).first() or ""


def _write(log: Log) -> Log:
    if (router.db_for_write(Log) or DEFAULT_DB_ALIAS) == DEFAULT_DB_ALIAS:
        log.save()  # same database: part of the caller's transaction
    else:
        transaction.on_commit(log.save)
    return log


def manage_log_create(*, actor, content: str, user_id: int | None = None, request_id: str = "") -> Log:
    """An audit line (type 3): ``content`` plus who did it. It belongs to ``user_id`` (the user affected, who
    then sees it in their own log) or, for changes to channels, options and codes, to the actor."""
    owner = actor.pk if user_id is None else user_id
    who = f"{actor.username} #{actor.pk}" if actor is not None else "system"
    return _write(
        Log(
            user_id=owner,
            username=actor.username if actor is not None and owner == actor.pk else _username(owner),
            type=LogType.MANAGE,
            content=f"{content} (by {who})",
            request_id=request_id,
        )
    )


def system_log_create(*, user_id: int, content: str, request_id: str = "") -> Log:
    """A type-4 log, e.g. the sign-up and invitation gifts."""
    return _write(
        Log(
            user_id=user_id,
            username=_username(user_id),
            type=LogType.SYSTEM,
            content=content,
            request_id=request_id,
        )
    )


def topup_log_create(*, user_id: int, content: str, quota: int, request_id: str = "") -> Log:
    """A type-1 log: quota added by a redemption code or by ``POST /api/topup``."""
    return _write(
        Log(
            user_id=user_id,
            username=_username(user_id),
            type=LogType.TOPUP,
            content=content,
            quota=quota,
            request_id=request_id,
        )
    )


def logs_delete_before(*, timestamp: int, batch_size: int = DELETE_BATCH) -> int:
    """Delete logs created before ``timestamp`` in batches of ``batch_size`` rows, so a purge of millions of
    rows never holds one huge transaction or lock. Returns how many rows went."""
    total = 0
    while True:
        # No ORDER BY: any batch of old rows will do, and the created_at index finds them.
        ids = list(
            Log.objects.filter(created_at__lt=timestamp).order_by().values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return total
        deleted, _ = Log.objects.filter(id__in=ids).delete()
        total += deleted
