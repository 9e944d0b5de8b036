from __future__ import annotations

import json
import sys
import types

import pytest

from channels_app.models import Ability, Channel, ChannelStatus
from channels_app.services import channel_save
from tests.console.conftest import csrf_client, csrf_token_from


@pytest.fixture
def channel(db) -> Channel:
    return channel_save(
        Channel(
            name="main", type=1, key="sk-upstream-secret", model_names="gpt-4o,gpt-4o-mini", group="default"
        )
    )


def _form(**overrides) -> dict:
    data = {
        "type": "1",
        "name": "new",
        "key": "sk-one",
        "models": "gpt-4o, gpt-4o-mini\ngpt-4o",
        "groups": ["default"],
        "model_mapping": "",
        "system_prompt": "",
        "priority": "5",
        "weight": "1",
        "auto_test_enabled": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


@pytest.mark.parametrize("path", ["/channel", "/channel/new"])
def test_only_admins_see_channels(as_alice, as_admin, channel, path):
    assert as_alice.get(path).status_code == 403
    assert as_alice.post("/channel/new", _form()).status_code == 403
    assert as_admin.get(path).status_code == 200


def test_the_list_shows_status_response_time_and_never_the_key(as_admin, channel):
    Channel.objects.filter(pk=channel.pk).update(
        response_time=1234, test_time=1, balance=3.5, balance_updated_time=1
    )
    page = as_admin.get("/channel").content.decode()
    assert "main" in page and "1.23 s" in page and "$3.50" in page and "Enabled" in page
    assert "sk-upstream-secret" not in page


def test_creating_a_channel_builds_its_abilities(as_admin):
    response = as_admin.post(
        "/channel/new", _form(model_mapping='{"gpt-4": "gpt-4o"}', config_api_version="x")
    )
    assert response.status_code == 302
    channel = Channel.objects.get(name="new")
    assert channel.model_names == "gpt-4o,gpt-4o-mini" and channel.priority == 5
    assert json.loads(channel.model_mapping) == {"gpt-4": "gpt-4o"}
    assert json.loads(channel.config) == {"api_version": "x"}
    assert Ability.objects.filter(channel=channel, group="default").count() == 2


def test_batch_creation_makes_one_channel_per_key_line(as_admin):
    as_admin.post("/channel/new", _form(key="sk-a\n\nsk-b\nsk-c\n", batch="on"))
    assert sorted(Channel.objects.filter(name="new").values_list("key", flat=True)) == [
        "sk-a",
        "sk-b",
        "sk-c",
    ]


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("model_mapping", "{not json", "Not valid JSON"),
        ("model_mapping", '["a"]', "Use a JSON object of strings"),
        ("models", " , ", "List at least one model."),
        ("base_url", "not a url", "Enter a valid URL."),
        ("key", "", "This field is required."),
    ],
)
def test_bad_input_is_reported_next_to_the_field(as_admin, field, value, message):
    response = as_admin.post("/channel/new", _form(**{field: value}))
    page = response.content.decode()
    block = page.split(f'id="field-{field}"')[1].split("</div>")[0]
    assert message in block
    assert not Channel.objects.exists()


def test_types_with_no_default_address_need_one(as_admin):
    page = as_admin.post("/channel/new", _form(type="3")).content.decode()
    assert "This channel type needs the upstream address." in page.split('id="field-base_url"')[1]


def test_editing_keeps_the_stored_key_when_left_empty(as_admin, channel):
    page = as_admin.get(f"/channel/{channel.pk}/edit").content.decode()
    assert "sk-upstream-secret" not in page and 'value="main"' in page
    as_admin.post(f"/channel/{channel.pk}/edit", _form(name="renamed", key="", models="claude-3"))
    channel.refresh_from_db()
    assert channel.name == "renamed" and channel.key == "sk-upstream-secret"
    assert list(Ability.objects.filter(channel=channel).values_list("model", flat=True)) == ["claude-3"]


def test_inline_priority_and_weight(as_admin, channel):
    as_admin.post(f"/channel/{channel.pk}/inline", {"priority": "9", "weight": "3"})
    channel.refresh_from_db()
    assert (channel.priority, channel.weight) == (9, 3)
    assert set(Ability.objects.filter(channel=channel).values_list("priority", flat=True)) == {9}
    response = as_admin.post(f"/channel/{channel.pk}/inline", {"priority": "x", "weight": "-1"}, follow=True)
    assert "not saved" in response.content.decode()


