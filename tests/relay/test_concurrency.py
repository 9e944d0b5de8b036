"""Concurrent load on one nearly-empty key and user (issue 3 point 7, PEERS §3 item 19): atomic reservations
never take a balance below zero, every success is billed exactly once, refusals are clean 403s, no 500s and
no deadlock — on SQLite here and on PostgreSQL / MariaDB in CI."""

from __future__ import annotations

import asyncio
import threading
import time

import openai
import pytest

from accounts.models import Token, TokenStatus, User
from logs_app.models import Log, LogType

pytestmark = pytest.mark.db_heavy

PRE = 127  # int((500 + 8) × 0.25): what each gpt-3.5-turbo "hi" request reserves
COST = 5  # ceil((10 + 3 × 3) × 0.25): what each one finally costs
N = 100


async def burst(relay, key: str, n: int = N) -> list[tuple[int, object]]:
    """Fire n chat requests at once; (status, error body or None) for each."""
    client = relay.async_client(key)
    client = client.with_options(timeout=60)

    async def one():
        try:
            await client.chat.completions.create(
                model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}]
            )
            return 200, None
        except openai.APIStatusError as error:
            return error.status_code, error.body

    try:
        return await asyncio.gather(*(one() for _ in range(n)))
    finally:
        await client.close()


class BalanceWatcher(threading.Thread):
    """Samples the user's and the key's balance while the burst runs."""

    def __init__(self, user_id: int, token_id: int) -> None:
        super().__init__(daemon=True)
        self.user_id, self.token_id = user_id, token_id
        self.lowest_user = self.lowest_key = None
        self.samples = 0
        self.stop = threading.Event()

    def run(self) -> None:
        from django.db import connection

        try:
            while not self.stop.is_set():
                user = User.objects.get(pk=self.user_id).quota
                key = Token.objects.get(pk=self.token_id).remain_quota
                self.lowest_user = user if self.lowest_user is None else min(self.lowest_user, user)
                self.lowest_key = key if self.lowest_key is None else min(self.lowest_key, key)
                self.samples += 1
                time.sleep(0.01)
        finally:
            connection.close()


def run_burst(relay, key: str, user_quota: int, key_quota: int, token_id: int):
    User.objects.filter(pk=relay.user.pk).update(quota=user_quota)
    Token.objects.filter(pk=token_id).update(remain_quota=key_quota)
    relay.channel("load")
    relay.upstream.plan(
        "load", first_byte_delay=1.0, usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13}
    )
    watcher = BalanceWatcher(relay.user.pk, token_id)
    watcher.start()
    started = time.monotonic()
    results = asyncio.run(burst(relay, key))
    elapsed = time.monotonic() - started
    watcher.stop.set()
    watcher.join()
    relay.refresh()
    return results, watcher, elapsed


def check_exact_accounting(relay, results, user_start: int, key_start: int | None, token_id: int):
    statuses = [status for status, _ in results]
    successes = statuses.count(200)
    assert 500 not in statuses and all(s in (200, 403) for s in statuses), statuses
    assert successes >= 1
    assert len(relay.upstream.requests_for("load")) == successes  # refusals never reached the upstream
    assert relay.user.quota == user_start - successes * COST
    assert relay.user.used_quota == successes * COST
    assert relay.user.request_count == successes
    token = Token.objects.get(pk=token_id)
    if key_start is not None:
        assert token.remain_quota == key_start - successes * COST
    assert token.used_quota == successes * COST
    logs = Log.objects.filter(type=LogType.CONSUME)
    assert logs.count() == successes
    assert sum(logs.values_list("quota", flat=True)) == successes * COST
    return successes


def test_a_burst_on_a_nearly_empty_key(relay):
    key_start = 30 * PRE + 50  # room for 30 reservations at once
    user_start = 10_000_000
    results, watcher, elapsed = run_burst(relay, relay.api_key, user_start, key_start, relay.token.pk)
    successes = check_exact_accounting(relay, results, user_start, key_start, relay.token.pk)
    refusals = [body for status, body in results if status == 403]
    assert all(body["code"] == "pre_consume_token_quota_failed" for body in refusals)
    assert successes >= 30  # every request that fit the key's balance was served …
    assert successes < N  # … and the rest were refused
    assert watcher.samples > 0 and watcher.lowest_key >= 0
    assert elapsed < 30  # no deadlock


def test_a_burst_on_a_nearly_empty_user(relay):
    token = relay.make_token(unlimited_quota=True, remain_quota=0)
    user_start = 30 * PRE + 50
    results, watcher, _ = run_burst(relay, f"sk-{token.key}", user_start, 0, token.pk)
    successes = check_exact_accounting(relay, results, user_start, None, token.pk)
    refusals = [body for status, body in results if status == 403]
    assert all(body["code"] == "insufficient_user_quota" for body in refusals)
    assert 30 <= successes < N
    assert watcher.lowest_user >= 0


def test_a_burst_that_drains_a_key_to_zero_does_not_mark_it_exhausted(relay):
    # In-flight reservations take the key to exactly 0 for a moment; most of it comes back at settlement.
    key_start = 30 * PRE
    results, _, _ = run_burst(relay, relay.api_key, 10_000_000, key_start, relay.token.pk)
    successes = check_exact_accounting(relay, results, 10_000_000, key_start, relay.token.pk)
    assert successes >= 30
    relay.token.refresh_from_db()
    assert relay.token.status == TokenStatus.ENABLED
    assert relay.token.remain_quota > PRE
    relay.upstream.plan("load")
    assert relay.chat().status_code == 200  # the key still works


def test_in_batch_mode_a_drained_key_comes_back_at_the_flush(relay, settings):
    from billing.services import quota_flush_batched

    settings.BATCH_UPDATE_ENABLED = True
    settings.BATCH_UPDATE_INTERVAL = 3600
    quota_flush_batched()
    key_start = 30 * PRE
    results, _, _ = run_burst(relay, relay.api_key, 10_000_000, key_start, relay.token.pk)
    statuses = [status for status, _ in results]
    successes = statuses.count(200)
    assert all(s in (200, 403) for s in statuses), statuses
    relay.upstream.plan("load")
    # Until the flush the settled refunds wait in memory: the key looks empty but is not spent.
    refused = relay.chat()
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "pre_consume_token_quota_failed"
    quota_flush_batched()
    relay.refresh()
    assert relay.token.status == TokenStatus.ENABLED
    assert relay.token.remain_quota == key_start - successes * COST
    assert relay.chat().status_code == 200
    relay.refresh()
    quota_flush_batched()
