"""The upstream client's connection pool (relay.http): linear pass, same reuse, limits and dead-socket handling."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from relay.http import _lean_pool, upstream_client


class CountingServer:
    """A keep-alive HTTP/1.1 server on loopback that counts connections, optionally closing idle ones."""

    def __init__(self, *, delay: float = 0.0, close_idle_after: float | None = None) -> None:
        self.delay = delay
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
                    b"HTTP/1.1 200 OK\r\nset-cookie: session=abc; Path=/\r\ncontent-length: 2\r\n\r\nok"
                )
                await writer.drain()
        finally:
            self.open -= 1
            writer.close()


def lean_client(**limits) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=_lean_pool(httpx.AsyncHTTPTransport(limits=httpx.Limits(**limits))))


async def test_the_gateways_client_uses_the_linear_pool(monkeypatch):
    from relay import http as relay_http

    monkeypatch.setattr(relay_http, "_clients", {})
    client = upstream_client()
    try:
        assert type(client._transport._pool).__name__.startswith("Linear")
    finally:
        await client.aclose()


async def test_the_gateways_client_keeps_no_upstream_cookies(monkeypatch):
    from relay import http as relay_http

    monkeypatch.setattr(relay_http, "_clients", {})
    async with CountingServer() as server:
        client = upstream_client()
        try:
            for _ in range(2):
                assert (await client.get(server.url)).status_code == 200
        finally:
            await client.aclose()
    assert all(b"cookie:" not in head.lower() for head in server.heads)
    assert not client.cookies


async def test_concurrent_requests_reuse_keep_alive_connections():
    async with CountingServer(delay=0.01) as server:
        async with lean_client(max_connections=100, max_keepalive_connections=100) as client:
            for _ in range(3):
                answers = await asyncio.gather(*(client.post(server.url, content=b"{}") for _ in range(40)))
                assert [a.status_code for a in answers] == [200] * 40
            assert server.accepted == 40  # three bursts of 40 on the same 40 connections
            assert len(client._transport._pool.connections) == 40


async def test_max_connections_queues_and_max_keepalive_closes_the_surplus():
    async with CountingServer(delay=0.02) as server:
        async with lean_client(max_connections=5, max_keepalive_connections=2) as client:
            answers = await asyncio.gather(*(client.get(server.url) for _ in range(23)))
            assert [a.status_code for a in answers] == [200] * 23
            assert server.peak_open <= 5
            assert len(client._transport._pool.connections) <= 2
            await asyncio.sleep(0.05)
            assert server.open <= 2


async def test_a_connection_the_server_closed_while_idle_is_not_reused():
    async with CountingServer(close_idle_after=0.05) as server:
        async with lean_client(max_connections=10, max_keepalive_connections=10) as client:
            assert (await client.get(server.url)).status_code == 200
            await asyncio.sleep(0.2)  # the server has closed the idle connection by now
            assert (await client.get(server.url)).status_code == 200
            assert server.accepted == 2


async def test_keep_alive_expiry_still_applies():
    async with CountingServer() as server:
        async with lean_client(max_connections=10, keepalive_expiry=0.05) as client:
            await client.get(server.url)
            await asyncio.sleep(0.1)
            await client.get(server.url)
            assert server.accepted == 2


@pytest.mark.parametrize("cancel_after", [0.0, 0.005])
async def test_cancelled_requests_leave_the_pool_usable(cancel_after):
    async with CountingServer(delay=0.02) as server:
        async with lean_client(max_connections=3, max_keepalive_connections=3) as client:
            tasks = [asyncio.ensure_future(client.get(server.url)) for _ in range(6)]
            await asyncio.sleep(cancel_after)
            for task in tasks[::2]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            answers = await asyncio.gather(*(client.get(server.url) for _ in range(6)))
            assert [a.status_code for a in answers] == [200] * 6
            assert len(client._transport._pool.connections) <= 3
