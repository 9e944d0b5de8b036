"""Channel selection (spec §3.2, §3.4): priority tiers, weighted choice, model mapping, system prompts."""

from __future__ import annotations

import json
import math

import pytest

from channels_app.models import ChannelStatus
from channels_app.services import channel_status_set
from logs_app.models import Log

USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}


def counts(relay, *keys: str) -> list[int]:
    return [len(relay.upstream.requests_for(k)) for k in keys]


def test_the_highest_priority_tier_takes_all_traffic(relay):
    relay.channel("prio-high", priority=10)
    relay.channel("prio-mid", priority=5)
    relay.channel("prio-zero")
    relay.channel("prio-neg", priority=-3)
    for _ in range(30):
        assert relay.chat().status_code == 200
    assert counts(relay, "prio-high", "prio-mid", "prio-zero", "prio-neg") == [30, 0, 0, 0]


def test_negative_priorities_still_respect_the_tiers(relay):
    # The original picks uniformly among all channels when the top priority is <= 0 (quirk); we do not.
    relay.channel("neg-1", priority=-1)
    relay.channel("neg-5", priority=-5)
    for _ in range(20):
        relay.chat()
    assert counts(relay, "neg-1", "neg-5") == [20, 0]


def test_weight_splits_traffic_inside_a_tier(relay):
    relay.channel("heavy", weight=3)
    relay.channel("light", weight=1)
    n = 400
    with relay.http() as client:
        for _ in range(n):
            response = client.post(
                "/v1/chat/completions",
                json={"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "x"}]},
            )
            assert response.status_code == 200
    heavy, light = counts(relay, "heavy", "light")
    assert heavy + light == n
    # Binomial(400, 0.75): mean 300, sd 8.66. 5 sd either side fails a correct gateway ~1 in 10^6 runs;
    # uniform choice (mean 200, sd 10) lands 10 sd below the lower bound.
    sd = math.sqrt(n * 0.75 * 0.25)
    assert 300 - 5 * sd < heavy < 300 + 5 * sd, (heavy, light)


def test_unweighted_channels_share_traffic_evenly(relay):
    relay.channel("even-a")
    relay.channel("even-b")
    n = 200
    for _ in range(n):
        relay.chat()
    a, b = counts(relay, "even-a", "even-b")
    sd = math.sqrt(n * 0.25)
    assert abs(a - n / 2) < 5 * sd and a + b == n


def test_a_disabled_channel_is_never_picked(relay):
    relay.channel("live")
    relay.channel("manual-off", status=ChannelStatus.MANUALLY_DISABLED, priority=100)
    relay.channel("auto-off", status=ChannelStatus.AUTO_DISABLED, priority=100)
    for _ in range(20):
        assert relay.chat().status_code == 200
    assert counts(relay, "live", "manual-off", "auto-off") == [20, 0, 0]


def test_disabling_a_channel_takes_effect_on_the_next_request(relay):
    first = relay.channel("first", priority=10)
    relay.channel("second")
    relay.chat()
    channel_status_set(first, ChannelStatus.MANUALLY_DISABLED)
    for _ in range(5):
        relay.chat()
    assert counts(relay, "first", "second") == [1, 5]


def test_a_channel_serves_only_its_groups(relay):
    relay.channel("vip-only", group="vip", model_names="gpt-4o-mini")
    response = relay.chat("gpt-4o-mini")
    assert response.status_code == 503
    relay.user.group = "vip"
    relay.user.save()
    assert relay.chat("gpt-4o-mini").status_code == 200
    assert counts(relay, "vip-only") == [1]


def test_no_channel_for_the_model_is_503_with_the_original_message(relay):
    relay.channel("some", model_names="gpt-4o-mini")
    response = relay.chat("gpt-9-ultra")
    assert response.status_code == 503
    error = response.json()["error"]
    request_id = response.headers["x-oneapi-request-id"]
    assert (
        error["message"] == f"当前分组 default 下对于模型 gpt-9-ultra 无可用渠道 (request id: {request_id})"
    )
    assert relay.upstream.requests == []


def test_only_disabled_channels_for_the_model_is_503(relay):
    relay.channel("off", status=ChannelStatus.AUTO_DISABLED)
    assert relay.chat().status_code == 503


# --- model mapping -------------------------------------------------------------------------------------


@pytest.fixture
def mapped(relay):
    relay.channel(
        "mapped",
        model_names="gpt-3.5-turbo",
        model_mapping=json.dumps({"gpt-3.5-turbo": "gpt-4o-mini"}),
    )
    relay.upstream.plan("mapped", usage=USAGE)
    return relay


def test_the_upstream_receives_the_mapped_model(mapped):
    relay = mapped
    assert relay.chat("gpt-3.5-turbo").status_code == 200
    assert relay.upstream.requests_for("mapped")[0].body["model"] == "gpt-4o-mini"


def test_mapping_bills_and_logs_the_mapped_model(mapped):
    relay = mapped
    relay.chat("gpt-3.5-turbo")
    relay.refresh()
    # gpt-4o-mini: ratio 0.075, completion ratio 4 → ceil((1000 + 200 × 4) × 0.075) = 135
    # (gpt-3.5-turbo would be ceil((1000 + 200 × 3) × 0.25) = 400)
    assert relay.user.used_quota == 135
    log = Log.objects.get()
    assert (log.model_name, log.quota) == ("gpt-4o-mini", 135)
    assert log.content == "倍率：0.07 × 1.00 × 4.00"


def test_the_mapped_name_itself_is_not_routable_through_that_channel(mapped):
    # The requested name must be in the channel's models; the mapping target is not.
    assert mapped.chat("gpt-4o-mini").status_code == 503


def test_an_empty_mapping_value_keeps_the_model(relay):
    relay.channel("empty-map", model_mapping=json.dumps({"gpt-3.5-turbo": ""}))
    relay.chat("gpt-3.5-turbo")
    assert relay.upstream.requests_for("empty-map")[0].body["model"] == "gpt-3.5-turbo"


# --- channel system prompt -----------------------------------------------------------------------------


@pytest.fixture
def prompted(relay):
    relay.channel("prompted", system_prompt="You are a pirate.")
    return relay


def test_system_prompt_is_prepended_when_the_client_sent_none(prompted):
    relay = prompted
    relay.chat(content="hello")
    assert relay.upstream.requests_for("prompted")[0].body["messages"] == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "hello"},
    ]


