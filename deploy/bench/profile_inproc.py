"""Profile the relay's hot path in-process: call the ASGI app directly (no HTTP server), N requests at a time.

Needs a database and a fake upstream prepared as run.py does (``run.py --keep`` leaves both behind) and the
same environment (DATA_DIR/SQLITE_PATH or SQL_DSN). Prints CPU per request (whole process and event-loop
thread) and, with ``--cprofile``, the top functions by cumulative and own time::

    .venv/bin/python deploy/bench/profile_inproc.py --key sk-... --requests 3000 --concurrency 32 --cprofile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def scope(path: str, key: str, body: bytes) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {key}".encode()),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 3000),
    }


async def one(app, key: str, body: bytes) -> int:
    sent = False
    status = 0
    ended = asyncio.Event()

    async def receive():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await ended.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif not message.get("more_body"):
            ended.set()

    await app(scope("/v1/chat/completions", key, body), receive, send)
    return status


async def drive(app, key: str, body: bytes, total: int, concurrency: int) -> list[int]:
    statuses: list[int] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            statuses.append(await one(app, key, body))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--key", required=True)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--stream", action="store_true", help="streams (--chunks, 5 ms apart) instead of non-stream chat"
    )
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()

    import orjson

    from config.asgi import application

    payload = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Say hello to the benchmark, please."}],
        "max_tokens": 16,
    }
    if args.stream:
        payload.update(stream=True, bench_chunks=args.chunks, bench_delay_ms=5)
    body = orjson.dumps(payload)
    runner = asyncio.Runner(loop_factory=__import__("uvloop").new_event_loop if args.uvloop else None)
    with runner:
        runner.run(drive(application, args.key, body, 200, min(args.concurrency, 32)))  # warm caches and pool
        # thread_time: the event loop thread's own CPU, so waits for the GIL or the kernel do not count
        profiler = cProfile.Profile(time.thread_time) if args.cprofile else None
        cpu0, thread0, wall0 = time.process_time(), time.thread_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        statuses = runner.run(drive(application, args.key, body, args.requests, args.concurrency))
        if profiler:
            profiler.disable()
        cpu, thread, wall = (
            time.process_time() - cpu0,
            time.thread_time() - thread0,
            time.perf_counter() - wall0,
        )
    bad = len([s for s in statuses if s != 200])
    n = len(statuses)
    print(
        f"{n} requests ({bad} not 200) in {wall:.2f} s = {n / wall:.0f}/s; CPU per request: process "
        f"{cpu / n * 1000:.3f} ms, event-loop thread {thread / n * 1000:.3f} ms"
        + (" (cProfile on: inflated)" if profiler else "")
    )
    if profiler:
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
