"""OpenAI and every OpenAI-shaped channel type (the table rows of relay.channel_types).

Bodies pass through byte-for-byte unless the gateway must change them (model mapping, the channel's system
prompt, asking for stream usage); then the parsed body is re-serialised whole, so no field is ever dropped.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import AsyncIterator

import httpx
import orjson
from httpx_sse import SSEError

from billing.usage import Usage
from relay.errors import RelayError, upstream_error
from relay.http import body_chunks
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.schemas import RelayRequest


def usage_from(payload: object) -> Usage | None:
    """OpenAI usage, including the cached/reasoning details and Groq's ``x_groq.usage``."""
    if not isinstance(payload, dict):
        return None
    prompt = payload.get("prompt_tokens")
    completion = payload.get("completion_tokens")
    total = payload.get("total_tokens")
    if not isinstance(prompt, int) and not isinstance(total, int):
        return None
    usage = Usage(int(prompt or 0), int(completion or 0))
    if not usage.completion_tokens and isinstance(total, int) and total > usage.prompt_tokens:
        usage.completion_tokens = total - usage.prompt_tokens
    details = payload.get("prompt_tokens_details")
    if isinstance(details, dict):
        usage.cached_tokens = int(details.get("cached_tokens") or 0)
    details = payload.get("completion_tokens_details")
    if isinstance(details, dict):
        usage.reasoning_tokens = int(details.get("reasoning_tokens") or 0)
    return usage


def chunk_usage(chunk: dict) -> Usage | None:
    usage = usage_from(chunk.get("usage"))
    if usage is None and isinstance(chunk.get("x_groq"), dict):
        usage = usage_from(chunk["x_groq"].get("usage"))
    if usage is None:
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict) and (usage := usage_from(choice.get("usage"))):
                break
    return usage


_DRAIN_AFTER_DONE_S = 0.25


async def sse_data(response: httpx.Response) -> AsyncIterator[str]:
    """The data of each non-empty server-sent event: what httpx-sse + ``relay.streaming.upstream_events`` yield."""
    async for batch in sse_batches(response):
        for event in batch:
            yield event


async def sse_batches(response: httpx.Response) -> AsyncIterator[list[str]]:
    """``sse_data``'s events, grouped by the upstream read they completed in (a busy gateway relays each
    group in one write instead of one per event).

    One pass over the body's bytes instead of three generator layers (text, lines, events), about a third of
    the relay's CPU per streamed chunk. Same rules as httpx-sse: lines end at CRLF, CR or LF; ``:`` lines are
    comments; one space after ``data:`` is dropped; data lines join with LF; an event ends at a blank line
    (an unterminated last event is dropped). After ``[DONE]`` the rest of the body (normally just the
    chunked-encoding end) is read, briefly, so the keep-alive connection returns to the pool instead of being
    closed: without that every stream paid a new upstream connection (and TLS handshake).
    """
    content_type = response.headers.get("content-type", "").partition(";")[0]
    if "text/event-stream" not in content_type:
        raise SSEError(
            f"Expected response header Content-Type to contain 'text/event-stream', got {content_type!r}"
        )
    decode = codecs.getincrementaldecoder(response.encoding or "utf-8")(errors="replace").decode
    chunks = body_chunks(response)
    pending = ""
    data: list[str] = []
    async for chunk in chunks:
        pending += decode(chunk)
        if "\r" in pending:
            keep_cr = pending.endswith("\r")  # maybe the first half of a CRLF split across reads
            pending = pending[:-1] if keep_cr else pending
            pending = pending.replace("\r\n", "\n").replace("\r", "\n") + ("\r" if keep_cr else "")
        if "\n" not in pending:
            continue
        *lines, pending = pending.split("\n")
        batch: list[str] = []
        for line in lines:
            if line:
                if line.startswith("data"):
                    name, _, value = line.partition(":")
                    if name == "data":
                        data.append(value[1:] if value.startswith(" ") else value)
                continue
            event = "\n".join(data)
            data = []
            if not event:
                continue
            batch.append(event)
            if event == "[DONE]":
                await _drain(chunks)
                yield batch
                return
        if batch:
            yield batch


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    try:
        async with asyncio.timeout(_DRAIN_AFTER_DONE_S):
            async for _ in chunks:
                pass
    except (TimeoutError, httpx.HTTPError):
        pass  # then the connection is closed rather than reused


