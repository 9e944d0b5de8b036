"""Billing, exactly once (spec §3.5–3.7, §3.10; PEERS §3 items 1–3, 7–8): reserve, then settle or refund,
with the quota formula ceil((prompt + completion × completion ratio) × model ratio × group ratio)."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest

from accounts.models import Token, User
from billing.services import quota_flush_batched
from channels_app.models import Channel
from config.options import option_set
from logs_app.models import Log, LogType

START = (10_000_000, 5_000_000)
PRE = 127  # int((PreConsumedQuota 500 + 8 prompt tokens of "hi") × 0.25)


def usage(prompt: int, completion: int, total: int | None = None) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion if total is None else total,
    }


@pytest.fixture
def channel(relay):
    return relay.channel("bill")


def charged(relay) -> tuple[int, int]:
    user_quota, remain = relay.balances()
    return START[0] - user_quota, START[1] - remain


# --- the formula ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model,prompt,completion,expected",
    [
        # gpt-4o-mini: ratio 0.075, completion ratio 4
        ("gpt-4o-mini", 1234, 567, 263),  # (1234 + 2268) × 0.075 = 262.65 → 263
        ("gpt-4o-mini", 14, 0, 2),  # 1.05 rounds up, not down (one-api #599)
        ("gpt-4o-mini", 1, 0, 1),  # 0.075 → at least 1 when priced
        # gpt-3.5-turbo: ratio 0.25, completion ratio 3
        ("gpt-3.5-turbo", 10, 3, 5),  # 4.75 → 5
        ("gpt-3.5-turbo", 100_000, 20_000, 40_000),  # exactly 40 000, no float fuzz upwards
    ],
)
def test_exact_quota_after_success(relay, channel, model, prompt, completion, expected):
    relay.upstream.plan("bill", usage=usage(prompt, completion))
    assert relay.chat(model).status_code == 200
    assert charged(relay) == (expected, expected)
    assert (relay.user.used_quota, relay.user.request_count) == (expected, 1)
    assert relay.token.used_quota == expected
    channel.refresh_from_db()
    assert channel.used_quota == expected


def test_group_ratio_applies(relay):
    option_set("GroupRatio", json.dumps({"default": 1, "vip": 1.5, "svip": 0.8}))
    relay.user.group = "vip"
    relay.user.save()
    relay.channel("bill", group="default,vip")
    relay.upstream.plan("bill", usage=usage(101, 7))
    assert relay.chat().status_code == 200
    # (101 + 7 × 3) × 0.25 × 1.5 = 45.75 → 46
    assert charged(relay) == (46, 46)
    log = Log.objects.get()
    assert (log.quota, log.content) == (46, "倍率：0.25 × 1.50 × 3.00")


def test_a_cheaper_group_pays_less(relay):
    option_set("GroupRatio", json.dumps({"default": 1, "svip": 0.8}))
    relay.user.group = "svip"
    relay.user.save()
    relay.channel("bill", group="svip")
    relay.upstream.plan("bill", usage=usage(1000, 100))
    relay.chat()
    assert charged(relay) == (260, 260)  # (1000 + 300) × 0.25 × 0.8


def test_model_and_completion_ratio_options_apply(relay, channel):
    option_set("ModelRatio", json.dumps({"gpt-3.5-turbo": 2}))
    option_set("CompletionRatio", json.dumps({"gpt-3.5-turbo": 1.5}))
    relay.upstream.plan("bill", usage=usage(101, 7))
    relay.chat()
    # (101 + 7 × 1.5) × 2 = 223
    assert charged(relay) == (223, 223)
    assert Log.objects.get().content == "倍率：2.00 × 1.00 × 1.50"


def test_embeddings_are_billed_by_input_tokens(relay, channel):
    relay.upstream.plan("bill", usage={"prompt_tokens": 1000, "total_tokens": 1000})
    relay.post("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello"})
    assert charged(relay) == (10, 10)  # 1000 × 0.01


# --- the reservation ------------------------------------------------------------------------------------


def test_quota_is_reserved_during_the_call_and_settled_after(relay, channel):
    relay.upstream.plan("bill", first_byte_delay=0.8, usage=usage(10, 3))
    seen: list[tuple[int, int]] = []

    def watch():
        from django.db import connection

        time.sleep(0.4)
        try:
            seen.append(
                (User.objects.get(pk=relay.user.pk).quota, Token.objects.get(pk=relay.token.pk).remain_quota)
            )
        finally:
            connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert relay.chat().status_code == 200
    watcher.join()
    assert seen == [(START[0] - PRE, START[1] - PRE)]
    assert charged(relay) == (5, 5)


def test_max_tokens_is_reserved_too(relay, channel):
    User.objects.filter(pk=relay.user.pk).update(quota=1000)
    response = relay.chat(max_tokens=5000)  # int((500 + 8 + 5000) × 0.25) = 1377 > 1000
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "insufficient_user_quota"
    assert relay.chat(max_tokens=100).status_code == 200  # 152 ≤ 1000


def test_a_key_with_too_little_left_is_refused_before_the_upstream(relay, channel):
    Token.objects.filter(pk=relay.token.pk).update(remain_quota=100)
    response = relay.chat()
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "pre_consume_token_quota_failed"
    assert error["message"].startswith("令牌额度不足")
    assert relay.upstream.requests == []
    assert relay.balances() == (START[0], 100)


def test_a_user_with_too_little_quota_is_refused_before_the_upstream(relay, channel):
    User.objects.filter(pk=relay.user.pk).update(quota=100)
    response = relay.chat()
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "insufficient_user_quota"
    assert error["message"].startswith("user quota is not enough")
    assert relay.upstream.requests == []
    assert relay.balances() == (100, START[1])  # the key's share was given back


def test_an_unlimited_key_bills_the_user(relay, channel):
    token = relay.make_token(unlimited_quota=True, remain_quota=0)
    relay.upstream.plan("bill", usage=usage(10, 3))
    assert relay.chat(key=f"sk-{token.key}").status_code == 200
    relay.refresh()
    token.refresh_from_db()
    assert relay.user.quota == START[0] - 5
    assert token.remain_quota == 0
    assert token.used_quota == 5


# --- every ending is settled exactly once -------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
def test_an_upstream_failure_refunds_everything(relay, channel, status):
    relay.upstream.plan("bill", status=status)
    assert relay.chat().status_code == status
    assert relay.balances() == START
    assert (relay.user.used_quota, relay.user.request_count, relay.token.used_quota) == (0, 0, 0)
    assert not Log.objects.filter(type=LogType.CONSUME).exists()


def test_upstream_garbage_refunds_everything(relay, channel):
    relay.upstream.plan("bill", raw_body=b"<html>502 Bad Gateway</html>", content_type="text/html")
    response = relay.chat()
    assert response.status_code == 502
    assert relay.balances() == START
    assert not Log.objects.filter(type=LogType.CONSUME).exists()


def test_a_client_that_gives_up_waiting_is_refunded_and_the_upstream_cancelled(relay, channel):
    relay.upstream.plan("bill", first_byte_delay=1.5, usage=usage(10, 3))
    with pytest.raises(httpx.ReadTimeout):
        relay.raw.post(
            "/v1/chat/completions",
            json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]},
            headers={"Authorization": f"Bearer {relay.api_key}"},
            timeout=0.3,
        )
    relay.close()  # the gateway notices the hang-up when the socket closes
    upstream = relay.upstream.requests_for("bill")[0]
    deadline = time.monotonic() + 5
    while not upstream.disconnected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert upstream.disconnected
    time.sleep(1.5)
    assert relay.balances() == START
    assert not Log.objects.filter(type=LogType.CONSUME).exists()


def test_a_gateway_bug_inside_the_request_refunds_everything(relay, channel, monkeypatch):
    from relay.providers.openai import OpenAIAdaptor

    def broken(self, req, status, body):
        raise RuntimeError("a bug in the gateway")

    monkeypatch.setattr(OpenAIAdaptor, "parse_response", broken)
    response = relay.chat()
    assert response.status_code == 500
    assert response.json()["error"]["type"] == "one_api_panic"
    assert relay.balances() == START
    assert relay.user.request_count == 0
    assert not Log.objects.filter(type=LogType.CONSUME).exists()


def test_each_request_is_settled_once(relay, channel):
    relay.upstream.plan("bill", usage=usage(10, 3))
    ids = [relay.chat().headers["x-oneapi-request-id"] for _ in range(5)]
    assert charged(relay) == (25, 25)
    assert relay.user.request_count == 5
    assert sorted(Log.objects.filter(type=LogType.CONSUME).values_list("request_id", flat=True)) == sorted(
        ids
    )


# --- usage the upstream gets wrong --------------------------------------------------------------------


@pytest.mark.parametrize(
    "plan",
    [
        {"usage": usage(0, 0)},  # one-api #1391: zeros
        {"omit_usage": True},
    ],
)
def test_zero_or_missing_usage_is_counted_with_the_tokenizer(relay, channel, plan):
    relay.upstream.plan("bill", content="one two three", **plan)
    relay.chat()
    relay.refresh()
    log = Log.objects.get()
    # prompt: 8 tokens counted locally; completion: "one two three" = 3 tokens
    assert (log.prompt_tokens, log.completion_tokens, log.quota) == (8, 3, 5)  # ceil((8 + 9) × 0.25)


def test_usage_with_only_a_total_is_split_around_the_local_prompt_count(relay, channel):
    relay.upstream.plan("bill", usage=usage(0, 0, total=30))
    relay.chat()
    relay.refresh()
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens, log.quota) == (8, 22, 19)  # ceil((8 + 66) × 0.25)


# --- the consume log --------------------------------------------------------------------------------


def test_the_consume_log_has_every_field(relay):
    channel = relay.channel("bill", system_prompt="Be nice.")
    relay.upstream.plan("bill", usage=usage(10, 3), first_byte_delay=0.2)
    before = int(time.time())
    response = relay.chat()
    relay.refresh()
    log = Log.objects.get()
    assert log.type == LogType.CONSUME
    assert (log.user_id, log.username) == (relay.user.pk, "alice")
    assert (log.token_id, log.token_name) == (relay.token.pk, "alice-key")
    assert (log.model_name, log.quota, log.prompt_tokens, log.completion_tokens) == (
        "gpt-3.5-turbo",
        5,
        10,
        3,
    )
    assert log.channel_id == channel.pk
    assert log.request_id == response.headers["x-oneapi-request-id"]
    assert 200 <= log.elapsed_time < 5000
    assert log.is_stream is False
    assert log.system_prompt_reset is True
    assert log.content == "倍率：0.25 × 1.00 × 3.00"
    assert before <= log.created_at <= int(time.time())


def test_a_stream_log_says_so(relay, channel):
    with relay.raw.stream(
        "POST",
        "/v1/chat/completions",
        json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}], "stream": True},
        headers={"Authorization": f"Bearer {relay.api_key}"},
    ) as response:
        response.read()
    relay.refresh()
    assert Log.objects.get().is_stream is True


def test_no_consume_log_when_disabled_but_still_billed(relay, channel):
    option_set("LogConsumeEnabled", "false")
    relay.upstream.plan("bill", usage=usage(10, 3))
    relay.chat()
    assert charged(relay) == (5, 5)
    assert relay.user.request_count == 1
    assert not Log.objects.filter(type=LogType.CONSUME).exists()


# --- BATCH_UPDATE_ENABLED --------------------------------------------------------------------------------


@pytest.fixture
def batched(relay, settings):
    settings.BATCH_UPDATE_ENABLED = True
    settings.BATCH_UPDATE_INTERVAL = 3600  # flushed by the test, not the timer
    quota_flush_batched()
    yield relay
    quota_flush_batched()


def test_batch_mode_applies_the_same_totals(batched, channel):
    relay = batched
    relay.upstream.plan("bill", usage=usage(10, 3))
    for _ in range(4):
        assert relay.chat().status_code == 200
    relay.refresh()
    # Settlements wait in memory; only the reservations (which guard the balance) reached the database.
    assert (relay.user.quota, relay.token.remain_quota) == (START[0] - 4 * PRE, START[1] - 4 * PRE)
    assert (relay.user.used_quota, relay.user.request_count) == (0, 0)
    assert quota_flush_batched() == 3  # one user, one key, one channel row
    relay.refresh()
    assert (relay.user.quota, relay.token.remain_quota) == (START[0] - 20, START[1] - 20)
    assert (relay.user.used_quota, relay.user.request_count, relay.token.used_quota) == (20, 4, 20)
    assert Channel.objects.get(pk=channel.pk).used_quota == 20
    assert Log.objects.filter(type=LogType.CONSUME).count() == 4


def test_batch_mode_writes_on_its_interval_without_being_asked(batched, channel, settings):
    import time

    relay = batched
    settings.BATCH_UPDATE_INTERVAL = 1
    relay.upstream.plan("bill", usage=usage(10, 3))
    relay.chat()
    relay.refresh()
    assert relay.user.used_quota == 0  # waits for the interval
    deadline = time.monotonic() + 5
    while relay.user.used_quota == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
        relay.refresh()
    assert (relay.user.used_quota, relay.user.request_count) == (5, 1)
    assert relay.balances() == (START[0] - 5, START[1] - 5)


def test_batch_mode_refunds_failures_at_once(batched, channel):
    relay = batched
    relay.upstream.plan("bill", status=500)
    relay.chat()
    assert relay.balances() == START
    assert quota_flush_batched() == 0
    assert relay.balances() == START
    assert relay.user.request_count == 0


def test_batch_mode_with_an_unlimited_key(batched, channel):
    relay = batched
    token = relay.make_token(unlimited_quota=True, remain_quota=0)
    relay.upstream.plan("bill", usage=usage(10, 3))
    relay.chat(key=f"sk-{token.key}")
    relay.chat(key=f"sk-{token.key}")
    relay.refresh()
    quota_flush_batched()
    relay.refresh()
    token.refresh_from_db()
    assert relay.user.quota == START[0] - 10
    assert (token.remain_quota, token.used_quota) == (0, 10)


def test_a_failed_flush_is_undone_whole_and_written_once_on_retry(batched, channel, monkeypatch):
    from django.db import OperationalError
    from django.db.backends import utils as db_utils

    relay = batched
    relay.upstream.plan("bill", usage=usage(10, 3))
    for _ in range(3):
        relay.chat()
    relay.refresh()
    execute = db_utils.CursorWrapper.execute
    failures = []

    def channels_down(cursor, sql, params=None):
        if not failures and 'UPDATE "channels"' in str(sql).replace("`", '"'):
            failures.append(sql)
            raise OperationalError("lost connection to the database")
        return execute(cursor, sql, params)

    monkeypatch.setattr(db_utils.CursorWrapper, "execute", channels_down)
    with pytest.raises(OperationalError):
        quota_flush_batched()
    assert failures
    relay.refresh()  # the user and key updates before the failure were rolled back with it
    assert (relay.user.quota, relay.user.used_quota, relay.user.request_count) == (START[0] - 3 * PRE, 0, 0)
    assert quota_flush_batched() == 3  # everything still owed, once
    assert quota_flush_batched() == 0
    relay.refresh()
    assert (relay.user.quota, relay.user.used_quota, relay.user.request_count) == (START[0] - 15, 15, 3)
    assert relay.token.remain_quota == START[1] - 15
    assert Channel.objects.get(pk=channel.pk).used_quota == 15
