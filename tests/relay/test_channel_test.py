from __future__ import annotations

from logs_app.models import Log, LogType
from relay.services import channel_test


def test_a_working_channel_passes_and_records_its_response_time(relay):
    channel = relay.channel("test-ok", model_names="gpt-4o-mini")
    result = channel_test(channel)
    assert result.success and result.model == "gpt-4o-mini"
    channel.refresh_from_db()
    assert channel.test_time > 0
    sent = relay.upstream.requests_for("test-ok")[0]
    assert sent.body["model"] == "gpt-4o-mini" and sent.path == "/v1/chat/completions"
    log = Log.objects.get(type=LogType.TEST)
    assert "测试成功" in log.content and log.channel_id == channel.id
    relay.refresh()
    assert relay.user.used_quota == 0  # a test never charges anyone


def test_a_failing_channel_reports_the_upstream_message(relay):
    channel = relay.channel("test-bad")
    relay.upstream.plan(
        "test-bad",
        status=401,
        error={
            "error": {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    )
    result = channel_test(channel, "gpt-3.5-turbo")
    assert not result.success and "Incorrect API key" in result.message
    assert result.error.disable_channel
    channel.refresh_from_db()
    assert channel.response_time == 0
