"""A minimal, fast fake OpenAI upstream for the benchmark: a raw asyncio protocol on uvloop + httptools.

It answers ``POST …/chat/completions``: non-stream with a fixed completion and usage; ``"stream": true`` with
N chunks M ms apart (the body's ``bench_chunks`` / ``bench_delay_ms``, default 20 and 5), the first chunk at
once, then the finish chunk, the usage chunk when ``stream_options.include_usage`` is set, and ``[DONE]``.
No framework, no per-request JSON building: responses are prebuilt bytes, so it is never the bottleneck
(the benchmark measures it directly). Usage: ``python fake_upstream.py --port 9100``.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httptools
import orjson
import uvloop

MODEL = "gpt-4o-mini"
PROMPT_TOKENS = 13
COMPLETION_TOKENS = 9


def _json_response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


COMPLETION = _json_response(
    orjson.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "Hello from the fast fake upstream, friend."},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": PROMPT_TOKENS,
                "completion_tokens": COMPLETION_TOKENS,
                "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            },
        }
    )
)
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
)


def _chunked(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


def _event(obj: dict) -> bytes:
    return _chunked(b"data: " + orjson.dumps(obj) + b"\n\n")


_BASE = {
    "id": "chatcmpl-bench",
    "object": "chat.completion.chunk",
    "created": int(time.time()),
    "model": MODEL,
}
CHUNK = _event({**_BASE, "choices": [{"index": 0, "delta": {"content": "tok "}, "finish_reason": None}]})
FINISH = _event({**_BASE, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
DONE = _chunked(b"data: [DONE]\n\n") + b"0\r\n\r\n"


def _usage_chunk(completion: int) -> bytes:
    usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": completion}
    usage["total_tokens"] = PROMPT_TOKENS + completion
    return _event({**_BASE, "choices": [], "usage": usage})


class FakeProtocol(asyncio.Protocol):
    __slots__ = ("transport", "parser", "url", "body", "loop")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.body: list[bytes] = []
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.url = url

    def on_message_begin(self) -> None:
        self.body = []

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if not self.url.endswith(b"/chat/completions"):
            self.transport.write(NOT_FOUND)
            return
        raw = b"".join(self.body)
        if b'"stream"' not in raw:
            self.transport.write(COMPLETION)
            return
        body = orjson.loads(raw)
        if not body.get("stream"):
            self.transport.write(COMPLETION)
            return
        chunks = int(body.get("bench_chunks", 20))
        delay = float(body.get("bench_delay_ms", 5)) / 1000
        usage = bool((body.get("stream_options") or {}).get("include_usage"))
        self.transport.write(STREAM_HEAD + CHUNK)
        self._next_chunk(1, chunks, delay, usage)

    def _next_chunk(self, sent: int, total: int, delay: float, usage: bool) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if sent < total:
            self.loop.call_later(delay, self._send_chunk, sent, total, delay, usage)
            return
        transport.write(FINISH + (_usage_chunk(total) if usage else b"") + DONE)

    def _send_chunk(self, sent: int, total: int, delay: float, usage: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(CHUNK)
        self._next_chunk(sent + 1, total, delay, usage)

    def connection_lost(self, exc) -> None:
        self.transport = None


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(FakeProtocol, host, port, backlog=4096, reuse_address=True)
    print(f"fake upstream on http://{host}:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    uvloop.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
