"""Channel health on the request path (spec §3.9): automatic disabling on account errors when the option is
on, and ENABLE_METRIC success-rate disabling."""

from __future__ import annotations

import pytest

from channels_app import health
from channels_app.models import Ability, Channel, ChannelStatus
from config.options import option_set

INVALID_KEY = {
    "error": {
        "message": "Incorrect API key provided: sk-abc. You can find your API key at https://platform.openai.com.",
        "type": "invalid_request_error",
        "param": None,
        "code": "invalid_api_key",
    }
}


@pytest.fixture
def notes(monkeypatch):
    sent: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "config.notify.notify_root", lambda subject, content: sent.append((subject, content)) or True
    )
    return sent


@pytest.fixture
def auto_disable(relay, notes):
    option_set("AutomaticDisableChannelEnabled", "true")
    return relay


def status_of(channel: Channel) -> int:
    channel.refresh_from_db()
    return channel.status


def test_a_401_disables_the_channel_and_the_next_request_goes_elsewhere(auto_disable, notes):
    relay = auto_disable
    bad = relay.channel("revoked", priority=10)
    relay.channel("spare")
    relay.upstream.plan("revoked", status=401, error=INVALID_KEY)
    assert relay.chat().status_code == 401
    relay.refresh()
    assert status_of(bad) == ChannelStatus.AUTO_DISABLED
    assert not Ability.objects.filter(channel_id=bad.pk, enabled=True).exists()
    for _ in range(3):
        assert relay.chat().status_code == 200
    assert len(relay.upstream.requests_for("revoked")) == 1
    assert len(relay.upstream.requests_for("spare")) == 3
    assert len(notes) == 1 and "revoked" in notes[0][0] and f"#{bad.pk}" in notes[0][0]


def test_with_retries_the_same_request_succeeds_and_the_bad_channel_is_disabled(auto_disable):
    relay = auto_disable
    option_set("RetryTimes", "1")
    bad = relay.channel("revoked", priority=10)
    relay.channel("spare")
    relay.upstream.plan("revoked", status=401, error=INVALID_KEY)
    assert relay.chat().status_code == 200
    relay.refresh()
    assert status_of(bad) == ChannelStatus.AUTO_DISABLED


@pytest.mark.parametrize(
    "status,error",
    [
        (
            429,
            {
                "error": {
                    "message": "You exceeded your current quota",
                    "type": "insufficient_quota",
                    "param": None,
                    "code": "insufficient_quota",
                }
            },
        ),
        (
            403,
            {
                "error": {
                    "message": "Your organization has been disabled.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
        (
            400,
            {
                "error": {
                    "message": "Your credit balance is too low to access the API.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            },
        ),
        (
            401,
            {
                "error": {
                    "message": "account deactivated",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "account_deactivated",
                }
            },
        ),
        (403, {"error": {"message": "nope", "type": "permission_error", "param": None, "code": None}}),
        (500, {"error": {"message": "该账号已欠费", "type": "upstream", "param": None, "code": None}}),
    ],
)
def test_account_errors_disable_the_channel(auto_disable, status, error):
    relay = auto_disable
    channel = relay.channel("broke")
    relay.upstream.plan("broke", status=status, error=error)
    relay.chat()
    relay.refresh()
    assert status_of(channel) == ChannelStatus.AUTO_DISABLED


@pytest.mark.parametrize(
    "status,error",
    [
        (500, None),
        (
            429,
            {
                "error": {
                    "message": "Rate limit reached for requests",
                    "type": "requests",
                    "param": None,
                    "code": "rate_limit_exceeded",
                }
            },
        ),
        (
            400,
            {
                "error": {
                    "message": "maximum context length is 4097 tokens",
                    "type": "invalid_request_error",
                    "param": "messages",
                    "code": "context_length_exceeded",
                }
            },
        ),
    ],
)
def test_transient_and_request_errors_do_not_disable(auto_disable, notes, status, error):
    relay = auto_disable
    channel = relay.channel("flaky")
    relay.upstream.plan("flaky", status=status, error=error)
    relay.chat()
    relay.refresh()
    assert status_of(channel) == ChannelStatus.ENABLED
    assert notes == []


def test_with_the_option_off_nothing_is_disabled(relay, notes):
    channel = relay.channel("revoked")
    relay.upstream.plan("revoked", status=401, error=INVALID_KEY)
    for _ in range(3):
        assert relay.chat().status_code == 401
    relay.refresh()
    assert status_of(channel) == ChannelStatus.ENABLED
    assert len(relay.upstream.requests_for("revoked")) == 3
    assert notes == []


def test_an_auto_disabled_channel_is_not_disabled_or_announced_twice(auto_disable, notes):
    relay = auto_disable
    channel = relay.channel("revoked")
    relay.upstream.plan("revoked", status=401, error=INVALID_KEY)
    relay.chat()
    relay.refresh()
    assert status_of(channel) == ChannelStatus.AUTO_DISABLED
    health.channel_auto_disable(channel.pk, "again")
    assert len(notes) == 1


# --- ENABLE_METRIC ------------------------------------------------------------------------------------


@pytest.fixture
def metric(relay, settings, notes, monkeypatch):
    settings.ENABLE_METRIC = True
    settings.METRIC_QUEUE_SIZE = 10
    settings.METRIC_SUCCESS_RATE_THRESHOLD = 0.8
    monkeypatch.setattr(health, "_windows", {})
    return relay


def test_metric_disables_once_the_window_fills_below_the_threshold(metric, notes):
    relay = metric
    watched = relay.channel("watched", priority=10)
    relay.channel("spare")
    for _ in range(7):
        assert relay.chat().status_code == 200
    relay.upstream.plan("watched", status=500)
    for _ in range(2):
        assert relay.chat().status_code == 500
    relay.refresh()
    assert status_of(watched) == ChannelStatus.ENABLED  # 9 results: the window is not full yet
    assert relay.chat().status_code == 500  # 10 results, 7 successes: 70% < 80%
    relay.refresh()
    assert status_of(watched) == ChannelStatus.AUTO_DISABLED
    assert relay.chat().status_code == 200
    assert len(relay.upstream.requests_for("spare")) == 1
    assert len(notes) == 1


def test_metric_at_the_threshold_keeps_the_channel(metric):
    relay = metric
    watched = relay.channel("watched")
    for _ in range(8):
        relay.chat()
    relay.upstream.plan("watched", status=500)
    relay.chat()
    relay.chat()  # 8 of 10: exactly 80%
    relay.refresh()
    assert status_of(watched) == ChannelStatus.ENABLED
    relay.chat()  # the oldest success drops out: 7 of 10
    relay.refresh()
    assert status_of(watched) == ChannelStatus.AUTO_DISABLED


def test_metric_off_never_disables(relay, settings, monkeypatch):
    settings.ENABLE_METRIC = False
    monkeypatch.setattr(health, "_windows", {})
    channel = relay.channel("watched")
    relay.upstream.plan("watched", status=500)
    for _ in range(12):
        relay.chat()
    relay.refresh()
    assert status_of(channel) == ChannelStatus.ENABLED
