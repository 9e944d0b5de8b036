"""Run an ASGI app on a loopback port in a background thread (uvicorn), for real-HTTP tests.

Also the plumbing the fake upstreams share: ``read_body``, ``receive_request`` (a ``Received`` record of the
request), ``RecordingUpstream`` (keeps those records) and ``send_answer`` (a one-piece response).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerThread:
    def __init__(self, app, *, lifespan: str = "off") -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan=lifespan, access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


async def read_body(receive) -> bytes:
    """The whole request body of an ASGI http request (every fake upstream starts with this)."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


@dataclass
class Received:
    """One request a fake upstream got: its path, headers, JSON body (``{}`` when empty) and query."""

    path: str
    headers: dict[str, str]
    body: dict
    query: dict[str, str] = field(default_factory=dict)  # first value of each query parameter


async def receive_request(scope, receive) -> Received:
    """Read an ASGI http request whose body, if any, is JSON (an invalid body raises, failing the test)."""
    raw = await read_body(receive)
    headers = {k.decode(): v.decode() for k, v in scope["headers"]}
    query = {k: v[0] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
    return Received(scope["path"], headers, json.loads(raw) if raw else {}, query)


@dataclass
class RecordingUpstream:
    """Base of the fakes that keep every request in ``received``; ``last()`` is the latest."""

    received: list[Received] = field(default_factory=list)

    def last(self) -> Received:
        return self.received[-1]

    async def record(self, scope, receive) -> Received:
        request = await receive_request(scope, receive)
        self.received.append(request)
        return request


async def send_answer(
    send, status: int, body: bytes | dict | list, content_type: str = "application/json", headers=None
) -> None:
    """Answer in one piece: ``body`` as given when bytes, else as JSON; ``headers`` (a dict) are added."""
    if not isinstance(body, bytes | bytearray):
        body = json.dumps(body).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    start_headers = [(b"content-type", content_type.encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": start_headers})
    await send({"type": "http.response.body", "body": body})
