"""Zhipu BigModel (channel type 16): ``glm-*`` on the OpenAI-shaped v4 API, older models on the v3 model API.

Auth is a short HS256 JWT minted from the ``id.secret`` key (milliseconds in ``exp``/``timestamp``, header
``sign_type: SIGN``), cached per key for a day and sent raw in ``Authorization``. v4 chat, embeddings and
images reuse the OpenAI parsing; v3 (``/api/paas/v3/model-api/<m>/invoke|sse-invoke``) answers
``{"success", "data": {"choices", "usage"}}`` and streams ``event: add|finish`` with a non-standard
``meta:`` line carrying usage. Errors come as HTTP errors (v4) or ``success: false`` with HTTP 200 (v3).
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import AsyncIterator

import httpx
import jwt
import orjson
from httpx_sse._decoders import SSEDecoder, SSELineDecoder  # the parser httpx-sse uses, plus "meta:"
from jwt.warnings import InsecureKeyLengthWarning

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status
from relay.providers.base import StreamState, UpstreamRequest
from relay.providers.openai import OpenAIAdaptor, apply_system_prompt, usage_from
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    chat_completion,
    embedding_list,
    has_images,
    json_object,
    message_text,
    reject_fields,
    unsupported,
    unsupported_mode,
)
from relay.schemas import RelayRequest

PROVIDER = "Zhipu"
TOKEN_TTL_S = 24 * 3600
TOKEN_REFRESH_MARGIN_S = 300
_tokens: dict[str, tuple[str, float]] = {}  # key -> (jwt, monotonic time to mint a new one)
_tokens_lock = threading.Lock()

# https://docs.bigmodel.cn/cn/faq/api-code — business code -> (HTTP status, disable the channel?)
ERROR_CODES: dict[int, tuple[int, bool]] = {
    1000: (401, True), 1001: (401, True), 1002: (401, True), 1003: (401, True), 1004: (401, True),
    1110: (403, True), 1111: (403, True), 1112: (403, True), 1113: (429, True),
    1120: (403, True), 1121: (403, True),
    1211: (404, False), 1214: (400, False), 1220: (403, False), 1261: (400, False), 1301: (400, False),
    1302: (429, False), 1303: (429, False), 1304: (429, False), 1305: (503, False),
}  # fmt: skip

# https://docs.bigmodel.cn/api-reference/模型-api/对话补全 — finish_reason values beyond OpenAI's
FINISH_REASONS = {"sensitive": "content_filter"}


def zhipu_token(key: str, now: float | None = None) -> str:
    """The JWT for ``id.secret``; reused until a few minutes before its 24 h expiry."""
    clock = time.monotonic()
    with _tokens_lock:
        cached = _tokens.get(key)
        if cached is not None and clock < cached[1]:
            return cached[0]
    key_id, _, secret = key.partition(".")
    if not key_id or not secret:
        raise RelayError(
            401, "Zhipu key must look like id.secret", code="invalid_api_key", disable_channel=True
        )
    millis = int((now if now is not None else time.time()) * 1000)
    payload = {"api_key": key_id, "exp": millis + TOKEN_TTL_S * 1000, "timestamp": millis}
    with warnings.catch_warnings():
        # Zhipu issues 16-byte secrets; their length is not ours to choose.
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        token = jwt.encode(payload, secret, algorithm="HS256", headers={"sign_type": "SIGN"})
    with _tokens_lock:
        _tokens[key] = (token, clock + TOKEN_TTL_S - TOKEN_REFRESH_MARGIN_S)
    return token


def is_v4(model: str) -> bool:
    return model.startswith("glm-")


def _clamp(value: object, low: float, high: float) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return min(max(float(value), low), high)
    return value


def zhipu_error(status: int, code: object, message: str) -> RelayError:
    try:
        number = int(str(code))
    except ValueError:
        number = 0
    mapped, disable = ERROR_CODES.get(number, (status if status >= 400 else 500, status == 401))
    return RelayError(
        mapped,
        message or f"Zhipu error {code}",
        type="upstream_error",
        code=str(code) if code not in (None, "") else "bad_response_status_code",
        retryable=is_retryable_status(mapped),
        disable_channel=disable,
    )


class ZhipuAdaptor(OpenAIAdaptor):
    name = "zhipu"

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": zhipu_token(self.channel.key)}

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        base = (self.channel.base_url or self.info.base_url).rstrip("/")
        headers = {**self.auth_headers(), "Content-Type": "application/json"}
        body = dict(req.body or {})
        body["model"] = self._model = upstream_model
        reset = False
        if req.mode == "embeddings":
            url = f"{base}/api/paas/v4/embeddings"
            # Zhipu answers floats only; the gateway packs base64 itself when the client asks for it.
            body = {k: body[k] for k in ("model", "input", "dimensions") if k in body}
        elif req.mode == "images":
            url = f"{base}/api/paas/v4/images/generations"
            body = {"model": upstream_model, "prompt": body.get("prompt"), "user_id": body.get("user")}
            body = {k: v for k, v in body.items() if v is not None}
        elif req.mode != "chat":
            raise unsupported_mode(PROVIDER, req.mode)
        elif is_v4(upstream_model):
            url = f"{base}/api/paas/v4/chat/completions"
            reset = self._v4_chat_body(body)
        else:
            method = "sse-invoke" if req.stream else "invoke"
            url = f"{base}/api/paas/v3/model-api/{upstream_model}/{method}"
            body, reset = self._v3_chat_body(body), bool(self.channel.system_prompt)
        if req.stream:
            headers["Accept"] = "text/event-stream"
        return UpstreamRequest("POST", url, headers, orjson.dumps(body), system_prompt_reset=reset)

    def _v4_chat_body(self, body: dict) -> bool:
        """OpenAI body with Zhipu's ranges: temperature [0, 1], top_p [0.01, 1], tool_choice auto only."""
        reject_fields(body, PROVIDER, ("n", "logprobs"))
        choice = body.get("tool_choice")
        if choice == "none":
            body.pop("tools", None)  # "call no tool" is exactly "offer no tools"
            body.pop("tool_choice")
        elif choice not in (None, "auto"):
            raise unsupported(PROVIDER, "tool_choice")
        if "temperature" in body:
            body["temperature"] = _clamp(body["temperature"], 0.0, 1.0)
        if "top_p" in body:
            body["top_p"] = _clamp(body["top_p"], 0.01, 1.0)
        if self.channel.system_prompt:
            apply_system_prompt(body, self.channel.system_prompt)
            return True
        return False

    def _v3_chat_body(self, body: dict) -> dict:
        reject_fields(body, PROVIDER, ("tools", "functions", "tool_choice", "n", "stop", "response_format"))
        if has_images(body.get("messages") or ()):
            raise unsupported(PROVIDER, "image_url")
        if self.channel.system_prompt:
            apply_system_prompt(body, self.channel.system_prompt)
        prompt = [
            {"role": m.get("role"), "content": message_text(m.get("content"))} for m in body["messages"]
        ]
        v3: dict = {"prompt": prompt, "incremental": True}
        for name, low, high in (("temperature", 0.0, 1.0), ("top_p", 0.0, 1.0)):
            if body.get(name) is not None:
                v3[name] = _clamp(body[name], low, high)
        return v3

    # --- answers ---------------------------------------------------------------------------------------

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = json_object(body, PROVIDER)
        if "success" in payload:
            return self._v3_response(payload, req)
        if isinstance(payload.get("error"), dict):
            error = payload["error"]
            raise zhipu_error(status, error.get("code"), str(error.get("message") or ""))
        if req.mode == "embeddings":
            return self._embeddings(req, body, payload)
        if req.mode != "chat":
            return body, usage_from(payload.get("usage"))
        changed = False
        for choice in payload.get("choices") or ():
            reason = choice.get("finish_reason") if isinstance(choice, dict) else None
            if reason == "network_error":
                raise _network_error(retryable=True)
            if reason in FINISH_REASONS:
                choice["finish_reason"] = FINISH_REASONS[reason]
                changed = True
        return (orjson.dumps(payload) if changed else body), usage_from(payload.get("usage"))

    def _embeddings(self, req: RelayRequest, body: bytes, payload: dict) -> tuple[bytes, Usage | None]:
        usage = usage_from(payload.get("usage"))
        if (req.body or {}).get("encoding_format") != "base64":
            return body, usage
        vectors = [
            (d.get("index", i), d.get("embedding") or []) for i, d in enumerate(payload.get("data") or [])
        ]
        return embedding_list(str(payload.get("model") or req.model), vectors, usage, "base64"), usage

    def _v3_response(self, payload: dict, req: RelayRequest) -> tuple[bytes, Usage | None]:
        if not payload.get("success"):
            raise zhipu_error(200, payload.get("code"), str(payload.get("msg") or ""))
        data = payload.get("data") or {}
        choices = data.get("choices") or []
        content = "".join(_v3_text(c.get("content")) for c in choices if isinstance(c, dict))
        usage = usage_from(data.get("usage"))
        task = data.get("task_id") or data.get("request_id")
        answer = chat_completion(
            model=getattr(self, "_model", "") or req.model,
            content=content,
            finish_reason="stop",
            usage=usage,
            completion_id=f"chatcmpl-{task}" if task else "",
        )
        return answer, usage

    def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        if "/api/paas/v3/" in response.request.url.path:
            return v3_events(response)
        return super().stream_events(response)

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if is_v4(state.model):
            return self._v4_event(data, state)
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_response("Zhipu sent a malformed stream event")
            return []
        writer = self._writer(state)
        name, text = event.get("event") or "add", event.get("data") or ""
        if name == "add":
            return writer.text(state, text)
        if name == "finish":
            out = writer.text(state, text)
            meta = _meta(event.get("meta"))
            if (usage := usage_from(meta.get("usage"))) is not None:
                state.usage = usage
            state.done = True
            return out + writer.finish(state, "stop")
        if name in ("error", "interrupted"):
            message = f"Zhipu stream {name}: {text}" if text else f"Zhipu stream {name}"
            state.error = RelayError(502, message, type="upstream_error", code=f"stream_{name}")
            return []
        state.error = bad_response(f"Zhipu sent an unknown stream event {name!r}")
        return []

    def _v4_event(self, data: str, state: StreamState) -> list[bytes]:
        out = super().parse_stream_event(data, state)
        if not out or state.error is not None:
            return out
        chunk = orjson.loads(out[0])
        reasons = [c.get("finish_reason") for c in chunk.get("choices") or () if isinstance(c, dict)]
        if "network_error" in reasons:
            state.error = _network_error(retryable=False)
            return []
        if not any(r in FINISH_REASONS for r in reasons):
            return out
        for choice in chunk["choices"]:
            choice["finish_reason"] = FINISH_REASONS.get(
                choice.get("finish_reason"), choice.get("finish_reason")
            )
        return [orjson.dumps(chunk)]

    def _writer(self, state: StreamState) -> ChunkWriter:
        writer = getattr(self, "_chunks", None)
        if writer is None:
            writer = self._chunks = ChunkWriter(model=state.model)
        return writer

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict):
            error = payload.get("error")
            if isinstance(error, dict):
                return zhipu_error(status, error.get("code"), str(error.get("message") or ""))
            if "success" in payload:
                return zhipu_error(status, payload.get("code"), str(payload.get("msg") or ""))
        return super().map_error(status, body)


