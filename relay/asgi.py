"""ASGI application for /v1 and the billing compat routes (see relay.http_io for why it bypasses Django)."""

from __future__ import annotations

import asyncio
import logging
import time

from relay.errors import RelayError
from relay.http_io import (
    InFlight,
    read_body,
    read_request,
    send_error,
    send_preflight,
    send_result,
    unless_hung_up,
)
from relay.urls import resolve

logger = logging.getLogger(__name__)

RELAY_PREFIXES = ("/v1/", "/dashboard/billing/")


def handles(path: str) -> bool:
    return path.startswith(RELAY_PREFIXES) or path == "/v1"


async def relay_application(scope: dict, receive, send) -> None:
    InFlight.count += 1
    try:
        await _serve(scope, receive, send)
    finally:
        InFlight.count -= 1


async def _serve(scope: dict, receive, send) -> None:
    request = await read_request(scope, receive)
    if request.method == "OPTIONS":
        await send_preflight(send)
        return
    try:
        view, kwargs = resolve(request.method, request.path)
        if view is None:
            raise RelayError(
                404,
                f"Invalid URL ({request.method} {request.path})",
                type="invalid_request_error",
                with_request_id=False,
            )
        request.body = await read_body(receive, request.headers)
        result = await _run_view(view, request, kwargs, receive)
        if result is None:
            return  # the client hung up before the answer; nobody is left to send it to
    except RelayError as error:
        await send_error(send, request, error)
        return
    except asyncio.CancelledError:
        raise
    except Exception:
        logger.exception("relay request %s failed unexpectedly", request.request_id)
        await send_error(
            send, request, RelayError(500, "internal error in the gateway", type="one_api_panic")
        )
        return
    overhead_ms = (time.perf_counter() - request.started - result.upstream_s) * 1000
    await send_result(send, receive, request, result, overhead_ms)


async def _run_view(view, request, kwargs: dict, receive):
    """Run the view while watching the connection. A client that hangs up first cancels the view, and with it
    the upstream call (its cleanup gives back the reserved quota); then the result is None."""
    result, _hung_up = await unless_hung_up(receive, view(request, **kwargs))
    return result
