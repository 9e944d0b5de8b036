"""Bad input (issue 3 "Bad input"): OpenAI-shaped error, the right status, nothing charged, nothing logged as
consumed, the upstream never called, never a 500."""

from __future__ import annotations

import gzip
import zlib

import httpx
import pytest

from logs_app.models import Log, LogType

START = (10_000_000, 5_000_000)
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def channel(relay):
    return relay.channel(
        "bad-input",
        model_names="gpt-3.5-turbo,gpt-3.5-turbo-instruct,text-embedding-3-small,text-moderation-stable,"
        "text-davinci-edit-001",
    )


def assert_clean_refusal(relay, response: httpx.Response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["type"], str) and error["type"]
    if code is not None:
        assert error["code"] == code
    assert relay.upstream.requests == []
    assert relay.balances() == START
    assert not Log.objects.filter(type=LogType.CONSUME).exists()
    return error


def post_bytes(relay, raw: bytes, path: str = "/v1/chat/completions", **headers) -> httpx.Response:
    return relay.post(path, content=raw, headers={"Content-Type": "application/json", **headers})


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "gpt-3.5-turbo", "messages": [',
        b"model=gpt-3.5-turbo",
        b"",
        b"   ",
        b"[1, 2, 3]",
        b'"just a string"',
        b"null",
        b'{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
    ],
)
def test_malformed_json_is_400(relay, channel, raw):
    assert_clean_refusal(relay, post_bytes(relay, raw), 400)


@pytest.mark.parametrize(
    "body,param",
    [
        ({"model": 123, "messages": MESSAGES}, "model"),
        ({"model": ["gpt-3.5-turbo"], "messages": MESSAGES}, "model"),
        ({"model": None, "messages": MESSAGES}, "model"),
        ({"messages": MESSAGES}, "model"),
        ({"model": "", "messages": MESSAGES}, "model"),
        ({"model": "gpt-3.5-turbo", "messages": "x"}, "messages"),
        ({"model": "gpt-3.5-turbo", "messages": []}, "messages"),
        ({"model": "gpt-3.5-turbo"}, "messages"),
        ({"model": "gpt-3.5-turbo", "messages": ["hi"]}, "messages"),
        ({"model": "gpt-3.5-turbo", "messages": [{"content": "no role"}]}, "messages"),
        ({"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": 42}]}, "messages"),
        ({"model": "gpt-3.5-turbo", "messages": MESSAGES, "stream": "yes"}, "stream"),
        ({"model": "gpt-3.5-turbo", "messages": MESSAGES, "stream": 1}, "stream"),
        ({"model": "gpt-3.5-turbo", "messages": MESSAGES, "max_tokens": -1}, "max_tokens"),
        ({"model": "gpt-3.5-turbo", "messages": MESSAGES, "max_tokens": "10"}, "max_tokens"),
        ({"model": "gpt-3.5-turbo", "messages": MESSAGES, "max_tokens": 1.5}, "max_tokens"),
        ({"model": "gpt-3.5-turbo", "messages": MESSAGES, "max_tokens": True}, "max_tokens"),
        ({"model": "gpt-3.5-turbo", "messages": MESSAGES, "max_tokens": 1 << 30}, "max_tokens"),
        (
            {"model": "gpt-3.5-turbo", "messages": MESSAGES, "max_completion_tokens": -5},
            "max_completion_tokens",
        ),
    ],
)
def test_wrong_or_missing_chat_fields_are_400(relay, channel, body, param):
    error = assert_clean_refusal(relay, relay.post("/v1/chat/completions", body), 400, "invalid_text_request")
    assert error["param"] == param


@pytest.mark.parametrize(
    "path,body",
    [
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct"}),
        ("/v1/completions", {"model": "gpt-3.5-turbo-instruct", "prompt": 7}),
        ("/v1/embeddings", {"model": "text-embedding-3-small"}),
        ("/v1/embeddings", {"model": "text-embedding-3-small", "input": {"a": 1}}),
        ("/v1/moderations", {"model": "text-moderation-stable"}),
        ("/v1/edits", {"model": "text-davinci-edit-001", "input": "x"}),
        ("/v1/edits", {"model": "text-davinci-edit-001", "instruction": ["x"]}),
    ],
)
def test_missing_required_fields_of_other_modes_are_400(relay, channel, path, body):
    assert_clean_refusal(relay, relay.post(path, body), 400, "invalid_text_request")


def test_a_very_large_max_tokens_just_below_the_limit_is_refused_for_quota_not_a_crash(relay, channel):
    response = relay.chat(max_tokens=(1 << 30) - 1)
    assert_clean_refusal(relay, response, 403, "pre_consume_token_quota_failed")


# --- size limit ----------------------------------------------------------------------------------------


@pytest.fixture
def small_limit(settings):
    settings.RELAY_MAX_BODY_BYTES = 4096
    return 4096


