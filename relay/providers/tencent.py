"""Tencent Hunyuan (channel type 23): TencentCloud API 3.0, TC3-HMAC-SHA256 signed, PascalCase bodies.

Key ``AppId|SecretId|SecretKey``. ``POST <base>/`` with ``X-TC-Action: ChatCompletions`` (``GetEmbedding`` for
embeddings) and ``X-TC-Version: 2023-09-01``. Answers come wrapped in ``Response``; stream chunks are not.
Errors arrive with HTTP 200 as ``Response.Error`` and become proper statuses here.

The signature is written out below (~30 lines, Tencent's documented algorithm) rather than pulled in with the
tencentcloud SDK, which is a large dependency for one HMAC chain.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import orjson

from billing.usage import Usage
from relay.errors import RelayError, upstream_error
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.openai import apply_system_prompt
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    embedding_list,
    image_urls,
    json_object,
    message_text,
    new_call_id,
    new_id,
    reject_fields,
    unsupported,
    unsupported_mode,
)
from relay.schemas import RelayRequest

PROVIDER = "Tencent Hunyuan"
SERVICE = "hunyuan"
API_VERSION = "2023-09-01"
CANONICAL_HOST = "hunyuan.tencentcloudapi.com"

# https://cloud.tencent.com/document/api/1729/105701 — FinishReason
FINISH_REASONS = {
    "stop": "stop",
    "tool_calls": "tool_calls",
    "sensitive": "content_filter",
    "length": "length",
}

# https://cloud.tencent.com/document/api/1729/101838 and /101842 (common errors) — code prefix ->
# (HTTP status, retry on another channel?, disable the channel?); the longest matching prefix wins.
ERROR_CODES: dict[str, tuple[int, bool, bool]] = {
    "AuthFailure": (401, True, True),
    "AuthFailure.SignatureExpire": (401, True, False),  # our clock, not the key
    "UnauthorizedOperation": (403, True, True),
    "ResourceUnavailable": (403, True, True),  # InArrears, LowBalance, NotExist...
    "ResourceInsufficient": (403, True, True),  # ChargeResourceExhaust
    "FailedOperation.ServiceNotActivated": (403, True, True),
    "FailedOperation.ServiceStop": (403, True, True),
    "FailedOperation.ServiceStopArrears": (403, True, True),
    "FailedOperation.FreeResourcePackExhausted": (403, True, True),
    "FailedOperation.ResourcePackExhausted": (403, True, True),
    "LimitExceeded": (429, True, False),
    "RequestLimitExceeded": (429, True, False),
    "OperationDenied": (400, False, False),  # TextIllegalDetected, ImageIllegalDetected
    "InvalidParameter": (400, False, False),
    "InvalidParameterValue": (400, False, False),
    "InvalidParameterValue.Model": (404, True, False),
    "MissingParameter": (400, False, False),
    "UnknownParameter": (400, False, False),
    "FailedOperation.EngineRequestTimeout": (504, True, False),
    "FailedOperation": (500, True, False),
    "InternalError": (500, True, False),
}


def tencent_error(error: dict) -> RelayError:
    code = str(error.get("Code") or "")
    prefixes = [p for p in ERROR_CODES if code == p or code.startswith(p + ".")]
    status, retry, disable = ERROR_CODES[max(prefixes, key=len)] if prefixes else (500, True, False)
    message = str(error.get("Message") or f"Hunyuan error {code}")
    return RelayError(
        status, message, type="upstream_error", code=code, retryable=retry, disable_channel=disable
    )


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def tc3_authorization(
    secret_id: str, secret_key: str, host: str, action: str, body: bytes, timestamp: int
) -> str:
    """TC3-HMAC-SHA256 (https://cloud.tencent.com/document/api/1729/101843) for a JSON POST to ``/``."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signed_headers = "content-type;host;x-tc-action"
    canonical_headers = f"content-type:application/json\nhost:{host}\nx-tc-action:{action.lower()}\n"
    canonical_request = f"POST\n/\n\n{canonical_headers}\n{signed_headers}\n{_sha256(body)}"
    scope = f"{date}/{SERVICE}/tc3_request"
    string_to_sign = f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{_sha256(canonical_request.encode())}"
    signing_key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), SERVICE), "tc3_request")
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


