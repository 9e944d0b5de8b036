"""Channel balances from every provider that has a balance endpoint, and what garbage or silence does."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from channels_app import balance as balance_module
from channels_app.balance import BalanceError, channel_balance_update, channel_balances_update_all
from channels_app.models import Channel, ChannelStatus
from channels_app.services import channel_save
from channels_app.tasks import channel_balance_update_all_task
from config.options import option_set
from relay.channel_types import ChannelType

T = ChannelType


@pytest.fixture
def channel_for(db, billing):
    def make(type_id: int, key: str = "sk-balance", **fields) -> Channel:
        fields.setdefault("base_url", billing.url)
        fields.setdefault("name", f"type-{int(type_id)}")
        return channel_save(Channel(type=type_id, key=key, model_names="m", **fields))

    return make


def test_openai_subtracts_usage_from_the_hard_limit(channel_for, billing):
    billing.route("/v1/dashboard/billing/subscription", {"hard_limit_usd": 120.0, "has_payment_method": True})
    billing.route("/v1/dashboard/billing/usage", {"total_usage": 2050.0})  # cents
    channel = channel_for(T.OPENAI)
    assert channel_balance_update(channel) == pytest.approx(99.5)
    channel.refresh_from_db()
    assert channel.balance == pytest.approx(99.5) and channel.balance_updated_time > 0
    path, query, headers = billing.requests[1]
    assert query.startswith("start_date=") and query.split("&")[0].endswith("-01")  # this month
    assert headers["authorization"] == "Bearer sk-balance"


def test_openai_without_a_payment_method_counts_the_last_100_days(channel_for, billing):
    billing.route("/v1/dashboard/billing/subscription", {"hard_limit_usd": 5, "has_payment_method": False})
    billing.route("/v1/dashboard/billing/usage", {"total_usage": 100})
    assert channel_balance_update(channel_for(T.CUSTOM)) == pytest.approx(4.0)
    assert billing.requests[1][1].startswith(f"start_date={date.today() - timedelta(days=100):%Y-%m-%d}&")


@pytest.mark.parametrize(
    ("type_id", "path", "answer", "expected"),
    [
        (T.CLOSEAI, "/dashboard/billing/credit_grants", {"total_available": 12.5}, 12.5),
        (T.API2GPT, "/dashboard/billing/credit_grants", {"total_remaining": 3.25}, 3.25),
        (T.AIGC2D, "/dashboard/billing/credit_grants", {"total_available": 8}, 8.0),
        (T.OPENAI_SB, "/sb-api/user/status", {"msg": "ok", "data": {"credit": "42.1"}}, 42.1),
        (T.AIPROXY, "/api/report/getUserOverview", {"success": True, "data": {"totalPoints": 77.7}}, 77.7),
        (T.SILICONFLOW, "/v1/user/info", {"code": 20000, "data": {"totalBalance": "9.87"}}, 9.87),
        (
            T.DEEPSEEK,
            "/user/balance",
            {
                "is_available": True,
                "balance_infos": [
                    {"currency": "USD", "total_balance": "1"},
                    {"currency": "CNY", "total_balance": "110.00"},
                ],
            },
            110.0,
        ),
        (T.OPENROUTER, "/v1/credits", {"data": {"total_credits": 20, "total_usage": 4.5}}, 15.5),
        (
            T.MOONSHOT,
            "/v1/users/me/balance",
            {"code": 0, "status": True, "data": {"available_balance": 49.58}},
            49.58,
        ),
    ],
)
def test_each_provider_is_read_from_its_documented_answer(
    channel_for, billing, type_id, path, answer, expected
):
    billing.route(path, answer)
    channel = channel_for(type_id)
    assert channel_balance_update(channel) == pytest.approx(expected)
    assert billing.requests[-1][0] == path


def test_openai_sb_sends_the_key_as_a_query_parameter_and_aiproxy_as_api_key(channel_for, billing):
    billing.route("/sb-api/user/status", {"data": {"credit": "1"}})
    billing.route("/api/report/getUserOverview", {"success": True, "data": {"totalPoints": 1}})
    channel_balance_update(channel_for(T.OPENAI_SB, key="sb-key"))
    channel_balance_update(channel_for(T.AIPROXY, key="ap-key"))
    assert billing.requests[0][1] == "api_key=sb-key"
    assert billing.requests[1][2]["api-key"] == "ap-key"


def test_addresses_come_from_the_base_url_without_a_trailing_v1(channel_for, billing):
    billing.route("/user/balance", {"balance_infos": [{"currency": "CNY", "total_balance": "1"}]})
    channel = channel_for(T.DEEPSEEK, base_url=billing.url + "/v1/")
    assert channel_balance_update(channel) == 1.0


def test_without_a_base_url_the_providers_default_host_is_used(db):
    channel = Channel(type=T.AIPROXY, key="k", base_url="")
    assert balance_module.balance_url_base(channel) == "https://aiproxy.io"
    channel = Channel(type=T.OPENROUTER, key="k", base_url="")
    assert balance_module.balance_url_base(channel) == "https://openrouter.ai/api"


@pytest.mark.parametrize(
    "route",
    [
        {"raw": b"<html>502 Bad Gateway</html>"},
        {"answer": {"total_available": "lots"}},
        {"answer": {"total_available": float("nan")}},
        {"answer": {"unexpected": 1}},
        {"answer": [1, 2, 3]},
        {"answer": {"total_available": 1}, "status": 500},
    ],
)
def test_garbage_leaves_the_stored_balance_unknown(channel_for, billing, route):
    channel = channel_for(T.CLOSEAI, balance=7.0)
    billing.route("/dashboard/billing/credit_grants", **route)
    with pytest.raises(BalanceError):
        channel_balance_update(channel)
    channel.refresh_from_db()
    assert channel.balance == 7.0 and channel.balance_updated_time == 0


def test_a_silent_endpoint_times_out(channel_for, billing, monkeypatch):
    monkeypatch.setattr(balance_module, "TIMEOUT_S", 0.2)
    billing.route("/dashboard/billing/credit_grants", {"total_available": 1}, delay=1.0)
    with pytest.raises(BalanceError, match="within"):
        channel_balance_update(channel_for(T.CLOSEAI))


def test_types_without_an_endpoint_say_not_implemented(channel_for):
    with pytest.raises(BalanceError, match="尚未实现"):
        channel_balance_update(channel_for(T.ANTHROPIC))


def test_update_all_moves_on_past_failures_and_logs_each_once(channel_for, billing, monkeypatch, caplog):
    monkeypatch.setattr(balance_module, "_failing", {})
    broken = channel_for(T.CLOSEAI, name="broken")
    billing.route("/dashboard/billing/credit_grants", raw=b"garbage")
    working = channel_for(T.OPENROUTER, name="working")
    billing.route("/v1/credits", {"data": {"total_credits": 3, "total_usage": 1}})
    channel_for(T.OPENROUTER, name="off", status=ChannelStatus.MANUALLY_DISABLED)
    channel_for(T.ANTHROPIC, name="no endpoint")
    with caplog.at_level(logging.WARNING, logger="channels_app.balance"):
        first = channel_balances_update_all()
        second = channel_balances_update_all()
    assert first.updated == {working.pk: 2.0} and set(first.unknown) == {broken.pk}
    assert second.unknown.keys() == {broken.pk}
    warnings = [r.getMessage() for r in caplog.records if "unknown" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith(f"balance of channel #{broken.pk} (broken) unknown")


def test_an_empty_channel_is_disabled_when_automatic_disabling_is_on(channel_for, billing):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = channel_for(T.OPENROUTER)
    billing.route("/v1/credits", {"data": {"total_credits": 3, "total_usage": 3}})
    summary = channel_balances_update_all()
    assert summary.disabled == [channel.pk]
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_the_periodic_task_runs_the_update(channel_for, billing):
    channel_for(T.OPENROUTER)
    billing.route("/v1/credits", {"data": {"total_credits": 3, "total_usage": 1}})
    assert channel_balance_update_all_task.apply().get() == {"updated": 1, "unknown": 0, "disabled": 0}
