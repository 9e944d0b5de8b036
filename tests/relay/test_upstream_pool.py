"""The pooled upstream client (relay.http): keep-alive reuse, limits, dead sockets, cancellation, httpx's error
types and decoding, no cookies."""

from __future__ import annotations

import asyncio
import gzip

import httpx
import pytest

from relay import http as relay_http
from relay.http import upstream_client, upstream_send


class CountingServer:
    """A keep-alive HTTP/1.1 server on loopback that counts connections, optionally closing idle ones."""

    def __init__(
        self, *, delay: float = 0.0, close_idle_after: float | None = None, answer: bytes | None = None
    ) -> None:
        self.delay = delay
        self.answer = answer
        self.close_idle_after = close_idle_after
        self.accepted = 0
        self.heads: list[bytes] = []
        self.open = 0
        self.peak_open = 0

    async def __aenter__(self) -> CountingServer:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self.open += 1
        self.peak_open = max(self.peak_open, self.open)
        try:
            while True:
                try:
                    if self.close_idle_after is not None:
                        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.close_idle_after)
                    else:
                        head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
                    return
                self.heads.append(head)
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(
                    self.answer
                    or b"HTTP/1.1 200 OK\r\nset-cookie: session=abc; Path=/\r\ncontent-length: 2\r\n\r\nok"
                )
                await writer.drain()
        finally:
            self.open -= 1
            writer.close()


@pytest.fixture
def pool(monkeypatch):
    """A fresh session and client for this test's event loop, closed afterwards."""
    monkeypatch.setattr(relay_http, "_sessions", {})
    monkeypatch.setattr(relay_http, "_clients", {})
    yield relay_http
    # the fixture's teardown runs outside the loop: tests close what they opened (see close())


async def close() -> None:
    await relay_http.upstream_clients_close()


async def test_neither_path_keeps_upstream_cookies(pool):
    async with CountingServer() as server:
        try:
            for _ in range(2):
                assert (await upstream_send("GET", server.url, {})).status_code == 200
                assert (await upstream_client().get(server.url)).status_code == 200
        finally:
            await close()
    assert len(server.heads) == 4
    assert all(b"cookie:" not in head.lower() for head in server.heads)
    assert all(b"\r\nuser-agent: one-api/" in head.lower() for head in server.heads[::2])


async def test_concurrent_requests_reuse_keep_alive_connections(pool):
    async with CountingServer(delay=0.01) as server:
        try:
            for _ in range(3):
                answers = await asyncio.gather(
                    *(upstream_send("POST", server.url, {}, b"{}") for _ in range(40))
                )
                assert [a.status_code for a in answers] == [200] * 40
            assert server.accepted == 40  # three bursts of 40 on the same 40 connections
        finally:
            await close()


async def test_the_side_client_shares_the_pool(pool):
    async with CountingServer() as server:
        try:
            await upstream_send("GET", server.url, {})
            await upstream_client().get(server.url)
            await upstream_send("GET", server.url, {})
            assert server.accepted == 1
        finally:
            await close()


async def test_max_connections_queues_the_rest(pool, monkeypatch):
    monkeypatch.setattr(relay_http, "MAX_CONNECTIONS", 5)
    async with CountingServer(delay=0.02) as server:
        try:
            answers = await asyncio.gather(*(upstream_send("GET", server.url, {}) for _ in range(23)))
            assert [a.status_code for a in answers] == [200] * 23
            assert server.peak_open <= 5
        finally:
            await close()


async def test_a_connection_the_server_closed_while_idle_is_not_reused(pool):
    async with CountingServer(close_idle_after=0.05) as server:
        try:
            assert (await upstream_send("GET", server.url, {})).status_code == 200
            await asyncio.sleep(0.2)  # the server has closed the idle connection by now
            assert (await upstream_send("GET", server.url, {})).status_code == 200
            assert server.accepted == 2
        finally:
            await close()


@pytest.mark.parametrize("cancel_after", [0.0, 0.005])
async def test_cancelled_requests_leave_the_pool_usable(pool, cancel_after):
    async with CountingServer(delay=0.02) as server:
        try:
            tasks = [asyncio.ensure_future(upstream_send("GET", server.url, {})) for _ in range(6)]
            await asyncio.sleep(cancel_after)
            for task in tasks[::2]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            answers = await asyncio.gather(*(upstream_send("GET", server.url, {}) for _ in range(6)))
            assert [a.status_code for a in answers] == [200] * 6
        finally:
            await close()


CHUNKED = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"


async def test_a_stream_read_to_the_end_returns_its_connection(pool):
    async with CountingServer(answer=CHUNKED) as server:
        try:
            for _ in range(2):
                response = await upstream_send("GET", server.url, {}, stream=True)
                assert b"".join([chunk async for chunk in response.aiter_bytes()]) == b"hello world"
                await response.aclose()
            assert server.accepted == 1
        finally:
            await close()


async def test_a_stream_closed_early_drops_its_connection(pool):
    unfinished = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"
    async with CountingServer(answer=unfinished) as server:
        try:
            response = await upstream_send("GET", server.url, {}, stream=True)
            await response.aclose()  # the client went away: the upstream request is abandoned
            await asyncio.sleep(0.05)
            assert server.open == 0
        finally:
            await close()


async def test_a_gzip_answer_is_decoded_once_unless_the_caller_asked_for_an_encoding(pool):
    packed = gzip.compress(b'{"ok": true}')
    answer = b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n" % len(packed) + packed
    async with CountingServer(answer=answer) as server:
        try:
            response = await upstream_send("GET", server.url, {})
            assert response.json() == {"ok": True} and "content-encoding" not in response.headers
            raw = await upstream_send("GET", server.url, {"Accept-Encoding": "identity"}, stream=True)
            assert b"".join([c async for c in raw.aiter_raw()]) == packed  # as sent (the proxy channel)
            assert raw.headers["content-encoding"] == "gzip"
            await raw.aclose()
        finally:
            await close()


async def test_failures_are_httpx_errors(pool, settings):
    async with CountingServer() as server:
        port = server.server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(httpx.ConnectError):  # nothing listens there any more
            await upstream_send("GET", f"http://127.0.0.1:{port}/", {})
        with pytest.raises(httpx.UnsupportedProtocol):
            await upstream_send("GET", "ftp://127.0.0.1/", {})
        async with CountingServer(answer=b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhalf") as cut:
            cut.close_idle_after = 0.01
            with pytest.raises(httpx.RemoteProtocolError):
                await upstream_send("GET", cut.url, {})
    finally:
        await close()
    settings.RELAY_TIMEOUT = 0.1
    async with CountingServer(delay=1.0) as slow:
        try:
            with pytest.raises(httpx.ReadTimeout):
                await upstream_send("GET", slow.url, {})
        finally:
            await close()


async def test_a_stream_that_breaks_still_hands_over_what_arrived_first(pool):
    answer = b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\ndata: one\n\n"
    async with CountingServer(answer=answer, close_idle_after=0.01) as server:
        try:
            response = await upstream_send("GET", server.url, {}, stream=True)
            received = []
            with pytest.raises(httpx.RemoteProtocolError):
                async for chunk in response.aiter_bytes():
                    received.append(chunk)
            await response.aclose()
            assert b"".join(received) == b"data: one\n\n"
        finally:
            await close()
