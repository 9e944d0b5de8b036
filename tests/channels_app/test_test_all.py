"""Testing every channel: response times, automatic disable/enable, opt-outs, notifications, no charges."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.services import token_create
from channels_app.models import Channel, ChannelStatus
from channels_app.tasks import channel_test_all_task
from channels_app.testing import LOCK_KEY, channels_test_all
from config.options import option_set
from logs_app.consume import consume_logs_flush
from logs_app.models import Log, LogType

BAD_KEY = {
    "error": {
        "message": "Incorrect API key provided",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}


def _status(channel: Channel) -> int:
    channel.refresh_from_db()
    return channel.status


def test_it_records_response_times_and_test_logs_and_charges_nobody(db, alice, make_channel, upstream):
    token = token_create(user=alice, name="k", remain_quota=1000)
    first, second = make_channel("ok-1"), make_channel("ok-2", model_names="gpt-4o-mini")
    summary = channels_test_all()
    assert (len(summary.outcomes), summary.passed, summary.failed) == (2, 2, 0)
    for channel in (first, second):
        channel.refresh_from_db()
        assert channel.test_time > 0 and channel.response_time > 0
    assert Log.objects.filter(type=LogType.TEST).count() == 2
    consume_logs_flush()
    alice.refresh_from_db()
    token.refresh_from_db()
    assert (alice.quota, alice.used_quota, token.remain_quota) == (1_000_000, 0, 1000)
    assert not Log.objects.filter(type=LogType.CONSUME).exists()


def test_it_asks_for_the_channels_own_test_model(db, make_channel, upstream):
    make_channel("dalle-first", model_names="dall-e-3,gpt-4o-mini", test_model="gpt-4o-mini")
    make_channel("default-rule", model_names="dall-e-3,gpt-4o-mini")
    channels_test_all()
    assert upstream.requests_for("dalle-first")[0].body["model"] == "gpt-4o-mini"
    assert upstream.requests_for("default-rule")[0].body["model"] == "dall-e-3"  # the original's rule


def test_a_disabling_error_disables_the_channel_and_tells_root(db, make_channel, upstream, pusher):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = make_channel("revoked")
    upstream.plan("revoked", status=401, error=BAD_KEY)
    summary = channels_test_all()
    assert summary.outcomes[0].action == "disabled"
    assert _status(channel) == ChannelStatus.AUTO_DISABLED
    assert any("已被禁用" in title for title in pusher.titles())


def test_without_automatic_disable_a_failing_channel_stays_enabled(db, make_channel, upstream, pusher):
    channel = make_channel("revoked")
    upstream.plan("revoked", status=401, error=BAD_KEY)
    summary = channels_test_all()
    assert summary.failed == 1 and summary.outcomes[0].action == ""
    assert _status(channel) == ChannelStatus.ENABLED
    assert pusher.pushes == []


def test_a_slow_channel_is_disabled_when_allowed(db, make_channel, upstream, pusher):
    option_set("ChannelDisableThreshold", "0.2")
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = make_channel("slow")
    upstream.plan("slow", first_byte_delay=0.3)
    assert channels_test_all().outcomes[0].action == "disabled"
    assert _status(channel) == ChannelStatus.AUTO_DISABLED


def test_a_slow_channel_is_only_reported_when_disabling_is_off(db, make_channel, upstream, pusher):
    option_set("ChannelDisableThreshold", "0.2")
    channel = make_channel("slow")
    upstream.plan("slow", first_byte_delay=0.3)
    assert channels_test_all().outcomes[0].action == "slow"
    assert _status(channel) == ChannelStatus.ENABLED
    assert any("测试超时" in title for title in pusher.titles())


def test_only_automatically_disabled_channels_are_enabled_again(db, make_channel, upstream, pusher):
    option_set("AutomaticEnableChannelEnabled", "true")
    auto = make_channel("auto-off", status=ChannelStatus.AUTO_DISABLED)
    manual = make_channel("hand-off", status=ChannelStatus.MANUALLY_DISABLED)
    summary = channels_test_all()
    assert {o.channel_id: o.action for o in summary.outcomes} == {auto.pk: "enabled", manual.pk: ""}
    assert _status(auto) == ChannelStatus.ENABLED
    assert _status(manual) == ChannelStatus.MANUALLY_DISABLED  # the original re-enabled this one too
    assert any("已被启用" in title for title in pusher.titles())


def test_without_automatic_enable_a_passing_disabled_channel_stays_off(db, make_channel, upstream):
    auto = make_channel("auto-off", status=ChannelStatus.AUTO_DISABLED)
    channels_test_all()
    assert _status(auto) == ChannelStatus.AUTO_DISABLED


def test_channels_that_opted_out_are_skipped_unless_named(db, make_channel, upstream):
    opted_out = make_channel("no-tests", auto_test_enabled=False)
    summary = channels_test_all()
    assert summary.outcomes == [] and summary.skipped == [opted_out.pk]
    assert upstream.requests_for("no-tests") == []
    assert channels_test_all(channel_ids=[opted_out.pk]).passed == 1


def test_scope_disabled_tests_only_disabled_channels(db, make_channel, upstream):
    make_channel("on")
    off = make_channel("off", status=ChannelStatus.MANUALLY_DISABLED)
    assert [o.channel_id for o in channels_test_all(scope="disabled").outcomes] == [off.pk]


def test_it_waits_polling_interval_between_channels(db, make_channel, upstream, settings):
    settings.POLLING_INTERVAL = 7
    for key in ("a", "b", "c"):
        make_channel(key)
    slept: list[float] = []
    channels_test_all(sleep=slept.append)
    assert slept == [7, 7]


def test_a_manual_run_ends_with_a_notification_and_a_periodic_one_does_not(
    db, make_channel, upstream, pusher
):
    make_channel("ok")
    channels_test_all()
    assert pusher.pushes == []
    channels_test_all(manual=True)
    assert pusher.titles() == ["渠道测试完成"]
    assert "1 tested, 1 passed" in pusher.pushes[0]["content"]


def test_only_one_run_at_a_time(db, make_channel, upstream):
    make_channel("ok")
    cache.add(LOCK_KEY, 1, 60)
    try:
        summary = channels_test_all()
    finally:
        cache.delete(LOCK_KEY)
    assert summary.already_running and summary.outcomes == []
    assert channels_test_all().passed == 1  # the lock is released after a run


def test_the_periodic_task_runs_the_service_eagerly(db, make_channel, upstream):
    make_channel("ok")
    result = channel_test_all_task.apply(kwargs={"scope": "all"}).get()
    assert (result["tested"], result["passed"], result["already_running"]) == (1, 1, False)


def test_the_consoles_test_all_runs_in_the_background_without_a_broker(
    transactional_db, make_channel, upstream
):
    from config.celery import app
    from relay.tasks import channel_test_all

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # as without a broker (the PostgreSQL CI run has one)
    try:
        make_channel("ok")
        thread = channel_test_all.delay(scope="all")
        thread.join(timeout=30)
    finally:
        app.conf.task_always_eager = eager
    assert Log.objects.filter(type=LogType.TEST).count() == 1


@pytest.mark.parametrize("scope", ["everything", ""])
def test_an_unknown_scope_is_refused(db, scope):
    with pytest.raises(ValueError):
        channels_test_all(scope=scope)
