"""The official openai SDK → the gateway → a fake Cloudflare Workers AI on loopback that checks account and token."""

from __future__ import annotations

import json

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel, ChannelStatus
from config.options import option_set
from relay.services import channel_test, text_charge
from tests.fakes.cloudflare import FakeCloudflare, fixture
from tests.fakes.server import ServerThread

MODEL = "@cf/meta/llama-3.1-8b-instruct"


@pytest.fixture(scope="module")
def cloudflare_server():
    fake = FakeCloudflare()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def cloudflare(relay, cloudflare_server):
    fake, server = cloudflare_server
    fake.reset()
    fake.url = server.url

    def channel(key: str, account: str = "acct-1", **fields) -> Channel:
        fake.accounts.setdefault(key, account)
        fields.setdefault("model_names", f"{MODEL},@cf/baai/bge-m3")
        fields.setdefault("base_url", server.url)
        return relay.channel(key, type=37, config=json.dumps({"user_id": account}), **fields)

    fake.channel = channel
    yield fake
    fake.reset()


def test_a_chat_reaches_the_accounts_endpoint_and_bills_its_usage(relay, cloudflare):
    channel = cloudflare.channel("cf-1")
    usage = {"prompt_tokens": 14, "completion_tokens": 3, "total_tokens": 17}
    cloudflare.plan("cf-1", content="Hi from Workers AI.", usage=usage)
    answer = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello"}]
    )
    assert answer.choices[0].message.content == "Hi from Workers AI."
    sent = cloudflare.requests_for("cf-1")[-1]
    assert sent.path == "/client/v4/accounts/acct-1/ai/v1/chat/completions" and sent.body["model"] == MODEL
    relay.refresh()
    assert relay.user.used_quota == text_charge(MODEL, channel, relay.user.group, Usage(14, 3)).quota


def test_a_stream_and_embeddings(relay, cloudflare):
    cloudflare.channel("cf-2")
    cloudflare.plan("cf-2", content="one two three")
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "count"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "one two three "
    result = relay.client().embeddings.create(model="@cf/baai/bge-m3", input=["a"])
    assert result.data[0].embedding == [0.1, 0.2, 0.3]
    assert cloudflare.requests_for("cf-2")[-1].path == "/client/v4/accounts/acct-1/ai/v1/embeddings"


def test_an_ai_gateway_base_url(relay, cloudflare):
    # The gateway URL names the account itself; the fake serves it under GATEWAY_PREFIX.
    cloudflare.channel("cf-gw", base_url=f"{cloudflare.url}/v1/acct-gw/my-gateway/workers-ai")
    cloudflare.plan("cf-gw", content="via gateway")
    answer = relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert answer.choices[0].message.content == "via gateway"
    assert (
        cloudflare.requests_for("cf-gw")[-1].path == "/v1/acct-gw/my-gateway/workers-ai/v1/chat/completions"
    )


def test_a_bad_token_disables_the_channel(relay, cloudflare):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = cloudflare.channel("cf-3")
    cloudflare.accounts.pop("cf-3")  # Cloudflare does not know this token
    with pytest.raises(openai.AuthenticationError) as raised:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert "Authentication error" in raised.value.message
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_an_envelope_error_with_http_200_reaches_the_client_as_an_error(relay, cloudflare):
    cloudflare.channel("cf-4")
    cloudflare.envelope_errors["cf-4"] = (200, fixture("error_model.json"))
    with pytest.raises(openai.InternalServerError) as raised:
        relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert "No such model" in raised.value.message


def test_the_channel_test_works_through_the_adaptor(relay, cloudflare):
    channel = cloudflare.channel("cf-5", model_names=MODEL)
    cloudflare.plan("cf-5", content=MODEL)
    assert channel_test(channel).success
    wrong = cloudflare.channel("cf-6", account="acct-2", model_names=MODEL)
    cloudflare.accounts["cf-6"] = "acct-other"  # the token belongs to another account
    result = channel_test(wrong)
    assert not result.success and "Could not route" in result.message