def signed_host(base_url: str) -> str:
    """Tencent's own hosts sign as themselves; a proxy in front forwards to (and is signed for) the default."""
    host = urlsplit(base_url).hostname or ""
    return host if host.endswith(".tencentcloudapi.com") else CANONICAL_HOST


def chat_body(body: dict, model: str, stream: bool) -> dict:
    reject_fields(body, PROVIDER, ("n", "stop", "response_format", "logprobs", "functions"))
    out: dict = {"Model": model, "Messages": [_message(m) for m in body["messages"]], "Stream": stream}
    if body.get("temperature") is not None:
        out["Temperature"] = min(max(float(body["temperature"]), 0.0), 2.0)
    if body.get("top_p") is not None:
        out["TopP"] = min(max(float(body["top_p"]), 0.0), 1.0)
    tools = [
        t for t in body.get("tools") or () if isinstance(t, dict) and t.get("type", "function") == "function"
    ]
    if tools:
        out["Tools"] = [_tool(t.get("function") or {}) for t in tools]
        choice = body.get("tool_choice")
        if isinstance(choice, dict):
            name = (choice.get("function") or {}).get("name")
            chosen = [t for t in out["Tools"] if t["Function"]["Name"] == name]
            if not chosen:
                raise unsupported(PROVIDER, "tool_choice")
            out.update(ToolChoice="custom", CustomTool=chosen[0])
        elif choice in ("none", "auto"):
            out["ToolChoice"] = choice
        elif choice is not None:
            raise unsupported(PROVIDER, "tool_choice")
    return out


def _tool(function: dict) -> dict:
    parameters = function.get("parameters") or {"type": "object", "properties": {}}
    spec = {"Name": function.get("name") or "", "Parameters": orjson.dumps(parameters).decode()}
    if function.get("description"):
        spec["Description"] = function["description"]
    return {"Type": "function", "Function": spec}


def _message(message: dict) -> dict:
    role = "system" if message.get("role") == "developer" else str(message.get("role") or "user")
    content = message.get("content")
    out: dict = {"Role": role}
    if urls := image_urls(content):
        text = message_text(content)
        out["Contents"] = [
            *([{"Type": "text", "Text": text}] if text else []),
            *({"Type": "image_url", "ImageUrl": {"Url": u}} for u in urls),
        ]
    else:
        out["Content"] = message_text(content)
    if role == "tool" and message.get("tool_call_id"):
        out["ToolCallId"] = message["tool_call_id"]
    if calls := message.get("tool_calls"):
        out["ToolCalls"] = [
            {
                "Id": c.get("id") or "",
                "Type": "function",
                "Function": {
                    "Name": (c.get("function") or {}).get("name") or "",
                    "Arguments": (c.get("function") or {}).get("arguments") or "{}",
                },
            }
            for c in calls
            if isinstance(c, dict)
        ]
    return out


def embedding_body(body: dict) -> dict:
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise unsupported(PROVIDER, "input")
    return {"InputList": texts}


def stream_delta(delta_in: dict, state: StreamState) -> dict:
    """One streamed ``Delta`` as an OpenAI delta; its text is counted into ``state``."""
    delta: dict = {}
    if text := delta_in.get("Content"):
        delta["content"] = text
        state.add_text(text)
    if reasoning := delta_in.get("ReasoningContent"):
        delta["reasoning_content"] = reasoning
        state.add_text(reasoning)
    if calls := tool_calls_of(delta_in, stream=True):
        delta["tool_calls"] = calls
        for call in calls:
            state.add_text(call["function"].get("arguments") or "")
    return delta


def usage_of(payload: dict) -> Usage | None:
    usage = payload.get("Usage")
    if not isinstance(usage, dict):
        return None
    return Usage(int(usage.get("PromptTokens") or 0), int(usage.get("CompletionTokens") or 0))


def tool_calls_of(message: dict, stream: bool = False) -> list[dict]:
    calls = []
    for position, call in enumerate(message.get("ToolCalls") or ()):
        function = call.get("Function") or {}
        out: dict = {"index": call.get("Index", position)} if stream else {}
        if call.get("Id") or not stream:
            out.update(id=call.get("Id") or new_call_id(), type="function")
        fragment = {"name": function.get("Name"), "arguments": function.get("Arguments")}
        out["function"] = {k: v for k, v in fragment.items() if v is not None}
        if not stream:
            out["function"].setdefault("arguments", "{}")
        calls.append(out)
    return calls


