"""Baidu Qianfan v1 / ERNIE (channel type 15): access-token exchange, wenxinworkshop chat and embeddings.

The key ``APIKey|SecretKey`` is exchanged at ``<base>/oauth/2.0/token`` for an access token (30 days), cached
per key until an hour before it expires. Chat goes to ``<base>/rpc/2.0/ai_custom/v1/wenxinworkshop/chat/
<endpoint>?access_token=``; the system prompt travels in ``system``, tools as ``functions``. Errors arrive
with HTTP 200 as ``{"error_code", "error_msg"}`` and become proper statuses here.
"""

from __future__ import annotations

import time

import httpx
import orjson

from billing.usage import Usage
from relay.errors import RelayError, upstream_error
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.openai import apply_system_prompt, usage_from
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    chat_completion,
    embedding_list,
    has_images,
    json_object,
    message_text,
    reject_fields,
    tool_call,
    unsupported,
    unsupported_mode,
)
from relay.schemas import RelayRequest

PROVIDER = "Baidu"
REFRESH_BEFORE_S = 3600
_tokens: dict[tuple[str, str], tuple[str, float]] = {}  # (token URL, key) -> (access token, expires at)

# https://cloud.baidu.com/doc/WENXINWORKSHOP/s/clntwmv7t — model -> endpoint; others use the lowercased name
CHAT_ENDPOINTS = {
    "ERNIE-4.0": "completions_pro", "ERNIE-Bot-4": "completions_pro", "ERNIE-4.0-8K": "completions_pro",
    "ERNIE-Bot": "completions", "ERNIE-3.5-8K": "completions", "ERNIE-Bot-8K": "ernie_bot_8k",
    "ERNIE-Bot-turbo": "eb-instant", "ERNIE-Lite-8K-0922": "eb-instant", "ERNIE-Lite-8K-0308": "ernie-lite-8k",
    "ERNIE-Speed": "ernie_speed", "ERNIE-Speed-8K": "ernie_speed", "ERNIE-Speed-128K": "ernie-speed-128k",
    "ERNIE-3.5-8K-0205": "ernie-3.5-8k-0205", "ERNIE-3.5-8K-1222": "ernie-3.5-8k-1222",
    "ERNIE-3.5-4K-0205": "ernie-3.5-4k-0205", "ERNIE-Tiny-8K": "ernie-tiny-8k", "BLOOMZ-7B": "bloomz_7b1",
}  # fmt: skip
# https://cloud.baidu.com/doc/WENXINWORKSHOP/s/alj562vvu — embedding models
EMBEDDING_ENDPOINTS = {
    "Embedding-V1": "embedding-v1", "bge-large-zh": "bge_large_zh", "bge-large-en": "bge_large_en",
    "tao-8k": "tao_8k",
}  # fmt: skip

# https://cloud.baidu.com/doc/WENXINWORKSHOP/s/tlmyncueh — error_code -> (HTTP status, retry elsewhere?, disable?)
ERROR_CODES: dict[int, tuple[int, bool, bool]] = {
    # The gateway's access token was refused (not the client's key): dropped here, exchanged again next time.
    110: (502, True, False), 111: (502, True, False),
    13: (401, True, True), 14: (401, True, True), 15: (401, True, True), 6: (403, True, False),
    4: (429, True, False), 17: (429, True, False), 18: (429, True, False), 19: (429, True, False),
    336501: (429, True, False), 336502: (429, True, False), 336100: (503, True, False),
    336000: (500, True, False), 336001: (400, False, False), 336002: (400, False, False),
    336003: (400, False, False), 336006: (400, False, False), 336007: (400, False, False),
    336102: (400, False, False), 336104: (400, False, False), 336105: (400, False, False),
}  # fmt: skip

# https://cloud.baidu.com/doc/WENXINWORKSHOP/s/jlil56u11 — finish_reason
FINISH_REASONS = {
    "normal": "stop", "stop": "stop", "length": "length", "content_filter": "content_filter",
    "function_call": "tool_calls",
}  # fmt: skip


def baidu_error(code: object, message: str, token_key: tuple[str, str] | None = None) -> RelayError:
    number = code if isinstance(code, int) else int(code) if str(code).isdigit() else 0
    status, retry, disable = ERROR_CODES.get(number, (400 if 336000 < number < 337000 else 500, True, False))
    if number in (110, 111) and token_key is not None:
        _tokens.pop(token_key, None)  # the next attempt exchanges the key again
    return RelayError(
        status,
        message or f"Baidu error {code}",
        type="upstream_error",
        code=number,
        retryable=retry,
        disable_channel=disable,
    )


