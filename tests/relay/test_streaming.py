"""Streaming (spec §3.7, issue point 6): chunks forwarded as they arrive, the original's headers and [DONE],
usage hidden unless asked for, disconnects cancel the upstream, broken streams end cleanly and bill only what
was delivered (PEERS §3 items 1–2, 20)."""

from __future__ import annotations

import asyncio
import math
import time

import httpx
import orjson
import pytest

from logs_app.models import Log
from relay.providers.base import TEXT_COUNT_BLOCK, StreamState

START = (10_000_000, 5_000_000)
PROMPT_TOKENS = 8  # {"role": "user", "content": "hi"}: 3 + "user" 1 + "hi" 1 + 3 priming (spec §3.6)
WORD = " apple"  # one cl100k token however many times it repeats


def chunk(content: str | None = None, finish: str | None = None) -> dict:
    delta = {} if content is None else {"content": content}
    return {
        "id": "c",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def sse(*events: dict | str) -> bytes:
    """An upstream event stream: dicts as JSON data lines, strings verbatim."""
    lines = [e if isinstance(e, str) else orjson.dumps(e).decode() for e in events]
    return "".join(f"data: {line}\n\n" for line in lines).encode()


def stream_body(**fields) -> dict:
    return {
        "model": "gpt-3.5-turbo",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": True,
        **fields,
    }


def sse_events(relay, body: dict, *, stop_after: int | None = None):
    """(events as parsed data strings, response headers, arrival times) of a raw streamed request."""
    events, times = [], []
    with relay.raw.stream(
        "POST", "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {relay.api_key}"}
    ) as response:
        headers = response.headers
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(line[6:])
                times.append(time.perf_counter())
                if stop_after is not None and len(events) >= stop_after:
                    break
    return events, headers, times


def text_of(events: list[str]) -> str:
    text = ""
    for data in events:
        if data == "[DONE]":
            continue
        chunk = orjson.loads(data)
        for choice in chunk.get("choices") or ():
            text += (choice.get("delta") or {}).get("content") or ""
    return text


def quota(prompt: int, completion: int, ratio: float = 0.25, completion_ratio: float = 3) -> int:
    return math.ceil((prompt + completion * completion_ratio) * ratio)


@pytest.fixture
def channel(relay):
    return relay.channel("sse")


# --- forwarding ------------------------------------------------------------------------------------------


def test_chunks_arrive_as_the_upstream_sends_them(relay, channel):
    relay.upstream.plan("sse", chunks=[f" w{i}" for i in range(6)], chunk_delay=0.25)
    relay.chat()  # warm up (the tokenizer loads on first use)
    started = time.perf_counter()
    events, _, times = sse_events(relay, stream_body())
    content_times = [t for t, e in zip(times, events, strict=True) if e != "[DONE]" and text_of([e])]
    assert len(content_times) == 6
    first, last = content_times[0] - started, content_times[-1] - started
    assert first < 0.2  # the first word is not held back …
    assert last - first > 1.1  # … and the rest come as they are produced (5 gaps of 0.25 s)


def test_the_sdk_streams_incrementally_too(relay, channel):
    relay.upstream.plan("sse", chunks=[" a", " b", " c"], chunk_delay=0.3)
    stream = relay.client().chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    arrivals = []
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append((chunk.choices[0].delta.content, time.perf_counter()))
    assert [a[0] for a in arrivals] == [" a", " b", " c"]
    assert arrivals[-1][1] - arrivals[0][1] > 0.5


async def test_the_async_sdk_streams(relay, channel):
    relay.upstream.plan("sse", content="one two three")
    client = relay.async_client()
    stream = await client.chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    text = ""
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
    await client.close()
    assert text == "one two three "


def test_stream_has_the_original_headers_and_ends_with_done(relay, channel):
    events, headers, _ = sse_events(relay, stream_body())
    assert headers["content-type"] == "text/event-stream"
    assert headers["cache-control"] == "no-cache"
    assert headers["x-accel-buffering"] == "no"
    assert headers["access-control-allow-origin"] == "*"
    assert float(headers["x-oneapi-overhead-ms"]) >= 0
    assert headers["x-oneapi-request-id"]
    assert events[-1] == "[DONE]"
    assert events.count("[DONE]") == 1


