"""The one pooled upstream HTTP client per process (per event loop).

httpcore 1.0's connection pool re-plans every connection on every request and every response close: the pass
is O(connections²) (``len([... for c in connections])`` per idle connection) and probes each idle socket for a
server-side close (``getpeername`` + ``poll``). With the 100+ keep-alive connections a busy gateway holds to
one upstream, that pass was most of the event loop's time (py-spy, deploy/bench at 32-128 concurrent).
``_LinearPassMixin`` replaces that one pass with a linear one that probes a socket only when it is about to be
reused (and sweeps the idle ones once a second); requests, connections and limits behave as before.
"""

from __future__ import annotations

import asyncio
import time

import httpx
from django.conf import settings

_clients: dict[int, httpx.AsyncClient] = {}
_SWEEP_EVERY_S = 1.0


def _timeout() -> httpx.Timeout:
    total = settings.RELAY_TIMEOUT or None
    # Connecting should never take long even when the answer may (a long stream); reads are bounded by
    # RELAY_TIMEOUT when set, as in the original.
    return httpx.Timeout(total, connect=min(total or 15.0, 15.0))


class _LinearPassMixin:
    """An O(connections) ``_assign_requests_to_connections`` for HTTP/1.1 pools (httpcore 1.0.x internals).

    Same decisions as httpcore's pass: drop closed connections, close expired ones and idle ones beyond
    ``max_keepalive_connections`` (oldest first), give each queued request an idle connection to its origin
    (oldest first), else a new connection while under ``max_connections``, else close an idle connection to
    another origin to make room. Differences: a socket is probed for a server-side close only right before it
    is reused, and all idle sockets at most once a ``_SWEEP_EVERY_S``; an idle connection is handed to one
    queued request, not several; a connection already assigned to a waiting request is never closed.
    """

    _sweep_at = 0.0

    def _assign_requests_to_connections(self) -> list:
        if self._http2:
            return super()._assign_requests_to_connections()
        closing: list = []
        reserved = {request.connection for request in self._requests if request.connection is not None}
        now = time.monotonic()
        sweep = now >= self._sweep_at
        if sweep:
            self._sweep_at = now + _SWEEP_EVERY_S
        kept: list = []
        idle: list = []
        for connection in self._connections:
            if connection.is_closed():
                continue
            if connection not in reserved and connection.is_idle():
                if sweep and connection.has_expired():
                    closing.append(connection)
                    continue
                idle.append(connection)
            kept.append(connection)
        surplus = len(idle) - self._max_keepalive_connections
        if surplus > 0:
            dropped = set(idle[:surplus])
            closing.extend(idle[:surplus])
            idle = idle[surplus:]
            kept = [connection for connection in kept if connection not in dropped]
        self._connections = kept
        for request in self._requests:
            if not request.is_queued():
                continue
            origin = request.request.url.origin
            connection = self._reusable(idle, origin, closing)
            if connection is None:
                if len(self._connections) >= self._max_connections:
                    if not idle:
                        continue  # stays queued until a connection is released
                    victim = idle.pop(0)
                    self._connections.remove(victim)
                    closing.append(victim)
                connection = self.create_connection(origin)
                self._connections.append(connection)
            request.assign_to_connection(connection)
        return closing

    def _reusable(self, idle: list, origin, closing: list):
        index = 0
        while index < len(idle):
            connection = idle[index]
            if not connection.can_handle_request(origin):
                index += 1
                continue
            del idle[index]
            if connection.has_expired():  # keep-alive ran out, or the server closed it while idle
                self._connections.remove(connection)
                closing.append(connection)
                continue
            return connection
        return None


class _NoCookies(httpx.Cookies):
    """Upstream ``Set-Cookie`` headers are not kept: one client serves every user and channel, so a cookie
    from one answer must not ride along on the next request (and parsing them cost ~5% of a relayed call)."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class UpstreamClient(httpx.AsyncClient):
    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, value) -> None:
        pass


_lean_classes: dict[type, type] = {}


def _lean_pool(transport: httpx.AsyncHTTPTransport) -> httpx.AsyncHTTPTransport:
    pool = getattr(transport, "_pool", None)
    needed = ("_requests", "_connections", "_http2", "_max_connections", "_max_keepalive_connections")
    if pool is None or not all(hasattr(pool, name) for name in needed):
        return transport  # an httpcore we do not know: keep its own pass
    cls = type(pool)
    if cls not in _lean_classes:
        _lean_classes[cls] = type(f"Linear{cls.__name__}", (_LinearPassMixin, cls), {})
    pool.__class__ = _lean_classes[cls]
    return transport


def upstream_client() -> httpx.AsyncClient:
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None or client.is_closed:
        transport = httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=2000, max_keepalive_connections=200, keepalive_expiry=60),
            proxy=settings.RELAY_PROXY or None,
        )
        client = UpstreamClient(
            transport=_lean_pool(transport),
            timeout=_timeout(),
            follow_redirects=False,
            trust_env=False,
        )
        _clients[loop_id] = client
    return client


async def upstream_clients_close() -> None:
    for client in list(_clients.values()):
        await client.aclose()
    _clients.clear()
