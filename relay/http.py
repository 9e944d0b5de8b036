"""The one pooled upstream HTTP client per process (per event loop)."""

from __future__ import annotations

import asyncio

import httpx
from django.conf import settings

_clients: dict[int, httpx.AsyncClient] = {}


def _timeout() -> httpx.Timeout:
    total = settings.RELAY_TIMEOUT or None
    # Connecting should never take long even when the answer may (a long stream); reads are bounded by
    # RELAY_TIMEOUT when set, as in the original.
    return httpx.Timeout(total, connect=min(total or 15.0, 15.0))


def upstream_client() -> httpx.AsyncClient:
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            timeout=_timeout(),
            limits=httpx.Limits(max_connections=2000, max_keepalive_connections=200, keepalive_expiry=60),
            proxy=settings.RELAY_PROXY or None,
            follow_redirects=False,
            trust_env=False,
        )
        _clients[loop_id] = client
    return client


async def upstream_clients_close() -> None:
    for client in list(_clients.values()):
        await client.aclose()
    _clients.clear()
