"""Test a channel with one small, unbilled chat request (the console's "test" button and the periodic job)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
import orjson
from asgiref.sync import async_to_sync
from django.conf import settings

from channels_app.models import Channel
from channels_app.routing import ChannelSnapshot, channel_snapshot
from relay.errors import RelayError
from relay.schemas import RelayRequest


@dataclass(frozen=True, slots=True)
class ChannelTestResult:
    success: bool
    message: str
    time_s: float
    model: str
    error: RelayError | None = None


def channel_test_model(channel: ChannelSnapshot, requested: str = "") -> str:
    """The request's ``?model=``, else gpt-3.5-turbo, replaced by the channel's first model if it lacks it."""
    model = requested or "gpt-3.5-turbo"
    if channel.models and model not in channel.models:
        model = channel.models[0]
    return model


def _test_request(model: str) -> RelayRequest:
    body = {"model": model, "messages": [{"role": "user", "content": settings.TEST_PROMPT}], "max_tokens": 64}
    return RelayRequest(
        mode="chat", path="/v1/chat/completions", model=model, raw=orjson.dumps(body), body=body
    )


def _answer_text(body: bytes) -> str | None:
    try:
        payload = orjson.loads(body)
        content = payload["choices"][0]["message"]["content"]
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


async def channel_test_async(channel: ChannelSnapshot, requested_model: str = "") -> ChannelTestResult:
    from relay.services import adaptor_for

    model = channel_test_model(channel, requested_model)
    req = _test_request(model)
    started = time.perf_counter()
    try:
        adaptor = adaptor_for(channel)
        async with httpx.AsyncClient(
            timeout=settings.RELAY_TIMEOUT or 60, proxy=settings.RELAY_PROXY or None
        ) as client:
            await adaptor.prepare(client)
            upstream = adaptor.build_request(req, channel.upstream_model(model))
            if hasattr(adaptor, "websocket_call"):  # not HTTP (Spark): see Adaptor in providers/base.py
                response = await adaptor.websocket_call(upstream, stream=False)
            else:
                response = await client.request(
                    upstream.method, upstream.url, headers=upstream.headers, content=upstream.content
                )
            response = await adaptor.follow_up(client, req, response)
        if response.status_code not in (200, 201):
            raise adaptor.map_error(response.status_code, response.content)
        body, _usage = adaptor.parse_response(req, response.status_code, response.content)
        if _answer_text(body) is None:
            raise RelayError(502, "the answer holds no text", type="upstream_error", code="bad_response")
    except RelayError as error:
        return ChannelTestResult(False, error.message, time.perf_counter() - started, model, error)
    except httpx.HTTPError as exc:
        error = RelayError(502, f"upstream unreachable: {exc.__class__.__name__}", retryable=True)
        return ChannelTestResult(False, error.message, time.perf_counter() - started, model, error)
    return ChannelTestResult(True, "", time.perf_counter() - started, model)


def channel_test(channel: Channel, model: str = "") -> ChannelTestResult:
    """Run the test, record response/test time and a type-5 log. Never charges anyone."""
    from channels_app.services import channel_test_record

    result = async_to_sync(channel_test_async)(channel_snapshot(channel), model)
    channel_test_record(
        channel, success=result.success, elapsed_s=result.time_s, model=result.model, message=result.message
    )
    return result
