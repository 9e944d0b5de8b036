"""The relay's own small ASGI layer: read the request, run the view, send the answer, watch for disconnects.

Why not Django's request handler for /v1: in async mode every MiddlewareMixin hop (sessions, CSRF, auth,
messages, locale…) runs in a thread through sync_to_async, which costs more than the whole relay. /v1 needs
none of it (key auth, no cookies, no templates), so it gets this lean path; everything else stays Django.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings

from billing.services import quota_settlements_wait
from config.middleware import REQUEST_ID_HEADER, new_request_id
from config.net import forwarded_client_ip
from relay.errors import RelayError
from relay.services import RelayResult

logger = logging.getLogger(__name__)

CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-credentials", b"true"),
]
PREFLIGHT_HEADERS = [
    *CORS_HEADERS,
    (b"access-control-allow-methods", b"GET, POST, PUT, PATCH, DELETE, OPTIONS"),
    (b"access-control-allow-headers", b"*"),
    (b"access-control-max-age", b"86400"),
]


@dataclass(slots=True)
class HttpIn:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    client_ip: str
    request_id: str
    started: float

    @property
    def authorization(self) -> str:
        return self.headers.get("authorization", "")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


View = Callable[[HttpIn], Awaitable[RelayResult]]
T = TypeVar("T")


class InFlight:
    """Counts relay requests still running (answer or settlement), so shutdown and tests can wait for them;
    idle also means their settlements are written (billing.settlements)."""

    count = 0

    @classmethod
    async def wait_idle(cls, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while cls.count and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        left = max(deadline - time.monotonic(), 0.0)
        return cls.count == 0 and await asyncio.to_thread(quota_settlements_wait, left)

    @classmethod
    def wait_idle_blocking(cls, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while cls.count and time.monotonic() < deadline:
            time.sleep(0.005)
        return cls.count == 0 and quota_settlements_wait(max(deadline - time.monotonic(), 0.0))


def client_ip(scope: dict, headers: dict[str, str]) -> str:
    peer = (scope.get("client") or ("", 0))[0] or ""
    return forwarded_client_ip(peer, headers.get("x-forwarded-for") or headers.get("x-real-ip"))


async def read_body(receive, headers: dict[str, str]) -> bytes:
    limit = settings.RELAY_MAX_BODY_BYTES
    declared = headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise asyncio.CancelledError
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    return _decompress(body, headers.get("content-encoding", ""), limit)


def _too_large(limit: int) -> RelayError:
    return RelayError(413, f"request body is larger than {limit} bytes", code="request_too_large")


def _decompress(body: bytes, encoding: str, limit: int) -> bytes:
    if encoding not in ("gzip", "deflate"):
        return body
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
        data = decompressor.decompress(body, limit + 1)
    except (zlib.error, gzip.BadGzipFile):
        raise RelayError(400, f"request body is not valid {encoding}", code="invalid_json") from None
    if len(data) > limit:
        raise _too_large(limit)
    return data


async def read_request(scope: dict, receive) -> HttpIn:
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
    request = HttpIn(
        method=scope["method"],
        path=scope["path"],
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"",
        client_ip=client_ip(scope, headers),
        request_id=new_request_id(),
        started=time.perf_counter(),
    )
    return request


def _start(status: int, headers: list[tuple[bytes, bytes]], request: HttpIn, overhead_ms: float) -> dict:
    return {
        "type": "http.response.start",
        "status": status,
        "headers": [
            *headers,
            *CORS_HEADERS,
            (REQUEST_ID_HEADER.lower().encode(), request.request_id.encode()),
            (b"x-oneapi-overhead-ms", f"{overhead_ms:.3f}".encode()),
        ],
    }


async def send_result(send, receive, request: HttpIn, result: RelayResult, overhead_ms: float) -> None:
    if result.stream is None:
        try:
            await send(_start(result.status, result.headers, request, overhead_ms))
            await send({"type": "http.response.body", "body": result.body})
        finally:
            if result.after_send is not None:
                await asyncio.shield(result.after_send())
        return
    await send(_start(result.status, result.headers, request, overhead_ms))
    await _pump_stream(send, receive, result)


async def _pump_stream(send, receive, result: RelayResult) -> None:
    """Send stream chunks as they come; a client disconnect cancels the upstream read at once."""
    stream = result.stream

    async def pump() -> None:
        async for chunk in stream:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    try:
        await unless_hung_up(receive, pump())
    finally:
        await stream.aclose()


async def unless_hung_up(receive, awaitable: Awaitable[T]) -> tuple[T | None, bool]:
    """Await ``awaitable`` in this task while a watcher listens for the client hanging up. If it hangs up
    first, ``awaitable`` is cancelled where it waits (its cleanup runs, e.g. a refund) and this returns
    ``(None, True)``; else ``(its result, False)``. One watcher task, not a task for each side."""
    task = asyncio.current_task()
    running = True
    hung_up = False

    async def watch() -> None:
        nonlocal hung_up
        while (await receive())["type"] != "http.disconnect":
            pass
        if running:  # only while ``awaitable`` waits: this task is suspended in it
            hung_up = True
            task.cancel()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        return await awaitable, False
    except asyncio.CancelledError:
        if not hung_up:
            raise  # cancelled from outside (server shutdown): not ours to swallow
        task.uncancel()
        return None, True
    finally:
        running = False
        watcher.cancel()


async def send_error(send, request: HttpIn, error: RelayError) -> None:
    overhead = (time.perf_counter() - request.started) * 1000
    await send(_start(error.status, [(b"content-type", b"application/json")], request, overhead))
    await send({"type": "http.response.body", "body": error.body(request.request_id)})


async def send_preflight(send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": PREFLIGHT_HEADERS})
    await send({"type": "http.response.body", "body": b""})