def big_body(size: int) -> bytes:
    return b'{"model":"gpt-3.5-turbo","messages":[{"role":"user","content":"' + b"a" * size + b'"}]}'


def test_a_body_over_the_limit_is_413(relay, channel, small_limit):
    error = assert_clean_refusal(relay, post_bytes(relay, big_body(5000)), 413, "request_too_large")
    assert "4096" in error["message"]


def test_a_chunked_body_over_the_limit_is_413(relay, channel, small_limit):
    raw = big_body(20_000)

    def pieces():
        for i in range(0, len(raw), 1000):
            yield raw[i : i + 1000]

    response = relay.raw.post(
        "/v1/chat/completions",
        content=pieces(),
        headers={"Authorization": f"Bearer {relay.api_key}", "Content-Type": "application/json"},
    )
    assert_clean_refusal(relay, response, 413, "request_too_large")


def test_a_body_just_under_the_limit_is_served(relay, channel, small_limit):
    raw = big_body(3900)
    assert len(raw) <= 4096
    assert post_bytes(relay, raw).status_code == 200


def test_a_gzip_bomb_over_the_limit_is_413(relay, channel, small_limit):
    compressed = gzip.compress(big_body(1_000_000))
    assert len(compressed) < 4096
    response = post_bytes(relay, compressed, **{"Content-Encoding": "gzip"})
    assert_clean_refusal(relay, response, 413, "request_too_large")


def test_the_default_limit_takes_a_base64_image(relay, channel):
    image = "data:image/png;base64," + "A" * (8 * 1024 * 1024)
    body = {
        "model": "gpt-3.5-turbo",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
        "x": image,
    }
    assert relay.post("/v1/chat/completions", body).status_code == 200


# --- compressed bodies ---------------------------------------------------------------------------------


def test_a_gzip_body_is_accepted(relay, channel):
    raw = b'{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "zipped"}]}'
    response = post_bytes(relay, gzip.compress(raw), **{"Content-Encoding": "gzip"})
    assert response.status_code == 200, response.text
    sent = relay.upstream.requests_for("bad-input")[0]
    assert sent.raw == raw
    assert "content-encoding" not in sent.headers


def test_a_deflate_body_is_accepted(relay, channel):
    raw = b'{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "deflated"}]}'
    response = post_bytes(relay, zlib.compress(raw), **{"Content-Encoding": "deflate"})
    assert response.status_code == 200, response.text
    assert relay.upstream.requests_for("bad-input")[0].raw == raw


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_garbage_compressed_bodies_are_400(relay, channel, encoding):
    response = post_bytes(relay, b"this is not compressed at all", **{"Content-Encoding": encoding})
    assert_clean_refusal(relay, response, 400)


def test_a_truncated_gzip_body_is_400(relay, channel):
    compressed = gzip.compress(b'{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]}')
    response = post_bytes(relay, compressed[: len(compressed) // 2], **{"Content-Encoding": "gzip"})
    assert_clean_refusal(relay, response, 400)


# --- models nobody serves ------------------------------------------------------------------------------


def test_an_unknown_model_is_503_with_the_original_message(relay, channel):
    error = assert_clean_refusal(relay, relay.chat("not-a-model"), 503)
    assert error["message"].startswith("当前分组 default 下对于模型 not-a-model 无可用渠道")


def test_a_known_model_no_channel_serves_is_503(relay, channel):
    error = assert_clean_refusal(relay, relay.chat("gpt-4o"), 503)
    assert error["message"].startswith("当前分组 default 下对于模型 gpt-4o 无可用渠道")


# --- upstream garbage ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,content_type",
    [
        (b"this is not json", "application/json"),
        (b"<html><body>502 Bad Gateway</body></html>", "text/html"),
        (b"", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"choices": [', "application/json"),
    ],
)
def test_upstream_garbage_with_200_is_502_and_refunded(relay, channel, raw, content_type):
    relay.upstream.plan("bad-input", raw_body=raw, content_type=content_type)
    response = relay.chat()
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "bad_response"
    assert relay.balances() == START
    assert not Log.objects.filter(type=LogType.CONSUME).exists()


def test_an_upstream_error_that_is_not_openai_shaped_is_wrapped(relay, channel):
    relay.upstream.plan("bad-input", status=500, error={"msg": "internal vendor failure"})
    response = relay.chat()
    assert response.status_code == 500
    error = response.json()["error"]
    assert error["message"].startswith("internal vendor failure")
    assert (error["type"], error["code"], error["param"]) == (
        "upstream_error",
        "bad_response_status_code",
        "500",
    )
    assert relay.balances() == START


def test_an_upstream_html_error_page_is_wrapped(relay, channel):
    relay.upstream.plan("bad-input", status=502, raw_body=b"<html>nginx</html>", content_type="text/html")
    response = relay.chat()
    assert response.status_code == 502
    assert response.json()["error"]["message"].startswith("bad response status code 502")