def apply_system_prompt(body: dict, system_prompt: str) -> None:
    messages = list(body.get("messages") or [])
    if messages and isinstance(messages[0], dict) and messages[0].get("role") == "system":
        messages[0] = {**messages[0], "content": system_prompt}
    else:
        messages.insert(0, {"role": "system", "content": system_prompt})
    body["messages"] = messages


def minimax_error(payload: dict) -> RelayError | None:
    """MiniMax answers errors with HTTP 200 and a non-zero ``base_resp.status_code``."""
    base = payload.get("base_resp")
    if not isinstance(base, dict) or not base.get("status_code"):
        return None
    code = int(base["status_code"])
    status = {1002: 429, 1039: 429, 1004: 401, 1008: 402, 2013: 400}.get(code, 500)
    message = str(base.get("status_msg") or f"MiniMax error {code}")
    return RelayError(
        status=status,
        message=message,
        type="upstream_error",
        code=code,
        retryable=status != 400,
        disable_channel=code in (1004, 1008),
    )


class OpenAIAdaptor(Adaptor):
    name = "openai"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.channel.key}"}

    def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        return sse_data(response)

    def stream_event_batches(self, response: httpx.Response) -> AsyncIterator[list[str]]:
        if type(self).stream_events is not OpenAIAdaptor.stream_events:
            return super().stream_event_batches(response)  # a subclass that reads its own events
        return sse_batches(response)

    def url(self, req: RelayRequest, upstream_model: str) -> str:
        from relay.channel_types import UnsupportedMode, upstream_url

        try:
            return upstream_url(self.info, self.channel.base_url, req.path, req.mode)
        except UnsupportedMode:
            raise RelayError(
                400, f"{self.info.name} channels do not support {req.path}", code="unsupported_endpoint"
            ) from None

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        content, reset = self._body(req, upstream_model)
        headers = {**self.auth_headers(), "Content-Type": req.content_type, **self.info.extra_headers}
        if req.stream:
            headers["Accept"] = "text/event-stream"
        return UpstreamRequest(
            "POST", self.url(req, upstream_model), headers, content, system_prompt_reset=reset
        )

    def _body(self, req: RelayRequest, upstream_model: str) -> tuple[bytes, bool]:
        if req.body is None:
            return req.raw, False
        system_prompt = self.channel.system_prompt if req.mode == "chat" else ""
        ask_usage = req.stream and self.info.supports_stream_usage and not req.include_usage_requested
        if upstream_model == req.model and not system_prompt and not ask_usage:
            return req.raw, False
        body = dict(req.body)
        body["model"] = upstream_model
        if system_prompt:
            apply_system_prompt(body, system_prompt)
        if ask_usage:
            body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        return orjson.dumps(body), bool(system_prompt)

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise RelayError(
                502,
                "upstream returned invalid JSON",
                type="upstream_error",
                code="bad_response",
                retryable=True,
            ) from None
        if not isinstance(payload, dict):
            raise RelayError(
                502,
                "upstream returned unexpected JSON",
                type="upstream_error",
                code="bad_response",
                retryable=True,
            )
        error = payload.get("error")
        if isinstance(error, dict) and error.get("type"):
            raise upstream_error(status if status >= 400 else 500, body)
        if (failure := minimax_error(payload)) is not None:
            raise failure
        return body, usage_from(payload.get("usage"))

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if data == "[DONE]":
            state.done = True
            return []
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = RelayError(
                502, "upstream sent a malformed stream event", type="upstream_error", code="bad_response"
            )
            return []
        if not isinstance(chunk, dict):
            return []
        if "error" in chunk or "base_resp" in chunk:  # checked only when present: this runs per chunk
            if isinstance(chunk.get("error"), dict) or (minimax_error(chunk) is not None):
                state.error = minimax_error(chunk) or upstream_error(500, data.encode())
                return []
        usage = chunk_usage(chunk) if chunk.get("usage") is not None or "x_groq" in chunk else None
        choices = chunk.get("choices") or []
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            if usage is None and choice.get("usage") is not None:
                usage = usage_from(choice["usage"])
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
            if text is None:
                text = choice.get("text")  # /v1/completions streams
            if text.__class__ is str:
                state.add_text(text)
            if choice.get("finish_reason"):
                state.finished = True
        if usage is not None and (usage.prompt_tokens or usage.completion_tokens):
            state.usage = usage
        if not choices:
            if usage is not None and state.hide_usage:
                return []  # the usage chunk we asked for on the client's behalf
            if usage is None:
                return []  # e.g. Azure's prompt_filter_results preamble
        return [data.encode()]
