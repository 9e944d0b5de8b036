"""The relay: pick a channel, reserve quota, call the upstream (failing over), stream, settle.

Data flows one way: relay → billing → logs. Nothing in this module touches the database directly; billing
and channel health run their (atomic, short) writes in worker threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import httpx
import orjson
from django.db import InterfaceError, OperationalError, connections

from billing.selectors import completion_ratio, group_ratio, model_ratio, pre_consumed_quota
from billing.services import (
    QuotaRefused,
    pre_consume_amount,
    quota_release,
    quota_reserve,
    quota_reserve_now,
    quota_settle,
    text_quota,
)
from billing.usage import Charge, Reservation, Usage
from channels_app.health import channel_failure_record, channel_success_record
from channels_app.routing import ChannelSnapshot, RoutingTable, channel_pick, routing_table
from config.options import option_int
from relay import tokens
from relay.auth import RelayAuth, check_model_allowed
from relay.channel_types import channel_type_info
from relay.errors import RelayError
from relay.http import upstream_client, upstream_send
from relay.providers import adaptor_class
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.schemas import RelayRequest
from relay.streaming import SSE_HEADERS, stream_relay

JSON_HEADERS = [(b"content-type", b"application/json")]
SATURATED_MESSAGE = "当前分组上游负载已饱和，请稍后再试"


def in_thread(fn):
    """Run blocking (database) work off the event loop, on the loop's default executor.

    The worker threads keep their database connections between requests; one that broke (a database
    restart) is closed so the thread's next call reconnects instead of failing forever. (A bare executor
    call, not asgiref's ``sync_to_async``: that one inspects the function anew on every call, ~0.1 ms.)
    """

    def guarded(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InterfaceError, OperationalError):
            connections.close_all()
            raise

    async def run(*args, **kwargs):
        return await asyncio.get_running_loop().run_in_executor(None, partial(guarded, *args, **kwargs))

    return run


async def settle_async(**settlement) -> None:
    """``quota_settle`` where an awaitable is wanted (``RelayResult.after_send``): it only adds sums and queues
    the log, so it runs on the loop."""
    quota_settle(**settlement)


@dataclass(slots=True)
class RelayContext:
    request_id: str
    started: float
    client_ip: str
    auth: RelayAuth
    upstream_s: float = 0.0

    def elapsed_ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    def overhead_ms(self) -> float:
        return (time.perf_counter() - self.started - self.upstream_s) * 1000


@dataclass(slots=True)
class RelayResult:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    stream: AsyncIterator[bytes] | None = None
    after_send: Callable[[], Awaitable[None]] | None = None
    upstream_s: float = 0.0  # time spent waiting on upstreams, subtracted from the overhead header


@dataclass(slots=True)
class ChannelChooser:
    """Failover order for one request: never the same channel twice; same tier first, then lower tiers."""

    table: RoutingTable
    group: str
    model: str
    specific_id: int | None
    retries_left: int
    tried: set[int] = field(default_factory=set)

    def first(self) -> ChannelSnapshot:
        if self.specific_id is not None:
            channel = self.table.channels.get(self.specific_id)
            if channel is None:
                raise RelayError(400, "无效的渠道 Id")
            if not channel.enabled:
                raise RelayError(403, "该渠道已被禁用")
            return channel
        channel = channel_pick(self.table, self.group, self.model)
        if channel is None:
            raise RelayError(503, f"当前分组 {self.group} 下对于模型 {self.model} 无可用渠道", code="")
        return channel

    def next_after(self, failed: ChannelSnapshot, error: RelayError) -> ChannelSnapshot | None:
        self.tried.add(failed.id)
        if self.specific_id is not None or not error.retryable or self.retries_left <= 0:
            return None
        self.retries_left -= 1
        return channel_pick(self.table, self.group, self.model, exclude=self.tried)


def channel_test(channel, model: str = ""):
    """Test one channel (see relay.channel_test); the console and the management API call this."""
    from relay.channel_test import channel_test as run

    return run(channel, model)


def adaptor_for(channel: ChannelSnapshot) -> Adaptor:
    info = channel_type_info(channel.type)
    cls = adaptor_class(info.adaptor)
    if cls is None:
        raise RelayError(
            400, f"channel type {info.name} is not supported by this gateway", code="invalid_api_type"
        )
    return cls(channel, info)


async def choose_first(ctx: RelayContext, model: str) -> ChannelChooser:
    check_model_allowed(ctx.auth.token, model)
    table = await routing_table.aget()
    return ChannelChooser(
        table=table,
        group=ctx.auth.token.user.group,
        model=model,
        specific_id=ctx.auth.specific_channel_id,
        retries_left=option_int("RetryTimes"),
    )


def prompt_tokens_for(req: RelayRequest, model: str) -> int:
    body = req.body or {}
    if req.mode == "chat":
        return tokens.count_messages(body.get("messages") or [], model)
    if req.mode == "completions":
        return tokens.count_prompt(body.get("prompt") or "", model)
    if req.mode in ("moderations", "embeddings"):
        return tokens.count_input(body.get("input") or "", model)
    return 0


async def reserve(ctx: RelayContext, amount: int) -> Reservation:
    token = ctx.auth.token
    wanted = Reservation(
        user_id=token.user.id,
        username=token.user.username,
        token_id=token.id,
        token_name=token.name,
        token_unlimited=token.unlimited_quota,
        group=token.user.group,
        amount=amount,
        request_id=ctx.request_id,
    )
    reservation = quota_reserve_now(wanted)  # SQLite with the database free: no thread hand-off
    if reservation is not None:
        return reservation
    taking = asyncio.ensure_future(in_thread(quota_reserve)(wanted))
    try:
        return await asyncio.shield(taking)
    except QuotaRefused as refused:
        raise RelayError(refused.status, refused.message, code=refused.code) from None
    except asyncio.CancelledError:
        # The client left while the quota was being taken: let the update land, then give it back.
        with contextlib.suppress(QuotaRefused):
            await in_thread(quota_release)(await taking)
        raise


async def send_upstream(ctx: RelayContext, upstream: UpstreamRequest, *, stream: bool) -> httpx.Response:
    started = time.perf_counter()
    try:
        response = await upstream_send(
            upstream.method, upstream.url, upstream.headers, upstream.content, stream=stream
        )
    except httpx.TimeoutException:
        raise RelayError(
            504, "upstream timed out", type="upstream_error", code="do_request_failed", retryable=True
        ) from None
    except httpx.TransportError as exc:
        raise RelayError(
            502,
            f"upstream unreachable: {exc.__class__.__name__}",
            type="upstream_error",
            code="do_request_failed",
            retryable=True,
        ) from None
    finally:
        ctx.upstream_s += time.perf_counter() - started
    return response


# Not copied from an upstream answer: framing the gateway redoes itself, and cookies (one upstream account
# serves every user, so its cookies must not reach them).
_UNCOPIED_HEADERS = frozenset(
    (b"content-length", b"content-encoding", b"content-type", b"transfer-encoding", b"connection",
     b"keep-alive", b"set-cookie", b"date", b"server", b"access-control-allow-origin",
     b"access-control-allow-credentials", b"x-oneapi-request-id", b"x-oneapi-overhead-ms")
)  # fmt: skip


def upstream_headers(response: httpx.Response) -> list[tuple[bytes, bytes]]:
    """The upstream's own headers (rate-limit counters, request ids…), copied as the original does."""
    return [
        (name.lower(), value) for name, value in response.headers.raw if name.lower() not in _UNCOPIED_HEADERS
    ]