def test_done_is_added_when_the_upstream_never_sends_it(relay, channel):
    raw = sse(chunk(" hi"), chunk(finish="stop"))
    relay.upstream.plan("sse", raw_body=raw, content_type="text/event-stream")
    events, _, _ = sse_events(relay, stream_body())
    assert text_of(events) == " hi"
    assert events[-1] == "[DONE]"
    assert not any("error" in e for e in events)


def test_comments_and_keep_alives_are_dropped(relay, channel):
    raw = b": keep-alive\n\n" + sse(chunk(" hi", "stop"), "[DONE]")
    relay.upstream.plan("sse", raw_body=raw, content_type="text/event-stream")
    with relay.raw.stream(
        "POST",
        "/v1/chat/completions",
        json=stream_body(),
        headers={"Authorization": f"Bearer {relay.api_key}"},
    ) as response:
        body = response.read()
    assert b"keep-alive" not in body
    assert body.endswith(b"data: [DONE]\n\n")


# --- usage chunk ---------------------------------------------------------------------------------------


def test_usage_the_gateway_asked_for_is_hidden_from_a_client_that_did_not(relay, channel):
    relay.upstream.plan(
        "sse", content="one two", usage={"prompt_tokens": 40, "completion_tokens": 2, "total_tokens": 42}
    )
    events, _, _ = sse_events(relay, stream_body())
    upstream_body = relay.upstream.requests_for("sse")[0].body
    assert upstream_body["stream_options"] == {"include_usage": True}
    chunks = [orjson.loads(e) for e in events if e != "[DONE]"]
    assert all(c["choices"] for c in chunks)  # no choices-less usage chunk
    assert not any(c.get("usage") for c in chunks)
    relay.refresh()
    assert Log.objects.get().quota == quota(40, 2)  # but the gateway billed it


def test_usage_is_shown_to_a_client_that_asked(relay, channel):
    relay.upstream.plan(
        "sse", content="one two", usage={"prompt_tokens": 40, "completion_tokens": 2, "total_tokens": 42}
    )
    stream = relay.client().chat.completions.create(
        model="gpt-3.5-turbo",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[-1].choices == []
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (40, 2)


def test_stream_billed_from_upstream_usage(relay, channel):
    relay.upstream.plan(
        "sse", content="a b c", usage={"prompt_tokens": 100, "completion_tokens": 40, "total_tokens": 140}
    )
    sse_events(relay, stream_body())
    assert relay.balances() == (START[0] - 55, START[1] - 55)  # ceil((100 + 40 × 3) × 0.25)
    log = Log.objects.get()
    assert (log.is_stream, log.prompt_tokens, log.completion_tokens, log.quota) == (True, 100, 40, 55)


def test_stream_without_upstream_usage_is_counted_with_the_tokenizer(relay, channel):
    relay.upstream.plan("sse", chunks=[WORD] * 12, omit_usage=True)
    events, _, _ = sse_events(relay, stream_body())
    assert text_of(events) == WORD * 12
    relay.refresh()
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens) == (PROMPT_TOKENS, 12)
    assert log.quota == quota(PROMPT_TOKENS, 12)


