"""iFlytek Spark (channel type 18) over its WebSocket API: an HMAC-signed ``wss`` URL, one request frame,
answer frames with ``header.status`` 0/1/2 (2 = last, with ``payload.usage.text``).

Key ``APPID|APISecret|APIKey``. The version (and so the URL path and ``domain``) comes from the model name, else
the channel's ``config.api_version``, else v1.1; the channel's base URL (if set) replaces
``wss://spark-api.xf-yun.com``. ``build_request`` is pure (signed URL + request frame); ``websocket_call``, which
the relay calls instead of an HTTP send (see ``Adaptor`` in base.py), does the I/O and hands back an
``httpx.Response`` whose body is the answer frames: a JSON list (non-stream) or one frame per line (stream).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from email.utils import formatdate
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
from django.conf import settings

from billing.usage import Usage
from relay.errors import RelayError, upstream_error
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.openai import apply_system_prompt, usage_from
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    chat_completion,
    has_images,
    json_object,
    message_text,
    new_call_id,
    reject_fields,
    unsupported,
    unsupported_mode,
)
from relay.schemas import RelayRequest

PROVIDER = "iFlytek Spark"
DEFAULT_BASE = "wss://spark-api.xf-yun.com"
DEFAULT_VERSION = "v1.1"

# https://www.xfyun.cn/doc/spark/Web.html — model -> API version; version -> (URL path, domain)
MODEL_VERSIONS = {
    "Spark-Lite": "v1.1", "Spark-Pro": "v3.1", "Spark-Pro-128K": "v3.1-128K", "Spark-Max": "v3.5",
    "Spark-Max-32K": "v3.5-32K", "Spark-4.0-Ultra": "v4.0",
}  # fmt: skip
VERSIONS = {
    "v1.1": ("/v1.1/chat", "lite"), "v2.1": ("/v2.1/chat", "generalv2"), "v3.1": ("/v3.1/chat", "generalv3"),
    "v3.1-128K": ("/chat/pro-128k", "pro-128k"), "v3.5": ("/v3.5/chat", "generalv3.5"),
    "v3.5-32K": ("/chat/max-32k", "max-32k"), "v4.0": ("/v4.0/chat", "4.0Ultra"),
}  # fmt: skip
TOOL_DOMAINS = {"generalv3", "generalv3.5", "4.0Ultra", "max-32k"}

# https://www.xfyun.cn/doc/spark/Web.html#_5-错误码 — header.code -> (HTTP status, retry elsewhere?, disable?)
ERROR_CODES: dict[int, tuple[int, bool, bool]] = {
    10007: (429, True, False), 10013: (400, False, False), 10014: (400, False, False),
    10019: (400, False, False), 10907: (400, False, False), 10016: (403, True, True),
    11200: (403, True, True), 11201: (429, True, False), 11202: (429, True, False), 11203: (429, True, False),
}  # fmt: skip


def spark_error(code: object, message: str, sid: str = "") -> RelayError:
    number = int(code) if str(code).lstrip("-").isdigit() else 0
    status, retry, disable = ERROR_CODES.get(number, (400 if 10100 <= number < 10300 else 500, True, False))
    if status == 400 and number not in ERROR_CODES:
        retry = False  # 101xx/102xx: the request's parameters
    text = f"{message or 'Spark error'} (code {code}{', sid ' + sid if sid else ''})"
    return RelayError(
        status, text, type="upstream_error", code=number, retryable=retry, disable_channel=disable
    )


def version_for(model: str, config_version: str = "") -> str:
    if model in MODEL_VERSIONS:
        return MODEL_VERSIONS[model]
    if "-" in model:  # one-api's convention: "SparkDesk-v3.5" -> "v3.5"
        return model.split("-", 1)[1]
    return config_version or DEFAULT_VERSION


def path_and_domain(version: str) -> tuple[str, str]:
    return VERSIONS.get(version, (f"/{version}/chat", f"general{version}"))


def signed_url(base: str, path: str, api_key: str, api_secret: str, date: str | None = None) -> str:
    """The wss URL with ``authorization``, ``date`` and ``host`` (HMAC-SHA256 over host, date, request line)."""
    host = urlsplit(base).netloc
    date = date or formatdate(usegmt=True)
    origin = f"host: {host}\ndate: {date}\nGET {path} HTTP/1.1"
    signature = base64.b64encode(
        hmac.new(api_secret.encode(), origin.encode(), hashlib.sha256).digest()
    ).decode()
    authorization = (
        f'api_key="{api_key}", algorithm="hmac-sha256", headers="host date request-line", '
        f'signature="{signature}"'
    )
    query = urlencode(
        {"authorization": base64.b64encode(authorization.encode()).decode(), "date": date, "host": host}
    )
    return f"{base.rstrip('/')}{path}?{query}"


def request_frame(body: dict, app_id: str, domain: str) -> dict:
    reject_fields(body, PROVIDER, ("n", "stop", "response_format", "logprobs", "functions"))
    if body.get("top_p") not in (None, 1, 1.0):
        raise unsupported(PROVIDER, "top_p")
    if has_images(body["messages"]):
        raise unsupported(PROVIDER, "image_url")
    messages = []
    for message in body["messages"]:
        role = "system" if message.get("role") == "developer" else message.get("role")
        if role == "tool" or message.get("tool_calls"):
            raise unsupported(PROVIDER, "tool messages")
        messages.append({"role": role, "content": message_text(message.get("content"))})
    chat: dict = {"domain": domain}
    if body.get("temperature") is not None:
        chat["temperature"] = min(max(float(body["temperature"]), 0.01), 1.0)  # (0, 1]
    if max_tokens := body.get("max_completion_tokens") or body.get("max_tokens"):
        chat["max_tokens"] = max_tokens
    if body.get("top_k") is not None:
        chat["top_k"] = body["top_k"]
    frame: dict = {"header": {"app_id": app_id, "uid": str(body.get("user") or "")[:32]},
                   "parameter": {"chat": chat}, "payload": {"message": {"text": messages}}}  # fmt: skip
    tools = [t.get("function") or {} for t in body.get("tools") or () if isinstance(t, dict)]
    if tools and body.get("tool_choice") != "none":
        if domain not in TOOL_DOMAINS:
            raise unsupported(f"{PROVIDER} {domain}", "tools")
        if body.get("tool_choice") not in (None, "auto"):
            raise unsupported(PROVIDER, "tool_choice")
        frame["payload"]["functions"] = {"text": tools}
    return frame


def frame_parts(frame: dict) -> tuple[str, list[dict], int, Usage | None]:
    """(text, tool calls, status, usage) of one answer frame; RelayError for ``header.code != 0``."""
    header = frame.get("header") or {}
    if header.get("code"):
        raise spark_error(header["code"], str(header.get("message") or ""), str(header.get("sid") or ""))
    choices = (frame.get("payload") or {}).get("choices") or {}
    text, calls = "", []
    for item in choices.get("text") or ():
        text += str(item.get("content") or "")
        if isinstance(call := item.get("function_call"), dict):
            arguments = call.get("arguments")
            arguments = arguments if isinstance(arguments, str) else orjson.dumps(arguments or {}).decode()
            calls.append(
                {
                    "id": new_call_id(),
                    "type": "function",
                    "function": {"name": str(call.get("name") or ""), "arguments": arguments},
                }
            )
    status = int(choices.get("status", header.get("status", 0)) or 0)
    usage = usage_from(((frame.get("payload") or {}).get("usage") or {}).get("text"))
    return text, calls, status, usage


class _Frames(httpx.AsyncByteStream):
    """The open WebSocket as a response body: one JSON frame per line (newlines are only whitespace in JSON)."""

    def __init__(self, ws, first: str) -> None:
        self.ws, self.first = ws, first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK

        yield self.first.replace("\n", " ").encode() + b"\n"
        try:
            async for message in self.ws:
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                yield text.replace("\n", " ").encode() + b"\n"
        except ConnectionClosedOK:
            return
        except ConnectionClosedError as exc:
            raise httpx.ReadError(f"Spark closed the connection: {exc}") from None

    async def aclose(self) -> None:
        await self.ws.close()


class XunfeiAdaptor(Adaptor):
    name = "xunfei"

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        if req.mode != "chat":
            raise unsupported_mode(PROVIDER, req.mode)
        app_id, api_secret, api_key = (self.channel.key.split("|") + ["", "", ""])[:3]
        if not (app_id and api_secret and api_key):
            raise RelayError(
                401,
                "Spark key must look like APPID|APISecret|APIKey",
                code="invalid_api_key",
                disable_channel=True,
            )
        version = version_for(upstream_model, str(self.channel.config.get("api_version") or ""))
        path, domain = path_and_domain(version)
        body = dict(req.body or {})
        if self.channel.system_prompt:
            apply_system_prompt(body, self.channel.system_prompt)
        frame = request_frame(body, app_id, domain)
        url = signed_url(self.channel.base_url or DEFAULT_BASE, path, api_key, api_secret)
        return UpstreamRequest(
            "GET", url, {}, orjson.dumps(frame), system_prompt_reset=bool(self.channel.system_prompt)
        )

    async def websocket_call(self, upstream: UpstreamRequest, *, stream: bool) -> httpx.Response:
        """Connect, send the frame and return the answer as an ``httpx.Response`` (see the module docstring).
        The first frame is read before returning, so a refused handshake or an error frame is a RelayError
        the relay can fail over on."""
        from websockets.asyncio.client import connect

        timeout = settings.RELAY_TIMEOUT or None
        try:
            ws = await connect(
                upstream.url,
                open_timeout=min(timeout or 15, 15),
                proxy=settings.RELAY_PROXY or None,
                max_size=None,
                compression=None,
            )
        except Exception as exc:  # every connect failure (refused, DNS, handshake) becomes one RelayError
            raise self._connect_error(exc) from None
        try:
            await ws.send(upstream.content.decode())
            first = await self._receive(ws, timeout)
            frame_parts(json_object(first, PROVIDER))  # raises on an error frame
            if stream:
                return httpx.Response(
                    200, headers={"content-type": "application/x-ndjson"}, stream=_Frames(ws, first)
                )
            frames = [first]
            while frame_parts(json_object(frames[-1], PROVIDER))[2] != 2:
                frames.append(await self._receive(ws, timeout))
            await ws.close()
            return httpx.Response(
                200,
                headers={"content-type": "application/json"},
                content=b"[" + ",".join(frames).encode() + b"]",
            )
        except BaseException:
            await ws.close()
            raise

    @staticmethod
    async def _receive(ws, timeout: float | None) -> str:
        import asyncio

        from websockets.exceptions import ConnectionClosed

        try:
            message = await asyncio.wait_for(ws.recv(), timeout)
        except TimeoutError:
            raise RelayError(504, "Spark did not answer in time", type="upstream_error", code="do_request_failed",
                             retryable=True) from None  # fmt: skip
        except ConnectionClosed:
            raise bad_response("Spark closed the connection before the answer was complete") from None
        return message if isinstance(message, str) else message.decode("utf-8", "replace")

    def _connect_error(self, exc: Exception) -> RelayError:
        from websockets.exceptions import InvalidStatus

        if isinstance(exc, InvalidStatus):  # the handshake was refused (bad signature, clock skew, no access)
            return self.map_error(exc.response.status_code, exc.response.body or b"")
        return RelayError(
            502,
            f"Spark unreachable: {exc.__class__.__name__}",
            type="upstream_error",
            code="do_request_failed",
            retryable=True,
        )

    def stream_is_error(self, status: int, content_type: str) -> bool:
        return status != 200

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        async for line in response.aiter_lines():
            if line.strip():
                yield line

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        try:
            frames = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise bad_response("Spark frames are not valid JSON") from None
        if not isinstance(frames, list) or not frames:
            raise bad_response("Spark sent no answer frames")
        text, calls, usage, status_seen = "", [], None, 0
        for frame in frames:
            part, part_calls, status_seen, frame_usage = frame_parts(frame if isinstance(frame, dict) else {})
            text, calls, usage = text + part, calls + part_calls, frame_usage or usage
        if status_seen != 2:
            raise bad_response("Spark's answer ended before its last frame")
        answer = chat_completion(
            model=req.model,
            content=text,
            usage=usage,
            tool_calls=calls,
            finish_reason="tool_calls" if calls else "stop",
        )
        return answer, usage

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        try:
            text, calls, status, usage = frame_parts(json_object(data, PROVIDER))
        except RelayError as error:
            state.error = error
            return []
        writer = getattr(self, "_chunks", None) or ChunkWriter(model=state.model)
        self._chunks = writer
        out = writer.text(state, text)
        for index, call in enumerate(calls):
            state.add_text(call["function"]["arguments"])
            out.append(writer.chunk({"tool_calls": [{"index": index, **call}]}))
            self._called = True
        if usage is not None:
            state.usage = usage
        if status == 2:
            state.done = True
            out += writer.finish(state, "tool_calls" if getattr(self, "_called", False) else "stop")
        return out

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        header = payload.get("header") if isinstance(payload, dict) else None
        if isinstance(header, dict) and header.get("code"):
            return spark_error(header["code"], str(header.get("message") or ""), str(header.get("sid") or ""))
        return upstream_error(status, body)
