"""relay.providers.openai.sse_data: the same events as httpx-sse, however the bytes are split; reuse after [DONE]."""

from __future__ import annotations

import random

import httpx
import pytest
from httpx_sse import EventSource, SSEError

from relay.providers.openai import sse_batches, sse_data

STREAMS = [
    b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: [DONE]\n\n',
    b'data: {"a":1}\r\n\r\ndata:{"b":2}\r\rdata:  two spaces\r\n\r\n',
    b": keep-alive comment\n\nevent: ping\ndata: x\nid: 7\n\n\n\nretry: 10\n\ndata: after id\n\n",
    b"data: line one\ndata: line two\n\ndata:\n\ndata\n\ndata\ndata\n\ndatabase: not data\n\n",
    "data: caf\u00e9 \u4f60\u597d \U0001f600\n\ndata: [DONE]\n\ndata: ignored after done\n\n".encode(),
    b'data: {"unterminated": true}',
    b"data: a\r\n\r\ndata: b\n\r\ndata: c\r\r\n",
]


class Chunks(httpx.AsyncByteStream):
    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def __aiter__(self):
        for chunk in self.chunks:
            yield chunk


def response(chunks: list[bytes], content_type: str = "text/event-stream") -> httpx.Response:
    return httpx.Response(200, headers={"content-type": content_type}, stream=Chunks(chunks))


def splits(raw: bytes, rng: random.Random) -> list[bytes]:
    cuts = (
        sorted(rng.sample(range(1, len(raw)), min(len(raw) - 1, rng.randint(0, 8)))) if len(raw) > 1 else []
    )
    edges = [0, *cuts, len(raw)]
    return [raw[a:b] for a, b in zip(edges, edges[1:], strict=False)]


async def reference(chunks: list[bytes]) -> list[str]:
    out = []
    async for event in EventSource(response(chunks)).aiter_sse():
        if event.data:
            out.append(event.data)
            if event.data == "[DONE]":
                break
    return out


@pytest.mark.parametrize("raw", STREAMS)
async def test_same_events_as_httpx_sse_however_the_bytes_are_split(raw):
    rng = random.Random(raw)
    for chunks in [[raw], [bytes([b]) for b in raw], *(splits(raw, rng) for _ in range(30))]:
        assert [d async for d in sse_data(response(chunks))] == await reference(chunks), chunks


async def test_a_non_sse_content_type_is_the_same_transport_error():
    with pytest.raises(SSEError):
        [d async for d in sse_data(response([b"data: x\n\n"], "text/plain"))]


def test_streams_reuse_the_upstream_connection(relay, fresh_upstream_client):
    relay.channel("reuse")
    client = relay.client()
    for _ in range(3):
        stream = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        assert list(stream)
    peers = [r.peer for r in relay.upstream.requests_for("reuse")]
    assert len(peers) == 3 and len(set(peers)) == 1, peers  # three streams, one upstream connection


async def test_events_that_arrive_together_form_one_batch():
    chunks = [b'data: {"a":1}\n\ndata: {"b":2}\n\ndata: {"c', b'":3}\n\n', b"data: [DONE]\n\n"]
    batches = [batch async for batch in sse_batches(response(chunks))]
    assert batches == [['{"a":1}', '{"b":2}'], ['{"c":3}'], ["[DONE]"]]
