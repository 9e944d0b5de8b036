"""A lean streaming load generator: C keep-alive connections, each POSTing streaming chat requests back to back.

(``--plain --total N`` sends exactly N non-streaming requests instead: run.py uses it to read RSS after an
exact number of requests.)

Raw asyncio protocol on uvloop with httptools' C response parser (it undoes the chunked framing), so the
client costs little CPU beside the server it measures. Per stream it records the time to the first body byte
(the first SSE event) and to the end of the answer, and checks the answer ended with ``data: [DONE]``.
Prints one JSON object. Usage::

    python stream_client.py --url http://127.0.0.1:3000/v1/chat/completions --key sk-... \
        --concurrency 32 --duration 5 --chunks 20 --delay-ms 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit

import httptools
import orjson
import uvloop


class StreamConnection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future | None = None
        self.parser = None
        self.first = 0.0
        self.events = 0
        self.tail = b""

    def connection_made(self, transport) -> None:
        self.transport = transport

    def request(self, raw: bytes) -> asyncio.Future:
        self.waiter = asyncio.get_running_loop().create_future()
        self.parser = httptools.HttpResponseParser(self)
        self.first = 0.0
        self.events = 0
        self.tail = b""
        self.transport.write(raw)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(exc)

    def on_body(self, body: bytes) -> None:
        if not self.first:
            self.first = time.perf_counter()
        self.events += body.count(b"data: ")
        self.tail = (self.tail + body)[-32:]

    def on_message_complete(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(self.parser.get_status_code())

    def connection_lost(self, exc) -> None:
        self._fail(exc or ConnectionError("connection closed"))

    def _fail(self, exc: BaseException) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


async def run(args: argparse.Namespace) -> dict:
    url = urlsplit(args.url)
    payload = {
        "model": args.model,
        "messages": [{"role": "user", "content": "Say hello to the benchmark, please."}],
    }
    if args.plain:
        payload["max_tokens"] = 16
    else:
        payload.update(stream=True, bench_chunks=args.chunks, bench_delay_ms=args.delay_ms)
    body = orjson.dumps(payload)
    head = (
        f"POST {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {args.key}\r\nAccept: text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    raw = head.encode() + body
    loop = asyncio.get_running_loop()
    connections = [
        (await loop.create_connection(StreamConnection, url.hostname, url.port))[1]
        for _ in range(args.concurrency)
    ]
    ttfb: list[float] = []
    total: list[float] = []
    events: list[int] = []
    errors: dict[str, int] = {}
    started = time.perf_counter()
    deadline = started + args.duration
    finished_at = started

    left = args.total or -1

    async def worker(conn: StreamConnection) -> None:
        nonlocal finished_at, left
        while time.perf_counter() < deadline and left != 0:
            left -= 1
            t0 = time.perf_counter()
            try:
                status = await asyncio.wait_for(conn.request(raw), timeout=60)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
            t1 = time.perf_counter()
            if status != 200 or not (args.plain or b"[DONE]" in conn.tail):
                errors[f"status {status}" if status != 200 else "no [DONE]"] = (
                    errors.get(f"status {status}" if status != 200 else "no [DONE]", 0) + 1
                )
                continue
            ttfb.append((conn.first - t0) * 1000)
            total.append((t1 - t0) * 1000)
            events.append(conn.events)
            finished_at = max(finished_at, t1)

    await asyncio.gather(*(worker(c) for c in connections))
    for conn in connections:
        if conn.transport is not None:
            conn.transport.close()
    elapsed = max(finished_at - started, 1e-9)
    return {
        "streams": len(total),
        "errors": errors,
        "elapsed_s": elapsed,
        "rate": len(total) / elapsed,
        "ttfb_p50_ms": percentile(ttfb, 50),
        "ttfb_p99_ms": percentile(ttfb, 99),
        "total_p50_ms": percentile(total, 50),
        "total_p99_ms": percentile(total, 99),
        "events_per_stream": (sum(events) / len(events)) if events else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", default="sk-bench")
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=5.0)
    parser.add_argument("--plain", action="store_true", help="non-streaming chat instead of streams")
    parser.add_argument("--total", type=int, default=0, help="stop after exactly this many requests")
    args = parser.parse_args()
    result = uvloop.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
