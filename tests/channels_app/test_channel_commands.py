"""Operator commands for channels: test_channels, update_balances, rebuild_abilities."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from channels_app.models import Ability, Channel
from relay.channel_types import ChannelType

BAD_KEY = {
    "error": {
        "message": "Incorrect API key provided",
        "type": "invalid_request_error",
        "code": "invalid_api_key",
    }
}


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_test_channels_prints_each_result_and_a_summary(db, make_channel, upstream, pusher):
    make_channel("ok")
    output = run("test_channels")
    assert "ok [gpt-3.5-turbo]: ok in" in output and "summary: 1 tested, 1 passed, 0 failed" in output
    assert pusher.titles() == ["渠道测试完成"]


def test_test_channels_exits_non_zero_when_a_channel_fails(db, make_channel, upstream):
    make_channel("ok")
    bad = make_channel("bad")
    upstream.plan("bad", status=401, error=BAD_KEY)
    out = StringIO()
    with pytest.raises(CommandError, match="1 channel test"):
        call_command("test_channels", "--no-notify", stdout=out)
    assert f"#{bad.pk} bad [gpt-3.5-turbo]: FAILED" in out.getvalue()


def test_test_channels_can_name_channels(db, make_channel, upstream):
    make_channel("one")
    two = make_channel("two", auto_test_enabled=False)
    assert "summary: 1 tested" in run("test_channels", "--channel", str(two.pk), "--no-notify")
    assert [r.headers["authorization"] for r in upstream.requests] == ["Bearer two"]
    with pytest.raises(CommandError):
        call_command("test_channels", "--channel", "999", "--no-notify", stdout=StringIO(), stderr=StringIO())


def test_update_balances_reports_known_and_unknown(db, billing):
    good = Channel.objects.create(type=ChannelType.OPENROUTER, key="k", name="good", base_url=billing.url)
    Channel.objects.create(type=ChannelType.CLOSEAI, key="k", name="broken", base_url=billing.url)
    billing.route("/v1/credits", {"data": {"total_credits": 10, "total_usage": 2.5}})
    out = StringIO()
    with pytest.raises(CommandError, match="1 balance"):
        call_command("update_balances", stdout=out)
    assert f"#{good.pk} good: 7.50" in out.getvalue() and "broken: unknown" in out.getvalue()
    assert "summary: 1 updated, 1 unknown" in out.getvalue()
    assert "summary: 1 updated, 0 unknown" in run("update_balances", "--channel", str(good.pk))


def test_rebuild_abilities(db, make_channel):
    channel = make_channel("c", model_names="a,b")
    Ability.objects.all().delete()
    assert "summary: 2 ability rows written (was 0)" in run("rebuild_abilities")
    assert Ability.objects.filter(channel=channel).count() == 2
