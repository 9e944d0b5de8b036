"""Upstream requests (spec §3.4, issue point 5): bodies pass through byte-for-byte unless the gateway must change
them, and even then no field the gateway does not know is dropped; only safe headers are forwarded."""

from __future__ import annotations

import json

import orjson

RAW = (
    b'{ "model" : "gpt-3.5-turbo",\n  "messages": [{"role": "user", "content": "caf\\u00e9 \xe2\x98\x95"}],\n'
    b'  "logit_bias": {"50256": -100}, "x_unknown_vendor_flag": true,\n'
    b'  "response_format": {"type": "json_schema", "json_schema": {"name": "t", "schema": {"type": "object"}}},\n'
    b'  "temperature": 0.700, "metadata": {"trace": "abc"}, "reasoning_effort": "low"}'
)


def post_raw(relay, raw: bytes = RAW, **headers):
    return relay.post(
        "/v1/chat/completions", content=raw, headers={"Content-Type": "application/json", **headers}
    )


def test_an_unchanged_body_reaches_the_upstream_byte_for_byte(relay):
    relay.channel("pass")
    assert post_raw(relay).status_code == 200
    assert relay.upstream.requests_for("pass")[0].raw == RAW


def test_a_mapped_body_keeps_every_unknown_field(relay):
    relay.channel("map", model_mapping=json.dumps({"gpt-3.5-turbo": "gpt-4o-mini"}))
    post_raw(relay)
    sent = relay.upstream.requests_for("map")[0].body
    assert sent == {**orjson.loads(RAW), "model": "gpt-4o-mini"}


def test_a_system_prompt_body_keeps_every_unknown_field(relay):
    relay.channel("sys", system_prompt="Be brief.")
    post_raw(relay)
    sent = relay.upstream.requests_for("sys")[0].body
    expected = orjson.loads(RAW)
    expected["messages"] = [{"role": "system", "content": "Be brief."}, *expected["messages"]]
    assert sent == expected


def test_a_stream_body_only_gains_stream_options(relay):
    relay.channel("stream")
    raw = RAW[:-1] + b', "stream": true, "stream_options": {"x_other": 1}}'
    with relay.raw.stream(
        "POST",
        "/v1/chat/completions",
        content=raw,
        headers={"Authorization": f"Bearer {relay.api_key}", "Content-Type": "application/json"},
    ) as response:
        assert response.status_code == 200
        response.read()
    sent = relay.upstream.requests_for("stream")[0].body
    assert sent == {**orjson.loads(raw), "stream_options": {"x_other": 1, "include_usage": True}}


def test_a_stream_that_already_asks_for_usage_passes_through_untouched(relay):
    relay.channel("stream")
    raw = RAW[:-1] + b', "stream": true, "stream_options": {"include_usage": true}}'
    with relay.raw.stream(
        "POST",
        "/v1/chat/completions",
        content=raw,
        headers={"Authorization": f"Bearer {relay.api_key}", "Content-Type": "application/json"},
    ) as response:
        response.read()
    assert relay.upstream.requests_for("stream")[0].raw == raw


def test_embeddings_pass_through_byte_for_byte(relay):
    relay.channel("emb")
    raw = b'{"model":"text-embedding-3-small","input":["a","b"],"dimensions":256,"encoding_format":"float"}'
    relay.post("/v1/embeddings", content=raw, headers={"Content-Type": "application/json"})
    assert relay.upstream.requests_for("emb")[0].raw == raw


def test_the_clients_key_and_private_headers_never_reach_the_upstream(relay):
    relay.channel("private")
    post_raw(
        relay, Cookie="session=secret", **{"X-Internal-Secret": "s3cr3t", "OpenAI-Organization": "org-1"}
    )
    headers = relay.upstream.requests_for("private")[0].headers
    assert headers["authorization"] == "Bearer private"
    assert relay.token.key not in json.dumps(headers)
    assert "cookie" not in headers and "x-internal-secret" not in headers
    assert headers["content-type"] == "application/json"


def test_the_upstream_url_is_the_channel_base_plus_the_original_path(relay):
    relay.channel("prefixed", base_url=relay.upstream.url + "/proxy/openai")
    post_raw(relay)
    assert relay.upstream.requests_for("prefixed")[0].path == "/proxy/openai/v1/chat/completions"


def test_the_upstream_answer_reaches_the_client_unchanged(relay):
    relay.channel("answer")
    body = {
        "id": "chatcmpl-xyz",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-3.5-turbo-0125",
        "system_fingerprint": "fp_1",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "hi", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        "x_vendor": {"cost": 0.1},
    }
    raw = json.dumps(body, indent=1).encode()
    relay.upstream.plan("answer", raw_body=raw)
    response = relay.chat()
    assert response.content == raw
    assert response.headers["content-type"] == "application/json"


def test_relay_proxy_carries_upstream_calls(relay, settings, fresh_upstream_client):
    # The channel's host does not resolve; only the proxy (the fake, which sees the absolute URL) is reachable.
    settings.RELAY_PROXY = relay.upstream.url
    relay.channel("proxied", base_url="http://upstream.invalid")
    response = post_raw(relay)
    assert response.status_code == 200, response.text
    sent = relay.upstream.requests_for("proxied")
    assert len(sent) == 1 and sent[0].raw == RAW
    assert sent[0].headers["host"] == "upstream.invalid"


def test_upstream_rate_limit_headers_reach_the_client_but_not_its_cookies(relay):
    relay.channel("hdr")
    relay.upstream.plan(
        "hdr",
        headers={
            "x-ratelimit-remaining-requests": "42",
            "set-cookie": "session=upstream-secret",
            "openai-processing-ms": "7",
        },
    )
    with relay.http() as http:
        response = http.post(
            "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200
    assert response.headers["x-ratelimit-remaining-requests"] == "42"
    assert response.headers["openai-processing-ms"] == "7"
    assert "set-cookie" not in response.headers
    assert response.headers["content-type"] == "application/json"
    assert len(response.headers.get_list("x-oneapi-request-id")) == 1
