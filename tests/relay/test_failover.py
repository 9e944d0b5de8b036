"""Failover (spec §3.3, PEERS §3 items 13–15): RetryTimes retries never re-pick a failed channel, go to the
same tier first and then lower tiers, retry on 429/5xx/timeouts/connection errors/401/403, never on 400,
and replay the body unchanged."""

from __future__ import annotations

import json

import pytest

from config.options import option_set
from logs_app.models import Log

SATURATED = "当前分组上游负载已饱和，请稍后再试"
CONTEXT_LENGTH = {
    "error": {
        "message": "This model's maximum context length is 4097 tokens. "
        "However, your messages resulted in 5000 tokens.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}


def counts(relay, *keys: str) -> list[int]:
    return [len(relay.upstream.requests_for(k)) for k in keys]


@pytest.fixture
def retries(relay):
    option_set("RetryTimes", "2")
    return relay


def test_without_retries_a_failure_is_returned_at_once(relay):
    relay.channel("only-bad")
    relay.channel("would-work", priority=-1)
    relay.upstream.plan("only-bad", status=500)
    response = relay.chat()
    assert response.status_code == 500
    assert counts(relay, "only-bad", "would-work") == [1, 0]


def test_retry_goes_to_the_same_tier_first_then_lower_tiers_and_never_twice(retries):
    relay = retries
    relay.channel("top-a", priority=10)
    relay.channel("top-b", priority=10)
    relay.channel("low", priority=0)
    relay.channel("lowest", priority=-10)
    relay.upstream.plan("top-a", status=500)
    relay.upstream.plan("top-b", status=503)
    for n in range(1, 11):
        response = relay.chat()
        assert response.status_code == 200, response.text
        # each request: one try on each failing top channel, then the next tier
        assert counts(relay, "top-a", "top-b", "low", "lowest") == [n, n, n, 0]


def test_retries_stay_in_the_tier_while_it_has_untried_channels(relay):
    option_set("RetryTimes", "1")
    relay.channel("tier-a", priority=5)
    relay.channel("tier-b", priority=5)
    relay.channel("below", priority=0)
    relay.upstream.plan("tier-a", status=502)
    relay.upstream.plan("tier-b", status=502)
    response = relay.chat()
    assert response.status_code == 502
    assert counts(relay, "tier-a", "tier-b", "below") == [1, 1, 0]


def test_retry_budget_is_respected(relay):
    option_set("RetryTimes", "3")
    for i in range(6):
        relay.channel(f"bad-{i}")
        relay.upstream.plan(f"bad-{i}", status=500)
    response = relay.chat()
    assert response.status_code == 500
    assert len(relay.upstream.requests) == 4  # the first try + 3 retries
    assert all(n <= 1 for n in counts(relay, *(f"bad-{i}" for i in range(6))))


def test_a_single_failing_channel_is_not_retried_on_itself(retries):
    relay = retries
    relay.channel("lonely")
    relay.upstream.plan("lonely", status=500)
    assert relay.chat().status_code == 500
    assert counts(relay, "lonely") == [1]


@pytest.mark.parametrize(
    "status,error",
    [
        (
            429,
            {
                "error": {
                    "message": "Rate limit reached",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        (
            429,
            {
                "error": {
                    "message": "You exceeded your current quota, please check your plan and billing details.",
                    "type": "insufficient_quota",
                    "param": None,
                    "code": "insufficient_quota",
                }
            },
        ),
        (500, None),
        (502, None),
        (
            503,
            {
                "error": {
                    "message": "The engine is currently overloaded",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
        (
            401,
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        ),
        (
            403,
            {
                "error": {
                    "message": "Country not supported",
                    "type": "request_forbidden",
                    "param": None,
                    "code": "unsupported_country",
                }
            },
        ),
    ],
)
def test_retried_failures(retries, status, error):
    relay = retries
    relay.channel("failing", priority=1)
    relay.channel("backup")
    relay.upstream.plan("failing", status=status, error=error)
    response = relay.chat()
    assert response.status_code == 200, response.text
    assert counts(relay, "failing", "backup") == [1, 1]


def test_connection_refused_is_retried(retries, closed_port_url):
    relay = retries
    relay.channel("refused", priority=1, base_url=closed_port_url)
    relay.channel("backup")
    assert relay.chat().status_code == 200
    assert counts(relay, "backup") == [1]


def test_connection_refused_everywhere_is_a_502(relay, closed_port_url):
    relay.channel("refused", base_url=closed_port_url)
    response = relay.chat()
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "do_request_failed"


def test_a_dropped_connection_is_retried(retries, hangup_url):
    relay = retries
    url, hits = hangup_url
    relay.channel("hangup", priority=1, base_url=url)
    relay.channel("backup")
    assert relay.chat().status_code == 200
    assert len(hits) == 1 and hits[0].startswith(b"POST /v1/chat/completions")
    assert counts(relay, "backup") == [1]


def test_a_timeout_is_retried(retries, settings, fresh_upstream_client):
    relay = retries
    settings.RELAY_TIMEOUT = 1
    relay.channel("slow", priority=1)
    relay.channel("backup")
    relay.upstream.plan("slow", first_byte_delay=3)
    response = relay.chat()
    assert response.status_code == 200, response.text
    assert response.elapsed.total_seconds() < 2.5
    assert counts(relay, "slow", "backup") == [1, 1]


def test_a_timeout_everywhere_is_a_504_and_refunded(relay, settings, fresh_upstream_client):
    settings.RELAY_TIMEOUT = 1
    relay.channel("slow")
    relay.upstream.plan("slow", first_byte_delay=3)
    response = relay.chat()
    assert response.status_code == 504
    assert response.json()["error"]["message"].startswith("upstream timed out")
    assert relay.balances() == (10_000_000, 5_000_000)


@pytest.mark.parametrize(
    "error",
    [
        CONTEXT_LENGTH,
        {
            "error": {
                "message": "Your request was rejected as a result of our safety system.",
                "type": "invalid_request_error",
                "param": None,
                "code": "content_policy_violation",
            }
        },
        {
            "error": {
                "message": "Invalid value for 'temperature': must be between 0 and 2.",
                "type": "invalid_request_error",
                "param": "temperature",
                "code": "invalid_value",
            }
        },
    ],
)
def test_a_400_is_never_retried_and_is_relayed_verbatim(retries, error):
    relay = retries
    relay.channel("strict", priority=1)
    relay.channel("backup")
    relay.upstream.plan("strict", status=400, error=error)
    response = relay.chat()
    assert response.status_code == 400
    assert response.json() == error
    assert counts(relay, "strict", "backup") == [1, 0]
    assert relay.balances() == (10_000_000, 5_000_000)


def test_the_final_429_says_the_group_is_saturated(retries):
    relay = retries
    for key in ("busy-1", "busy-2", "busy-3"):
        relay.channel(key)
        relay.upstream.plan(key, status=429)
    response = relay.chat()
    assert response.status_code == 429
    request_id = response.headers["x-oneapi-request-id"]
    assert response.json()["error"]["message"] == f"{SATURATED} (request id: {request_id})"
    assert counts(relay, "busy-1", "busy-2", "busy-3") == [1, 1, 1]


def test_a_single_429_without_retries_also_says_saturated(relay):
    relay.channel("busy")
    relay.upstream.plan("busy", status=429)
    response = relay.chat()
    assert response.status_code == 429
    assert response.json()["error"]["message"].startswith(SATURATED)


def test_the_last_error_is_returned_when_every_retry_fails(retries):
    relay = retries
    relay.channel("first", priority=2)
    relay.channel("second", priority=1)
    relay.channel("third")
    relay.upstream.plan("first", status=500)
    relay.upstream.plan("second", status=503)
    relay.upstream.plan(
        "third",
        status=502,
        error={
            "error": {"message": "bad gateway upstream", "type": "server_error", "param": None, "code": None}
        },
    )
    response = relay.chat()
    assert response.status_code == 502
    assert response.json()["error"]["message"] == "bad gateway upstream"


def test_the_body_is_replayed_unchanged(retries):
    relay = retries
    relay.channel("r1", priority=2)
    relay.channel("r2", priority=1)
    relay.channel("r3")
    relay.upstream.plan("r1", status=500)
    relay.upstream.plan("r2", status=429)
    raw = (
        b'{"model":"gpt-3.5-turbo",  "messages":[{"role":"user","content":"h\\u00e9llo"}],'
        b'"temperature":0.25,"x_vendor_field":{"nested":[1,2,{"a":null}]}}'
    )
    response = relay.post("/v1/chat/completions", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    sent = [r.raw for key in ("r1", "r2", "r3") for r in relay.upstream.requests_for(key)]
    assert sent == [raw, raw, raw]


def test_a_mapping_on_the_failed_channel_does_not_leak_into_the_retry(retries):
    relay = retries
    relay.channel("mapped-bad", priority=1, model_mapping=json.dumps({"gpt-3.5-turbo": "gpt-4o-mini"}))
    relay.channel("plain-good")
    relay.upstream.plan("mapped-bad", status=500)
    raw = b'{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}], "seed": 7}'
    relay.post("/v1/chat/completions", content=raw, headers={"Content-Type": "application/json"})
    assert relay.upstream.requests_for("mapped-bad")[0].body["model"] == "gpt-4o-mini"
    assert relay.upstream.requests_for("plain-good")[0].raw == raw


def test_after_failover_the_request_is_billed_once_to_the_channel_that_answered(retries):
    relay = retries
    bad = relay.channel("bad", priority=1)
    good = relay.channel("good")
    relay.upstream.plan("bad", status=500)
    relay.upstream.plan("good", usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13})
    assert relay.chat().status_code == 200
    assert relay.balances() == (10_000_000 - 5, 5_000_000 - 5)
    assert relay.user.request_count == 1
    log = Log.objects.get()
    assert (log.channel_id, log.quota) == (good.pk, 5)
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (bad.used_quota, good.used_quota) == (0, 5)


def test_when_every_channel_fails_everything_is_refunded(retries):
    relay = retries
    for key in ("x1", "x2", "x3"):
        relay.channel(key)
        relay.upstream.plan(key, status=500)
    assert relay.chat().status_code == 500
    assert relay.balances() == (10_000_000, 5_000_000)
    assert (relay.user.used_quota, relay.user.request_count, relay.token.used_quota) == (0, 0, 0)
    assert not Log.objects.filter(type=2).exists()


def test_a_stream_fails_over_before_the_first_byte(retries):
    relay = retries
    relay.channel("s-bad", priority=1)
    relay.channel("s-good")
    relay.upstream.plan("s-bad", status=503)
    relay.upstream.plan("s-good", content="one two")
    stream = relay.client().chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "one two "
    assert counts(relay, "s-bad", "s-good") == [1, 1]


def test_failover_via_the_sdk(retries):
    relay = retries
    relay.channel("sdk-bad", priority=1)
    relay.channel("sdk-good")
    relay.upstream.plan("sdk-bad", status=429)
    relay.upstream.plan("sdk-good", content="recovered")
    answer = relay.client().chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "recovered"
