"""The raw Proxy channel (type 43): ``ANY /v1/oneapi/proxy/<channel id>/<path>`` → ``<channel base><path>``.

The caller's headers are copied (minus Host, Content-Length, Accept-Encoding, Connection and Authorization),
``Authorization`` becomes the channel's key as is, and the answer streams back untouched: no translation, no
billing, no log. Unlike the original, which let any key with the "specific channel" right reach it, only keys
of admin (or root) users may use it: it spends the channel owner's credentials on arbitrary paths.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from accounts.models import Role
from relay.errors import RelayError
from relay.providers.base import Adaptor, UpstreamRequest
from relay.schemas import RelayRequest

PROXY_CHANNEL_TYPE = 43
# Hop-by-hop or recomputed headers; Authorization is the channel's. The gateway already decompressed a
# gzip/deflate request body, so its Content-Encoding goes too.
DROPPED_REQUEST_HEADERS = {
    "host", "content-length", "accept-encoding", "connection", "authorization", "transfer-encoding",
    "keep-alive", "te", "upgrade", "proxy-authorization", "proxy-connection", "content-encoding",
}  # fmt: skip
DROPPED_RESPONSE_HEADERS = {"content-length", "transfer-encoding", "connection", "keep-alive"}


class ProxyAdaptor(Adaptor):
    """Registered so every channel type resolves; proxy channels serve only the proxy route."""

    name = "proxy"

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        raise RelayError(
            400, "Proxy channels only serve /v1/oneapi/proxy/<channel id>/<path>", code="unsupported_endpoint"
        )


def proxy_request(
    *, key: str, base_url: str, method: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> UpstreamRequest:
    """The upstream request for one proxied call (pure). ``path`` is what follows the channel id."""
    if not base_url:
        raise RelayError(400, "this proxy channel has no base URL", code="invalid_channel")
    forwarded = {k: v for k, v in headers.items() if k.lower() not in DROPPED_REQUEST_HEADERS}
    # Ask for the bytes as they are: the answer is relayed untouched, Content-Encoding included.
    forwarded.update({"Authorization": key, "Accept-Encoding": "identity"})
    url = base_url.rstrip("/") + (path if path.startswith("/") else "/" + path if path else "")
    return UpstreamRequest(method, f"{url}?{query}" if query else url, forwarded, body)


def response_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    return [
        (k, v) for k, v in response.headers.raw if k.decode("latin-1").lower() not in DROPPED_RESPONSE_HEADERS
    ]


def check_caller(role: int) -> None:
    if role < Role.ADMIN:
        raise RelayError(403, "only administrators' keys may use proxy channels", code="proxy_forbidden")


async def relay_proxy(ctx, http, channel_id: int, path: str):
    """Authenticated admin key → channel ``channel_id`` (type 43, enabled) → the upstream, streamed back."""
    from channels_app.routing import routing_table
    from relay.services import RelayResult, send_upstream

    check_caller(ctx.auth.token.user.role)
    channel = (await routing_table.aget()).channels.get(channel_id)
    if channel is None or channel.type != PROXY_CHANNEL_TYPE:
        raise RelayError(404, f"no proxy channel #{channel_id}", code="invalid_channel")
    if not channel.enabled:
        raise RelayError(403, "该渠道已被禁用", code="channel_disabled")
    upstream = proxy_request(
        key=channel.key,
        base_url=channel.base_url,
        method=http.method,
        path=path,
        query=http.query,
        headers=http.headers,
        body=http.body,
    )
    response = await send_upstream(ctx, upstream, stream=True)
    return RelayResult(response.status_code, response_headers(response), stream=_body(response))


async def _body(response: httpx.Response) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_raw():
            yield chunk
    finally:
        await response.aclose()