def test_disable_enable_delete_and_delete_disabled(as_admin, channel):
    as_admin.post(f"/channel/{channel.pk}/status", {"enable": "0"})
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.MANUALLY_DISABLED
    assert not Ability.objects.filter(channel=channel, enabled=True).exists()
    other = channel_save(Channel(name="keep", type=1, key="k", model_names="m", group="default"))
    as_admin.post("/channel/delete_disabled")
    assert list(Channel.objects.values_list("pk", flat=True)) == [other.pk]
    as_admin.post(f"/channel/{other.pk}/delete")
    assert not Channel.objects.exists() and not Ability.objects.exists()


def test_the_test_button_reports_the_relays_result(as_admin, channel, monkeypatch):
    from relay import services

    result = types.SimpleNamespace(success=True, model="gpt-4o", time_s=0.5, message="")
    monkeypatch.setattr(services, "channel_test", lambda ch, model="": result)
    response = as_admin.post(f"/channel/{channel.pk}/test", follow=True)
    assert "“main” answered with gpt-4o in 0.50 s." in response.content.decode()
    result.success, result.message = False, "401 invalid key <b>"
    page = as_admin.post(f"/channel/{channel.pk}/test", follow=True).content.decode()
    assert "failed with gpt-4o: 401 invalid key &lt;b&gt;" in page


def test_missing_relay_parts_say_not_available(as_admin, channel, monkeypatch):
    monkeypatch.setitem(sys.modules, "channels_app.balance", None)  # import fails
    monkeypatch.setitem(sys.modules, "relay.tasks", None)
    page = as_admin.post(f"/channel/{channel.pk}/balance", follow=True).content.decode()
    assert "Balance query is not available on this server." in page
    page = as_admin.post("/channel/test_all", follow=True).content.decode()
    assert "Testing all channels is not available on this server." in page


def test_fetching_models_reports_an_unreachable_upstream(as_admin, channel):
    reply = as_admin.post(
        "/channel/fetch_models", {"type": "8", "base_url": "http://127.0.0.1:9", "channel_id": channel.pk}
    ).json()
    assert reply["success"] is False and "Upstream did not list models" in reply["message"]


def test_channel_forms_require_the_csrf_token(admin):
    client = csrf_client(admin)
    assert client.post("/channel/new", _form()).status_code == 403
    token = csrf_token_from(client, "/channel/new")
    assert client.post("/channel/new", {**_form(), "csrfmiddlewaretoken": token}).status_code == 302


def test_channel_names_are_escaped(as_admin):
    channel_save(Channel(name="<script>x()</script>", type=1, key="k", model_names="m", group="default"))
    assert "<script>x()</script>" not in as_admin.get("/channel").content.decode()


async def _models_app(scope, receive, send):
    """Loopback stand-in for an upstream's ``GET /v1/models``; it insists on the channel's key."""
    headers = dict(scope["headers"])
    ok = headers.get(b"authorization") == b"Bearer sk-upstream-secret" and scope["path"] == "/v1/models"
    body = b'{"object":"list","data":[{"id":"m2"},{"id":"m1"}]}' if ok else b'{"error":"no"}'
    await send({"type": "http.response.start", "status": 200 if ok else 401, "headers": []})
    await send({"type": "http.response.body", "body": body})


def test_fetching_models_from_upstream_uses_the_stored_key(as_admin, channel):
    from tests.fakes.server import ServerThread

    server = ServerThread(_models_app).start()
    try:
        reply = as_admin.post(
            "/channel/fetch_models", {"type": "8", "base_url": server.url, "channel_id": channel.pk}
        ).json()
    finally:
        server.stop()
    assert reply == {"success": True, "message": "", "models": ["m1", "m2"]}


def test_test_all_queues_the_relays_task_and_balance_shows_the_answer(as_admin, channel, monkeypatch):
    from channels_app import balance
    from relay import tasks

    queued = []
    monkeypatch.setattr(tasks.channel_test_all, "delay", lambda **kwargs: queued.append(kwargs))
    page = as_admin.post("/channel/test_all", follow=True).content.decode()
    assert queued == [{"scope": "all"}] and "Testing channels in the background" in page
    monkeypatch.setattr(balance, "channel_balance_update", lambda ch: 7.25)
    assert (
        "Balance of “main”: $7.25"
        in as_admin.post(f"/channel/{channel.pk}/balance", follow=True).content.decode()
    )

    def refuse(ch):
        raise ValueError("尚未实现")

    monkeypatch.setattr(balance, "channel_balance_update", refuse)
    assert (
        "Balance of “main”: 尚未实现"
        in as_admin.post(f"/channel/{channel.pk}/balance", follow=True).content.decode()
    )