def test_stream_with_all_zero_usage_is_counted_with_the_tokenizer(relay, channel):
    relay.upstream.plan(
        "sse", chunks=[WORD] * 5, usage={"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    )
    sse_events(relay, stream_body())
    relay.refresh()
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens, log.quota) == (
        PROMPT_TOKENS,
        5,
        quota(PROMPT_TOKENS, 5),
    )


# --- client disconnects --------------------------------------------------------------------------------


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_a_client_disconnect_cancels_the_upstream_request(relay, channel):
    relay.upstream.plan("sse", chunks=[WORD] * 100, chunk_delay=0.05, omit_usage=True)
    events, _, _ = sse_events(relay, stream_body(), stop_after=3)
    assert len(events) == 3
    upstream = relay.upstream.requests_for("sse")[0]
    assert wait_for(lambda: upstream.disconnected), "the gateway kept reading the upstream"
    assert not upstream.completed and upstream.chunks_sent < 30


def test_a_client_disconnect_bills_only_what_was_delivered(relay, channel):
    relay.upstream.plan("sse", chunks=[WORD] * 100, chunk_delay=0.05, omit_usage=True)
    sse_events(relay, stream_body(), stop_after=4)
    upstream = relay.upstream.requests_for("sse")[0]
    assert wait_for(lambda: upstream.disconnected)
    relay.refresh()
    log = Log.objects.get()
    # The gateway forwarded a few words more than the client read before hanging up, never the whole answer.
    assert 4 <= log.completion_tokens <= upstream.chunks_sent < 30
    assert log.prompt_tokens == PROMPT_TOKENS
    assert log.quota == quota(PROMPT_TOKENS, log.completion_tokens)
    assert relay.user.quota == START[0] - log.quota
    assert relay.token.remain_quota == START[1] - log.quota
    assert relay.user.request_count == 1


def test_a_client_that_leaves_before_the_first_byte_pays_nothing(relay, channel):
    relay.upstream.plan("sse", first_byte_delay=1.0, chunks=[WORD] * 3)
    with httpx.Client(base_url=relay.url) as client:
        with pytest.raises(httpx.ReadTimeout):
            with client.stream(
                "POST",
                "/v1/chat/completions",
                json=stream_body(),
                headers={"Authorization": f"Bearer {relay.api_key}"},
                timeout=0.3,
            ) as response:
                response.read()
    upstream = relay.upstream.requests_for("sse")[0]
    assert wait_for(lambda: upstream.disconnected)  # the gateway stopped waiting for the upstream too
    time.sleep(1.0)
    assert relay.balances() == START
    assert upstream.chunks_sent == 0


def test_the_async_sdk_closing_a_stream_early_bills_the_part_read(relay, channel):
    relay.upstream.plan("sse", chunks=[WORD] * 100, chunk_delay=0.05, omit_usage=True)

    async def read_two():
        client = relay.async_client()
        stream = await client.chat.completions.create(
            model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        seen = 0
        async for chunk in stream:
            seen += bool(chunk.choices and chunk.choices[0].delta.content)
            if seen == 2:
                break
        await stream.close()
        await client.close()

    asyncio.run(read_two())
    upstream = relay.upstream.requests_for("sse")[0]
    assert wait_for(lambda: upstream.disconnected)
    relay.refresh()
    log = Log.objects.get()
    assert 2 <= log.completion_tokens < 30


# --- broken upstream streams --------------------------------------------------------------------------


def test_upstream_dropping_mid_stream_ends_with_an_error_event_then_done(relay, channel):
    relay.upstream.plan("sse", chunks=[WORD] * 10, drop_after=3, omit_usage=True)
    events, _, _ = sse_events(relay, stream_body())
    assert text_of(events[:-2]) == WORD * 3
    error = orjson.loads(events[-2])["error"]
    assert error["code"] == "bad_response" and error["type"] == "upstream_error"
    assert events[-1] == "[DONE]"


def test_upstream_dropping_mid_stream_bills_only_the_delivered_part(relay, channel):
    relay.upstream.plan("sse", chunks=[WORD] * 10, drop_after=3, omit_usage=True)
    sse_events(relay, stream_body())
    expected = quota(PROMPT_TOKENS, 3)  # ceil((8 + 3 × 3) × 0.25) = 5
    assert relay.balances() == (START[0] - expected, START[1] - expected)
    log = Log.objects.get()
    assert (log.prompt_tokens, log.completion_tokens, log.quota) == (PROMPT_TOKENS, 3, expected)


def test_a_stream_that_breaks_before_any_content_is_free(relay, channel):
    relay.upstream.plan("sse", chunks=[WORD] * 10, drop_after=0, omit_usage=True)
    events, _, _ = sse_events(relay, stream_body())
    assert "error" in orjson.loads(events[0]) and events[-1] == "[DONE]"
    assert relay.balances() == START
    assert not Log.objects.filter(type=2).exists()


def test_a_stream_that_ends_without_finishing_is_an_error_and_bills_the_part(relay, channel):
    raw = sse(chunk(WORD))
    relay.upstream.plan("sse", raw_body=raw, content_type="text/event-stream")
    events, _, _ = sse_events(relay, stream_body())
    assert text_of(events) == WORD
    assert "error" in orjson.loads(events[-2]) and events[-1] == "[DONE]"
    relay.refresh()
    assert Log.objects.get().quota == quota(PROMPT_TOKENS, 1)


def test_a_malformed_event_ends_the_stream_with_an_error_event(relay, channel):
    raw = sse(chunk(WORD), "{this is not json", chunk(" pear", "stop"), "[DONE]")
    relay.upstream.plan("sse", raw_body=raw, content_type="text/event-stream")
    events, _, _ = sse_events(relay, stream_body())
    assert text_of(events) == WORD  # nothing after the broken event
    error = orjson.loads(events[-2])["error"]
    assert error["message"].startswith("upstream sent a malformed stream event")
    assert events[-1] == "[DONE]"
    relay.refresh()
    assert Log.objects.get().quota == quota(PROMPT_TOKENS, 1)


def test_an_error_event_from_the_upstream_is_forwarded_and_ends_the_stream(relay, channel):
    failure = {"message": "The server had an error while processing your request.", "type": "server_error"}
    raw = sse(chunk(WORD), {"error": {**failure, "param": None, "code": None}})
    relay.upstream.plan("sse", raw_body=raw, content_type="text/event-stream")
    events, _, _ = sse_events(relay, stream_body())
    assert (
        orjson.loads(events[-2])["error"]["message"]
        == "The server had an error while processing your request."
    )
    assert events[-1] == "[DONE]"
    relay.refresh()
    # only the delivered word is billed; the error text is never counted as completion (new-api #5288)
    log = Log.objects.get()
    assert (log.completion_tokens, log.quota) == (1, quota(PROMPT_TOKENS, 1))


def test_a_stalled_upstream_stream_times_out_and_bills_the_part(
    relay, channel, settings, fresh_upstream_client
):
    settings.RELAY_TIMEOUT = 1
    relay.upstream.plan("sse", chunks=[WORD, WORD, WORD], chunk_delay=2.5, omit_usage=True)
    events, _, _ = sse_events(relay, stream_body())
    assert text_of(events) == WORD
    assert orjson.loads(events[-2])["error"]["type"] == "upstream_error"
    assert events[-1] == "[DONE]"
    relay.refresh()
    assert Log.objects.get().quota == quota(PROMPT_TOKENS, 1)


def test_a_gateway_bug_mid_stream_bills_only_the_delivered_part(relay, channel, monkeypatch):
    from relay.providers.openai import OpenAIAdaptor

    parse = OpenAIAdaptor.parse_stream_event
    seen = []

    def breaks_on_the_third(self, data, state):
        seen.append(data)
        if len(seen) == 3:
            raise RuntimeError("a bug in the gateway")
        return parse(self, data, state)

    monkeypatch.setattr(OpenAIAdaptor, "parse_stream_event", breaks_on_the_third)
    relay.upstream.plan("sse", chunks=[WORD] * 6, omit_usage=True)
    events, _, _ = sse_events(relay, stream_body())
    assert text_of(events[:-2]) == WORD * 2
    assert orjson.loads(events[-2])["error"]["type"] == "one_api_panic"
    assert events[-1] == "[DONE]"
    relay.refresh()
    log = Log.objects.get()
    assert (log.completion_tokens, log.quota) == (2, quota(PROMPT_TOKENS, 2))
    assert relay.user.quota == START[0] - log.quota


def test_an_error_answer_to_a_stream_request_is_json_and_refunded(relay, channel):
    relay.upstream.plan("sse", status=500)
    response = relay.post("/v1/chat/completions", stream_body())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["message"] == "fake error 500"
    assert relay.balances() == START


def test_a_json_answer_with_200_to_a_stream_request_is_an_error(relay, channel):
    relay.upstream.plan(
        "sse",
        raw_body=orjson.dumps(
            {"error": {"message": "stream not supported", "type": "invalid_request_error"}}
        ),
    )
    response = relay.post("/v1/chat/completions", stream_body())
    assert response.status_code >= 400
    assert "stream not supported" in response.json()["error"]["message"]
    assert relay.balances() == START


# --- memory ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_stream_text_kept_for_counting_stays_bounded():
    state = StreamState(model="gpt-3.5-turbo")
    for _ in range(20_000):
        state.add_text(WORD)
        assert state.text_chars < TEXT_COUNT_BLOCK
    assert state.completion_tokens_counted() == pytest.approx(20_000, rel=0.001)