def final_error(error: RelayError) -> RelayError:
    if error.status == 429:
        return RelayError(429, SATURATED_MESSAGE, type=error.type, code=error.code, param=error.param)
    return error


async def record_failure(channel: ChannelSnapshot, error: RelayError) -> None:
    await in_thread(channel_failure_record)(channel.id, disable=error.disable_channel, reason=error.message)


async def relay_with_failover(
    ctx: RelayContext,
    chooser: ChannelChooser,
    reservation: Reservation,
    call: Callable[[ChannelSnapshot], Awaitable[RelayResult]],
    first: ChannelSnapshot,
) -> RelayResult:
    """Try ``first``, then channels in failover order; on any exception the reservation is released."""
    channel = first
    try:
        while True:
            try:
                result = await call(channel)
                channel_success_record(channel.id)
                result.upstream_s = ctx.upstream_s
                return result
            except RelayError as error:
                await record_failure(channel, error)
                next_channel = chooser.next_after(channel, error)
                if next_channel is None:
                    raise final_error(error) from None
                channel = next_channel
    except BaseException:
        await in_thread(quota_release)(reservation)
        raise


# --- text modes: chat, completions, embeddings, moderations, edits ---------------------------------------


def plausible_usage(usage: Usage | None, prompt_tokens: int, count_completion: Callable[[], int]) -> Usage:
    """Trust upstream usage unless it is missing or all zeros (a known upstream bug); then count."""
    if usage is None or (usage.prompt_tokens == 0 and usage.completion_tokens == 0):
        return Usage(prompt_tokens, count_completion())
    if usage.prompt_tokens == 0:
        total = usage.total_tokens
        return Usage(
            prompt_tokens, max(total - prompt_tokens, 0), usage.cached_tokens, usage.reasoning_tokens
        )
    return usage


