"""Shared plumbing for the fake native-provider upstreams (zhipu, ali, baidu, tencent, aiproxy_library, proxy).

A fake subclasses ``RecordingFake`` and implements ``answer(request) -> Reply``; every request is recorded
and ``fail_next``/``fail_always`` make it answer an error body instead, for failover and disable tests.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import read_body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def fixture(provider: str, name: str) -> bytes:
    return (FIXTURES / provider / name).read_bytes()


@dataclass
class Received:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> dict:
        return json.loads(self.raw) if self.raw else {}


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    chunks: list[bytes] | None = None  # streamed pieces (body is ignored)
    chunk_delay: float = 0.0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def sse_pieces(raw: bytes) -> list[bytes]:
    """A recorded .sse fixture split into its events, so the fake streams them one by one."""
    return [event + b"\n\n" for event in raw.split(b"\n\n") if event.strip()]


class RecordingFake:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.failures: list[tuple[str, Reply]] = []  # (path prefix, reply)
        self.always: Reply | None = None
        self.problems: list[str] = []  # failed checks of what the gateway sent

    def reset(self) -> None:
        self.problems.clear()
        self.requests.clear()
        self.failures.clear()
        self.always = None

    def fail_next(
        self, status: int, body: bytes, content_type: str = "application/json", path: str = ""
    ) -> None:
        """Answer the next request (whose path starts with ``path``) with this instead."""
        self.failures.append((path, Reply(status, body, content_type)))

    def fail_always(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.always = Reply(status, body, content_type)

    def answer(self, request: Received) -> Reply:  # pragma: no cover - overridden
        raise NotImplementedError

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request = Received(
            scope["method"], scope["path"], scope.get("query_string", b"").decode(), headers, raw
        )
        self.requests.append(request)
        failure = next((f for f in self.failures if request.path.startswith(f[0])), None)
        if failure is not None:
            self.failures.remove(failure)
            reply = failure[1]
        elif self.always is not None:
            reply = self.always
        else:
            try:
                reply = self.answer(request)
            except AssertionError as exc:  # a check failed: answer 418 and keep the reason for the test
                self.problems.append(str(exc) or "check failed")
                reply = Reply(418, json.dumps({"message": f"fake upstream check failed: {exc}"}).encode())
        await send_reply(send, reply)


async def send_reply(send, reply: Reply) -> None:
    headers = [(b"content-type", reply.content_type.encode()), *reply.headers]
    await send({"type": "http.response.start", "status": reply.status, "headers": headers})
    if reply.chunks is None:
        await send({"type": "http.response.body", "body": reply.body})
        return
    for piece in reply.chunks:
        await send({"type": "http.response.body", "body": piece, "more_body": True})
        if reply.chunk_delay:
            await asyncio.sleep(reply.chunk_delay)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
