"""Forward an upstream event stream to the client chunk by chunk, and settle exactly once at the end.

Django's and uvicorn's ASGI servers cancel the response task when the client goes away; the generator then
receives CancelledError at its current await, and ``finally`` settles what was delivered under a shield.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import orjson
from httpx_sse import EventSource

from relay.errors import RelayError
from relay.providers.base import Adaptor, StreamState

logger = logging.getLogger(__name__)

SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"connection", b"keep-alive"),
    (b"x-accel-buffering", b"no"),
]
DONE = b"data: [DONE]\n\n"


def sse_event(payload: bytes) -> bytes:
    return b"data: " + payload + b"\n\n"


def sse_error(error: RelayError, request_id: str) -> bytes:
    body = orjson.loads(error.body(request_id))
    return sse_event(orjson.dumps(body))


async def upstream_events(response: httpx.Response) -> AsyncIterator[str]:
    """The data of each upstream SSE event (parsed by httpx-sse; comments and keep-alives skipped)."""
    async for event in EventSource(response).aiter_sse():
        if event.data:
            yield event.data


async def stream_relay(
    *,
    response: httpx.Response,
    adaptor: Adaptor,
    state: StreamState,
    request_id: str,
    finish: Callable[[StreamState, bool], Awaitable[None]],
) -> AsyncIterator[bytes]:
    completed = False
    try:
        async for batch in adaptor.stream_event_batches(response):
            frames: list[bytes] = []
            try:
                for data in batch:
                    frames.extend(sse_event(payload) for payload in adaptor.parse_stream_event(data, state))
                    if state.error is not None or state.done:
                        break
            except Exception:
                if frames:
                    yield b"".join(frames)  # what was parsed before the failure is delivered (and billed)
                raise
            if frames:
                yield frames[0] if len(frames) == 1 else b"".join(frames)
            if state.error is not None or state.done:
                break
        if state.error is None and not (state.done or state.finished):
            state.error = RelayError(
                502,
                "upstream stream ended before the answer was complete",
                type="upstream_error",
                code="bad_response",
            )
        # Decided before the last yields: a client that leaves while [DONE] is in flight got the whole answer.
        completed = state.error is None
        if state.error is not None:
            yield sse_error(state.error, request_id)
        yield DONE
    except (httpx.TransportError, httpx.StreamError) as exc:
        logger.info("upstream stream broke (request %s): %s", request_id, exc)
        state.error = RelayError(
            502, "upstream connection lost mid-stream", type="upstream_error", code="bad_response"
        )
        yield sse_error(state.error, request_id)
        yield DONE
    except Exception:
        # A bug while relaying: end the stream cleanly (error event, [DONE]) rather than cutting the connection.
        logger.exception("relaying stream %s failed unexpectedly", request_id)
        state.error = RelayError(500, "internal error in the gateway", type="one_api_panic")
        yield sse_error(state.error, request_id)
        yield DONE
    finally:
        settling = asyncio.ensure_future(_finish_and_close(response, state, completed, finish))
        try:
            await asyncio.shield(settling)
        except asyncio.CancelledError:
            # Cancelled mid-settlement (the client hung up right after [DONE]): finish settling before
            # leaving, or the request would count as done (InFlight, shutdown) with its books still open.
            await settling
            raise


async def _finish_and_close(response, state, completed, finish) -> None:
    try:
        await finish(state, completed)
    except Exception:
        logger.exception("settling a stream failed")
    finally:
        await response.aclose()