def endpoint(model: str, mode: str) -> str:
    if mode == "embeddings":
        return "embeddings/" + EMBEDDING_ENDPOINTS.get(model, model.lower())
    return "chat/" + CHAT_ENDPOINTS.get(model, model.lower())


def chat_body(body: dict) -> dict:
    """OpenAI chat → ERNIE: system prompts into ``system``, tools into ``functions``."""
    reject_fields(body, PROVIDER, ("n", "logprobs"))
    if has_images(body["messages"]):
        raise unsupported(PROVIDER, "image_url")
    system, messages, names = [], [], {}
    for message in body["messages"]:
        role = message.get("role")
        if role in ("system", "developer"):
            system.append(message_text(message.get("content")))
        elif role == "tool":
            name = names.get(message.get("tool_call_id"), message.get("name") or "")
            messages.append(
                {"role": "function", "name": name, "content": message_text(message.get("content"))}
            )
        else:
            out = {"role": role, "content": message_text(message.get("content"))}
            if calls := message.get("tool_calls"):
                if len(calls) > 1:
                    raise unsupported(PROVIDER, "parallel tool_calls")
                function = calls[0].get("function") or {}
                names[calls[0].get("id")] = function.get("name")
                out["function_call"] = {
                    "name": function.get("name"),
                    "arguments": function.get("arguments") or "{}",
                }
            messages.append(out)
    out: dict = {"messages": messages}
    if system:
        out["system"] = "\n".join(system)
    _sampling(body, out)
    _tools(body, out)
    return out


def _sampling(body: dict, out: dict) -> None:
    def clamp(value: float, low: float, high: float) -> float:
        return min(max(float(value), low), high)

    if body.get("temperature") is not None:
        out["temperature"] = clamp(body["temperature"], 0.0001, 1.0)  # (0, 1]
    if body.get("top_p") is not None:
        out["top_p"] = clamp(body["top_p"], 0.0, 1.0)
    if body.get("frequency_penalty") is not None:
        out["penalty_score"] = clamp(body["frequency_penalty"], 1.0, 2.0)  # as one-api: [1, 2]
    if max_tokens := body.get("max_completion_tokens") or body.get("max_tokens"):
        out["max_output_tokens"] = max_tokens
    if stop := body.get("stop"):
        out["stop"] = [stop] if isinstance(stop, str) else stop
    if body.get("user"):
        out["user_id"] = body["user"]
    if body.get("stream"):
        out["stream"] = True
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") not in (None, "text"):
        if fmt["type"] != "json_object":
            raise unsupported(PROVIDER, "response_format")
        out["response_format"] = "json_object"


def _tools(body: dict, out: dict) -> None:
    tools = [t.get("function") or {} for t in body.get("tools") or () if isinstance(t, dict)]
    tools += list(body.get("functions") or ())
    choice = body.get("tool_choice", body.get("function_call"))
    if not tools or choice == "none":
        return
    out["functions"] = [{k: f[k] for k in ("name", "description", "parameters") if k in f} for f in tools]
    if isinstance(choice, dict):
        name = (choice.get("function") or choice).get("name")
        out["tool_choice"] = {"type": "function", "function": {"name": name}}
    elif choice not in (None, "auto"):
        raise unsupported(PROVIDER, "tool_choice")


def usage_of(payload: dict) -> Usage | None:
    return usage_from(payload.get("usage"))


def _tool_calls(payload: dict) -> list[dict]:
    function = payload.get("function_call")
    if not isinstance(function, dict) or not function.get("name"):
        return []
    return [
        tool_call(f"call_{payload.get('id') or ''}".rstrip("_"), function["name"], function.get("arguments"))
    ]


