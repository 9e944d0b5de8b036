"""ByteDance Doubao / Volcengine Ark (type 40) works through the OpenAI path: fixed /api/v3 paths, Bearer ARK
key, ``ep-…`` endpoint ids as models, and an overdue account disabling the channel (PROVIDERS.md §16)."""

from __future__ import annotations

import openai
import pytest

from channels_app.models import ChannelStatus
from config.options import option_set
from logs_app.models import Log
from relay.services import channel_test

ARK_KEY = "3f9c1a2b-7d4e-4c8a-9b1f-0e2d3c4b5a69"
ENDPOINT = "ep-20240615123456-abcde"
HELLO = [{"role": "user", "content": "你好"}]
OVERDUE = {
    "error": {
        "code": "AccountOverdueError",
        "message": "The request failed because your account has an overdue balance. Request id: 0217203",
        "param": "",
        "type": "Forbidden",
    }
}


@pytest.fixture
def channel(relay):
    return relay.channel(
        ARK_KEY, type=40, base_url=relay.upstream.url, model_names=f"{ENDPOINT},doubao-embedding"
    )


def test_chat_goes_to_the_fixed_ark_path_with_the_endpoint_id(relay, channel):
    relay.upstream.plan(
        ARK_KEY,
        content="你好！我是豆包。",
        usage={"prompt_tokens": 6, "completion_tokens": 5, "total_tokens": 11},
    )
    answer = relay.client().chat.completions.create(model=ENDPOINT, messages=HELLO)
    assert answer.choices[0].message.content == "你好！我是豆包。"
    sent = relay.upstream.requests_for(ARK_KEY)[0]
    assert sent.path == "/api/v3/chat/completions" and sent.headers["authorization"] == f"Bearer {ARK_KEY}"
    assert sent.body["model"] == ENDPOINT
    relay.refresh()
    log = Log.objects.get()
    assert (log.model_name, log.prompt_tokens, log.completion_tokens) == (ENDPOINT, 6, 5)


def test_streams_ask_ark_for_usage(relay, channel):
    relay.upstream.plan(ARK_KEY, content="一 二 三")
    stream = relay.client().chat.completions.create(model=ENDPOINT, messages=HELLO, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "一 二 三 "
    sent = relay.upstream.requests_for(ARK_KEY)[0]
    assert sent.path == "/api/v3/chat/completions" and sent.body["stream_options"] == {"include_usage": True}
    relay.refresh()
    assert Log.objects.get().completion_tokens == 3  # from Ark's usage chunk, which the client did not see


def test_embeddings_use_the_fixed_ark_path(relay, channel):
    result = relay.client().embeddings.create(model="doubao-embedding", input="你好")
    assert len(result.data) == 1
    assert relay.upstream.requests_for(ARK_KEY)[0].path == "/api/v3/embeddings"


def test_an_overdue_account_disables_the_channel_when_the_option_is_on(relay, channel):
    option_set("AutomaticDisableChannelEnabled", "true")
    relay.upstream.plan(ARK_KEY, status=403, error=OVERDUE)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        relay.client().chat.completions.create(model=ENDPOINT, messages=HELLO)
    assert caught.value.code == "AccountOverdueError"
    channel.refresh_from_db()
    assert channel.status == ChannelStatus.AUTO_DISABLED


def test_the_channel_test_passes(relay, channel):
    result = channel_test(channel, ENDPOINT)
    assert result.success, result.message