class TencentAdaptor(Adaptor):
    name = "tencent"

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        _, secret_id, secret_key = (self.channel.key.split("|") + ["", "", ""])[:3]
        if not secret_id or not secret_key:
            raise RelayError(
                401,
                "Tencent key must look like AppId|SecretId|SecretKey",
                code="invalid_api_key",
                disable_channel=True,
            )
        body = dict(req.body or {})
        reset = False
        if req.mode == "chat":
            action = "ChatCompletions"
            if self.channel.system_prompt:
                apply_system_prompt(body, self.channel.system_prompt)
                reset = True
            payload = chat_body(body, upstream_model, req.stream)
        elif req.mode == "embeddings":
            action, payload = "GetEmbedding", embedding_body(body)
        else:
            raise unsupported_mode(PROVIDER, req.mode)
        base = (self.channel.base_url or self.info.base_url).rstrip("/")
        content = orjson.dumps(payload)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-TC-Action": action,
            "X-TC-Version": API_VERSION,
            "X-TC-Timestamp": str(timestamp),
            "Authorization": tc3_authorization(
                secret_id, secret_key, signed_host(base), action, content, timestamp
            ),
        }
        if region := self.channel.config.get("region"):
            headers["X-TC-Region"] = str(region)
        return UpstreamRequest("POST", base + "/", headers, content, system_prompt_reset=reset)

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        response = json_object(body, PROVIDER).get("Response")
        if not isinstance(response, dict):
            raise bad_response("Hunyuan answered without a Response object")
        if isinstance(response.get("Error"), dict):
            raise tencent_error(response["Error"])
        usage = usage_of(response)
        if req.mode == "embeddings":
            data = response.get("Data") or []
            vectors = [(d.get("Index", i), d.get("Embedding") or []) for i, d in enumerate(data)]
            return embedding_list(req.model, vectors, usage, (req.body or {}).get("encoding_format")), usage
        choices = []
        for index, choice in enumerate(response.get("Choices") or ()):
            message = choice.get("Message") or {}
            out: dict = {"role": "assistant", "content": message.get("Content") or ""}
            if message.get("ReasoningContent"):
                out["reasoning_content"] = message["ReasoningContent"]
            if calls := tool_calls_of(message):
                out["tool_calls"] = calls
            reason = choice.get("FinishReason")
            choices.append(
                {
                    "index": choice.get("Index", index),
                    "message": out,
                    "finish_reason": FINISH_REASONS.get(reason, reason or "stop"),
                }
            )
        if not choices:
            raise bad_response("Hunyuan answered without choices")
        answer = {
            "id": f"chatcmpl-{response.get('Id') or response.get('RequestId') or new_id()}",
            "object": "chat.completion",
            "created": int(response.get("Created") or time.time()),
            "model": req.model,
            "choices": choices,
        }
        if usage is not None:
            answer["usage"] = usage.as_openai()
        return orjson.dumps(answer), usage

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if data == "[DONE]":
            state.done = True
            return []
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_response("Hunyuan sent a malformed stream event")
            return []
        if not isinstance(chunk, dict):
            state.error = bad_response("Hunyuan sent an unexpected stream event")
            return []
        error = (chunk.get("Response") or {}).get("Error") or chunk.get("ErrorMsg")
        if isinstance(error, dict) and (error.get("Code") or error.get("Msg")):
            state.error = tencent_error(
                {"Code": error.get("Code"), "Message": error.get("Message") or error.get("Msg")}
            )
            return []
        if (usage := usage_of(chunk)) is not None and usage.total_tokens:
            state.usage = usage  # cumulative on every chunk
        writer = getattr(self, "_chunks", None) or ChunkWriter(model=state.model)
        if chunk.get("Id") and not writer.role_sent:
            writer.id = f"chatcmpl-{chunk['Id']}"
        self._chunks = writer
        out: list[bytes] = []
        for choice in chunk.get("Choices") or ():
            if delta := stream_delta(choice.get("Delta") or {}, state):
                out.append(writer.chunk(delta))
            if reason := choice.get("FinishReason"):
                out += writer.finish(state, FINISH_REASONS.get(reason, reason))
        return out

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        response = payload.get("Response") if isinstance(payload, dict) else None
        if isinstance(response, dict) and isinstance(response.get("Error"), dict):
            return tencent_error(response["Error"])
        return upstream_error(status, body)