class BaiduAdaptor(Adaptor):
    name = "baidu"

    def _base(self) -> str:
        return (self.channel.base_url or self.info.base_url or "https://aip.baidubce.com").rstrip("/")

    def _token_key(self) -> tuple[str, str]:
        return (self._base() + "/oauth/2.0/token", self.channel.key)

    async def prepare(self, client: httpx.AsyncClient) -> None:
        """Exchange ``APIKey|SecretKey`` for an access token unless a cached one has an hour left."""
        key = self._token_key()
        cached = _tokens.get(key)
        if cached is not None and cached[1] - time.time() > REFRESH_BEFORE_S:
            return
        api_key, _, secret = self.channel.key.partition("|")
        if not api_key or not secret:
            raise RelayError(
                401, "Baidu key must look like APIKey|SecretKey", code="invalid_api_key", disable_channel=True
            )
        params = {"grant_type": "client_credentials", "client_id": api_key, "client_secret": secret}
        try:
            response = await client.post(key[0], params=params, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            message = f"Baidu token exchange failed: {exc.__class__.__name__}"
            raise RelayError(
                502, message, type="upstream_error", code="do_request_failed", retryable=True
            ) from None
        payload = json_object(response.content, "Baidu token exchange")
        if not payload.get("access_token"):
            message = (
                f"{payload.get('error') or response.status_code}: {payload.get('error_description') or ''}"
            )
            raise RelayError(
                401,
                f"Baidu token exchange failed ({message.rstrip(': ')})",
                type="upstream_error",
                code="invalid_api_key",
                retryable=True,
                disable_channel=True,
            )
        _tokens[key] = (payload["access_token"], time.time() + float(payload.get("expires_in") or 86400))

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        if req.mode not in ("chat", "embeddings"):
            raise unsupported_mode(PROVIDER, req.mode)
        cached = _tokens.get(self._token_key())
        if cached is None:
            raise RelayError(500, "Baidu access token missing (prepare() was not called)", code="no_token")
        body = dict(req.body or {})
        reset = False
        if req.mode == "chat":
            if self.channel.system_prompt:
                apply_system_prompt(body, self.channel.system_prompt)
                reset = True
            payload = chat_body(body)
        else:
            texts = body.get("input")
            payload = {"input": [texts] if isinstance(texts, str) else texts}
            if not all(isinstance(t, str) for t in payload["input"]):
                raise unsupported(PROVIDER, "input")
        url = f"{self._base()}/rpc/2.0/ai_custom/v1/wenxinworkshop/{endpoint(upstream_model, req.mode)}"
        headers = {"Content-Type": "application/json"}
        if req.stream:
            headers["Accept"] = "text/event-stream"
        return UpstreamRequest(
            "POST",
            f"{url}?access_token={cached[0]}",
            headers,
            orjson.dumps(payload),
            system_prompt_reset=reset,
        )

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = json_object(body, PROVIDER)
        if payload.get("error_code"):
            raise baidu_error(payload["error_code"], str(payload.get("error_msg") or ""), self._token_key())
        usage = usage_of(payload)
        if req.mode == "embeddings":
            vectors = [
                (d.get("index", i), d.get("embedding") or []) for i, d in enumerate(payload.get("data") or [])
            ]
            return embedding_list(req.model, vectors, usage, (req.body or {}).get("encoding_format")), usage
        if "result" not in payload and "function_call" not in payload:
            raise bad_response("Baidu answered without a result")
        calls = _tool_calls(payload)
        reason = FINISH_REASONS.get(payload.get("finish_reason"), "stop")
        answer = chat_completion(
            model=req.model,
            content=payload.get("result") or "",
            usage=usage,
            finish_reason="tool_calls" if calls else reason,
            tool_calls=calls,
            completion_id=f"chatcmpl-{payload['id']}" if payload.get("id") else "",
            created=int(payload.get("created") or 0),
        )
        return answer, usage

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_response("Baidu sent a malformed stream event")
            return []
        if not isinstance(event, dict):
            state.error = bad_response("Baidu sent an unexpected stream event")
            return []
        if event.get("error_code"):
            state.error = baidu_error(
                event["error_code"], str(event.get("error_msg") or ""), self._token_key()
            )
            return []
        writer = self._writer(state, event)
        out = writer.text(state, str(event.get("result") or ""))
        if calls := _tool_calls(event):
            state.add_text(calls[0]["function"]["arguments"])
            out.append(writer.chunk({"tool_calls": [{"index": 0, **calls[0]}]}))
        if (usage := usage_of(event)) is not None and usage.total_tokens:
            state.usage = usage
        if event.get("is_end"):
            state.done = True
            reason = "tool_calls" if calls else FINISH_REASONS.get(event.get("finish_reason"), "stop")
            out += writer.finish(state, reason)
        return out

    def _writer(self, state: StreamState, event: dict) -> ChunkWriter:
        writer = getattr(self, "_chunks", None)
        if writer is None:
            writer = self._chunks = ChunkWriter(model=state.model)
            if event.get("id"):
                writer.id = f"chatcmpl-{event['id']}"
        return writer

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict) and payload.get("error_code"):
            return baidu_error(payload["error_code"], str(payload.get("error_msg") or ""), self._token_key())
        return upstream_error(status, body)