def test_system_prompt_replaces_the_clients_system_message(prompted):
    relay = prompted
    messages = [
        {"role": "system", "content": "You are a poet.", "name": "sys"},
        {"role": "user", "content": "hello"},
    ]
    relay.post("/v1/chat/completions", {"model": "gpt-3.5-turbo", "messages": messages})
    assert relay.upstream.requests_for("prompted")[0].body["messages"] == [
        {"role": "system", "content": "You are a pirate.", "name": "sys"},
        {"role": "user", "content": "hello"},
    ]


def test_system_prompt_reset_is_logged(prompted):
    relay = prompted
    relay.chat()
    relay.refresh()
    assert Log.objects.get().system_prompt_reset is True


def test_without_a_system_prompt_nothing_is_reset(relay):
    relay.channel("plain")
    relay.chat()
    relay.refresh()
    assert Log.objects.get().system_prompt_reset is False
    assert relay.upstream.requests_for("plain")[0].body["messages"] == [{"role": "user", "content": "hi"}]


def test_system_prompt_only_applies_to_chat(prompted):
    relay = prompted
    relay.post("/v1/embeddings", {"model": "text-embedding-3-small", "input": "hello"})
    assert relay.upstream.requests_for("prompted")[0].body == {
        "model": "text-embedding-3-small",
        "input": "hello",
    }
