"""Cloudflare Workers AI adaptor, pure: account URLs, OpenAI-shaped answers, Cloudflare's error envelope."""

from __future__ import annotations

import json

import pytest

from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.providers import adaptor_class
from relay.providers.base import StreamState
from relay.providers.cloudflare import CloudflareAdaptor
from relay.schemas import RelayRequest
from tests.fakes.cloudflare import fixture
from tests.relay.providers.builders import adaptor_for, relay_request

MODEL = "@cf/meta/llama-3.1-8b-instruct"


def adaptor(**fields) -> CloudflareAdaptor:
    defaults = dict(id=7, name="cf", key="cf-token", config={"user_id": "acct123"})
    return adaptor_for(CloudflareAdaptor, 37, **{**defaults, **fields})


def request(mode: str = "chat", **body) -> RelayRequest:
    path = {"chat": "/v1/chat/completions", "embeddings": "/v1/embeddings"}.get(
        mode, "/v1/images/generations"
    )
    return relay_request(body, model=MODEL, mode=mode, path=path)


def test_the_registry_resolves_the_cloudflare_slug():
    assert adaptor_class(channel_type_info(37).adaptor) is CloudflareAdaptor


def test_chat_and_embeddings_go_to_the_accounts_openai_endpoints():
    chat = adaptor().build_request(request(messages=[{"role": "user", "content": "hi"}]), MODEL)
    assert chat.url == "https://api.cloudflare.com/client/v4/accounts/acct123/ai/v1/chat/completions"
    assert chat.headers["Authorization"] == "Bearer cf-token"
    embed = adaptor().build_request(request("embeddings", input="hi"), "@cf/baai/bge-m3")
    assert embed.url == "https://api.cloudflare.com/client/v4/accounts/acct123/ai/v1/embeddings"
    assert json.loads(embed.content)["model"] == "@cf/baai/bge-m3"


def test_an_ai_gateway_base_url_already_names_the_account():
    base = "https://gateway.ai.cloudflare.com/v1/acct/gw/workers-ai/"
    upstream = adaptor(base_url=base).build_request(
        request(messages=[{"role": "user", "content": "x"}]), MODEL
    )
    assert upstream.url == "https://gateway.ai.cloudflare.com/v1/acct/gw/workers-ai/v1/chat/completions"


def test_a_channel_without_an_account_id_fails_over_with_a_clear_message():
    with pytest.raises(RelayError) as raised:
        adaptor(config={}).build_request(request(messages=[{"role": "user", "content": "x"}]), MODEL)
    assert raised.value.retryable and "account id" in raised.value.message


def test_other_endpoints_are_unsupported():
    with pytest.raises(RelayError) as raised:
        adaptor().build_request(request("images", prompt="cat"), MODEL)
    assert raised.value.status == 400 and raised.value.code == "unsupported_endpoint"


def test_the_channel_system_prompt_applies():
    upstream = adaptor(system_prompt="House rules.").build_request(
        request(messages=[{"role": "user", "content": "x"}]), MODEL
    )
    assert json.loads(upstream.content)["messages"][0] == {"role": "system", "content": "House rules."}
    assert upstream.system_prompt_reset


def test_openai_shaped_answers_and_tool_calls_pass_through_with_usage():
    body, usage = adaptor().parse_response(request(), 200, fixture("chat.json"))
    assert json.loads(body)["choices"][0]["message"]["content"] == "Hello! How can I assist you today?"
    assert (usage.prompt_tokens, usage.completion_tokens) == (23, 10)
    body, usage = adaptor().parse_response(request(), 200, fixture("tool_call.json"))
    call = json.loads(body)["choices"][0]["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather" and usage.prompt_tokens == 210


def test_a_stream_is_parsed_as_openai_with_usage_on_the_last_chunk():
    state = StreamState(model=MODEL, hide_usage=True)
    a = adaptor()
    events = [e.removeprefix("data: ") for e in fixture("chat_stream.sse").decode().split("\n\n") if e]
    sent = [c for data in events for c in a.parse_stream_event(data, state)]
    assert len(sent) == 3 and state.done and state.finished
    assert (state.usage.prompt_tokens, state.usage.completion_tokens) == (12, 2)


def test_an_envelope_error_with_http_200_is_an_error():
    with pytest.raises(RelayError) as raised:
        adaptor().parse_response(request(), 200, fixture("error_model.json"))
    assert raised.value.message == "No such model @cf/meta/llama-9 or task" and raised.value.code == 5007


@pytest.mark.parametrize(
    "status,name,retryable,disable",
    [
        (401, "error_401.json", True, True),
        (404, "error_404_account.json", True, False),
        (400, "error_model.json", False, False),
    ],
)
def test_envelope_errors_carry_their_consequence(status, name, retryable, disable):
    error = adaptor().map_error(status, fixture(name))
    assert (error.status, error.retryable, error.disable_channel) == (status, retryable, disable)
    assert error.message == json.loads(fixture(name))["errors"][0]["message"]


def test_openai_shaped_errors_still_pass_through():
    body = b'{"error": {"message": "Rate limited", "type": "rate_limit", "code": "rate_limited"}}'
    error = adaptor().map_error(429, body)
    assert error.status == 429 and error.retryable and error.passthrough == body