def _network_error(*, retryable: bool) -> RelayError:
    message = "Zhipu inference failed (finish_reason network_error)"
    return RelayError(502, message, type="upstream_error", code="network_error", retryable=retryable)


def _v3_text(content: object) -> str:
    """v3 returns the answer as a JSON string literal (``"\\"Hi\\""``); decode it, or trim the quotes."""
    if not isinstance(content, str):
        return ""
    if len(content) >= 2 and content[0] == content[-1] == '"':
        try:
            decoded = orjson.loads(content)
        except orjson.JSONDecodeError:
            return content.strip('"')
        return decoded if isinstance(decoded, str) else content.strip('"')
    return content


def _meta(raw: object) -> dict:
    if not isinstance(raw, str) or not raw:
        return {}
    try:
        meta = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


class _MetaDecoder(SSEDecoder):
    """httpx-sse's event decoder, keeping the ``meta:`` field Zhipu v3 puts on its finish event."""

    def __init__(self) -> None:
        super().__init__()
        self.meta = ""

    def decode_event(self, line: str) -> str | None:
        if line.startswith("meta:"):
            self.meta = line[5:].removeprefix(" ")
            return None
        sse = self.decode(line)
        if sse is None:
            return None
        meta, self.meta = self.meta, ""
        return orjson.dumps({"event": sse.event, "data": sse.data, "meta": meta}).decode()


async def v3_events(response: httpx.Response) -> AsyncIterator[str]:
    """Each v3 event as JSON ``{"event", "data", "meta"}`` for ``parse_stream_event``."""
    lines, decoder = SSELineDecoder(), _MetaDecoder()
    async for text in response.aiter_text():
        for line in lines.decode(text):
            if (event := decoder.decode_event(line.rstrip("\n"))) is not None:
                yield event
    for line in [*lines.flush(), ""]:
        if (event := decoder.decode_event(line)) is not None:
            yield event