def text_charge(upstream_model: str, channel: ChannelSnapshot, group: str, usage: Usage) -> Charge:
    ratio_model = model_ratio(upstream_model, channel.type)
    ratio_group = group_ratio(group)
    ratio_completion = completion_ratio(upstream_model, channel.type)
    quota = text_quota(
        usage, model_ratio=ratio_model, group_ratio=ratio_group, completion_ratio=ratio_completion
    )
    return Charge(upstream_model, quota, ratio_model, ratio_group, ratio_completion)


def completion_text(body: bytes) -> str:
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return ""
    parts: list[str] = []
    for choice in payload.get("choices") or () if isinstance(payload, dict) else ():
        message = choice.get("message") or {}
        content = message.get("content") if isinstance(message, dict) else None
        parts.append(content if isinstance(content, str) else choice.get("text") or "")
    return "".join(parts)


async def relay_text(ctx: RelayContext, req: RelayRequest) -> RelayResult:
    chooser = await choose_first(ctx, req.model)
    first = chooser.first()
    upstream_model = first.upstream_model(req.model)
    prompt_tokens = prompt_tokens_for(req, upstream_model)
    ratio = model_ratio(upstream_model, first.type) * group_ratio(chooser.group)
    amount = pre_consume_amount(
        prompt_tokens=prompt_tokens, max_tokens=req.max_tokens, ratio=ratio, base=pre_consumed_quota()
    )
    reservation = await reserve(ctx, amount)
    call = partial(_text_attempt, ctx, req, reservation, prompt_tokens)
    return await relay_with_failover(ctx, chooser, reservation, call, first)


async def _text_attempt(
    ctx: RelayContext,
    req: RelayRequest,
    reservation: Reservation,
    prompt_tokens: int,
    channel: ChannelSnapshot,
) -> RelayResult:
    adaptor = adaptor_for(channel)
    await adaptor.prepare(upstream_client())
    upstream_model = channel.upstream_model(req.model)
    upstream = adaptor.build_request(req, upstream_model)
    if hasattr(adaptor, "websocket_call"):  # not HTTP (Spark's WebSocket): see Adaptor in providers/base.py
        response = await adaptor.websocket_call(upstream, stream=req.stream)
    else:
        response = await send_upstream(ctx, upstream, stream=req.stream)
    response = await adaptor.follow_up(upstream_client(), req, response)
    settle = partial(
        _settle_text, ctx, req, channel, reservation, upstream_model, upstream.system_prompt_reset
    )
    if req.stream:
        return await _open_stream(
            ctx, adaptor, response, upstream_model, prompt_tokens, req, reservation, settle
        )
    if response.status_code not in (200, 201):
        raise adaptor.map_error(response.status_code, response.content)
    body, usage = adaptor.parse_response(req, response.status_code, response.content)
    usage = plausible_usage(
        usage, prompt_tokens, lambda: tokens.count_completion(completion_text(body), upstream_model)
    )
    headers = JSON_HEADERS + upstream_headers(response)
    return RelayResult(response.status_code, headers, body, after_send=partial(settle, usage))


async def _settle_text(
    ctx: RelayContext,
    req: RelayRequest,
    channel: ChannelSnapshot,
    reservation: Reservation,
    upstream_model: str,
    system_prompt_reset: bool,
    usage: Usage,
) -> None:
    charge = text_charge(upstream_model, channel, reservation.group, usage)
    quota_settle(
        reservation=reservation,
        charge=charge,
        usage=usage,
        channel_id=channel.id,
        elapsed_ms=ctx.elapsed_ms(),
        is_stream=req.stream,
        system_prompt_reset=system_prompt_reset,
    )


async def _open_stream(
    ctx: RelayContext,
    adaptor: Adaptor,
    response: httpx.Response,
    upstream_model: str,
    prompt_tokens: int,
    req: RelayRequest,
    reservation: Reservation,
    settle: Callable[[Usage], Awaitable[None]],
) -> RelayResult:
    content_type = response.headers.get("content-type", "")
    if adaptor.stream_is_error(response.status_code, content_type):
        body = await response.aread()
        await response.aclose()
        raise adaptor.map_error(response.status_code if response.status_code >= 400 else 500, body)
    state = StreamState(model=upstream_model, hide_usage=not req.include_usage_requested)

    async def finish(state: StreamState, completed: bool) -> None:
        # Counting the delivered text is a tokenizer pass: done only when the bill depends on it.
        if not completed and state.usage is None and state.completion_tokens_counted() == 0:
            await in_thread(quota_release)(reservation)  # nothing reached the client: charge nothing
            return
        usage = state.usage if completed else None
        await settle(plausible_usage(usage, prompt_tokens, state.completion_tokens_counted))

    stream = stream_relay(
        response=response, adaptor=adaptor, state=state, request_id=ctx.request_id, finish=finish
    )
    return RelayResult(200, SSE_HEADERS, stream=stream)
