"""GET /v1/models and /v1/models/{model} (spec §2.1): what a key may use, in OpenAI's shape."""

from __future__ import annotations

import openai
import pytest

from channels_app.models import ChannelStatus


def test_list_shows_the_models_the_users_group_can_reach(relay):
    relay.channel("m-a", model_names="gpt-4o-mini,gpt-3.5-turbo")
    relay.channel("m-b", model_names="gpt-3.5-turbo,deepseek-chat", type=36)
    relay.channel("m-off", model_names="disabled-only-model", status=ChannelStatus.MANUALLY_DISABLED)
    relay.channel("m-vip", model_names="vip-only-model", group="vip")
    ids = sorted(m.id for m in relay.client().models.list())
    assert ids == ["deepseek-chat", "gpt-3.5-turbo", "gpt-4o-mini"]


def test_list_items_have_the_original_fields(relay):
    relay.channel("m-a", model_names="gpt-4o-mini")
    body = relay.get("/v1/models").json()
    assert body["object"] == "list"
    assert body["data"] == [
        {
            "id": "gpt-4o-mini",
            "object": "model",
            "created": 1626777600,
            "owned_by": "openai",
            "permission": [],
            "root": "gpt-4o-mini",
            "parent": None,
        }
    ]


def test_a_key_with_a_model_allowlist_sees_only_those_models(relay):
    relay.channel("m-a", model_names="gpt-4o-mini,gpt-3.5-turbo,text-embedding-3-small")
    token = relay.make_token(allowed_models="gpt-4o-mini,text-embedding-3-small")
    ids = sorted(m.id for m in relay.client(f"sk-{token.key}").models.list())
    assert ids == ["gpt-4o-mini", "text-embedding-3-small"]


def test_a_newly_added_channel_shows_up_on_the_next_list(relay):
    relay.channel("m-a", model_names="gpt-4o-mini")
    client = relay.client()
    assert [m.id for m in client.models.list()] == ["gpt-4o-mini"]
    relay.channel("m-b", model_names="gpt-4.1")
    assert sorted(m.id for m in client.models.list()) == ["gpt-4.1", "gpt-4o-mini"]


def test_retrieve_a_known_model(relay):
    relay.channel("m-a", model_names="gpt-4o-mini")
    model = relay.client().models.retrieve("gpt-4o-mini")
    assert (model.id, model.object, model.owned_by) == ("gpt-4o-mini", "model", "openai")


def test_retrieve_a_builtin_model_no_channel_serves(relay):
    # As the original: retrieve looks in the built-in list too.
    model = relay.client().models.retrieve("gpt-3.5-turbo")
    assert model.id == "gpt-3.5-turbo"


def test_retrieve_an_unknown_model_is_model_not_found(relay):
    # The original answers HTTP 200 with an error body; we answer 404 like OpenAI so SDKs raise.
    with pytest.raises(openai.NotFoundError) as caught:
        relay.client().models.retrieve("no-such-model")
    error = caught.value.body
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert error["message"].startswith("The model 'no-such-model' does not exist")


def test_models_need_a_valid_key(relay):
    with pytest.raises(openai.AuthenticationError):
        relay.client("sk-not-a-real-key").models.list()
