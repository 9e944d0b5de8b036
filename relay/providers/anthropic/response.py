"""Anthropic Messages answers, stream events and errors → OpenAI shapes (pure; Bedrock and Vertex reuse it)."""

from __future__ import annotations

import time

import orjson

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status, should_disable_channel
from relay.providers.base import StreamState

# https://docs.anthropic.com/en/api/messages#response-stop-reason
FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# https://docs.anthropic.com/en/api/errors — error type → (status for the client, retry elsewhere?, disable?)
ERROR_TYPES = {
    "invalid_request_error": (400, False, False),
    "authentication_error": (401, True, True),
    "billing_error": (402, True, True),
    "permission_error": (403, True, True),
    "not_found_error": (404, True, False),
    "request_too_large": (413, False, False),
    "rate_limit_error": (429, True, False),
    "api_error": (500, True, False),
    "timeout_error": (504, True, False),
    "overloaded_error": (503, True, False),  # HTTP 529, which OpenAI clients do not know
}
LOW_BALANCE = "credit balance is too low"

# Stream events that carry nothing for an OpenAI client.
_QUIET_EVENTS = {"ping", "content_block_stop"}


def finish_reason(stop_reason: object) -> str | None:
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else None


def usage_of(usage: object) -> Usage | None:
    """Anthropic usage → ours: cache writes and reads are prompt tokens too; reads are the cached ones."""
    if not isinstance(usage, dict):
        return None
    fresh = int(usage.get("input_tokens") or 0)
    written = int(usage.get("cache_creation_input_tokens") or 0)
    read = int(usage.get("cache_read_input_tokens") or 0)
    return Usage(fresh + written + read, int(usage.get("output_tokens") or 0), cached_tokens=read)


def tool_call(block: dict) -> dict:
    arguments = orjson.dumps(block.get("input") or {}).decode()
    return {
        "id": block.get("id", ""),
        "type": "function",
        "function": {"name": block.get("name", ""), "arguments": arguments},
    }


def chat_completion(payload: dict, model: str) -> tuple[dict, Usage | None]:
    """A Messages API answer → (OpenAI chat.completion, usage)."""
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[dict] = []
    for block in payload.get("content") or ():
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "tool_use":
            calls.append(tool_call(block))
        elif kind == "thinking":
            thoughts.append(block.get("thinking") or "")
    message: dict = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if thoughts:
        message["reasoning_content"] = "".join(thoughts)
    if calls:
        message["tool_calls"] = calls
    usage = usage_of(payload.get("usage"))
    answer = {
        "id": f"chatcmpl-{payload.get('id', '')}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": payload.get("model") or model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": finish_reason(payload.get("stop_reason"))}
        ],
    }
    if usage is not None:
        answer["usage"] = usage.as_openai()
    return answer, usage


def anthropic_error(status: int, payload: object, fallback: str = "") -> RelayError:
    """An Anthropic error (``{"type":"error","error":{"type","message"}}``) → RelayError with its consequence."""
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    kind = str(error.get("type") or "upstream_error")
    message = str(error.get("message") or fallback or f"bad response status code {status}")
    if kind in ERROR_TYPES:
        mapped, retryable, disable = ERROR_TYPES[kind]
        status = status if status >= 400 and status != 529 else mapped  # HTTP-200 errors get a real status
    else:
        status = status if status >= 400 else 500
        retryable = is_retryable_status(status)
        disable = should_disable_channel(status, kind, kind, message)
    if LOW_BALANCE in message.lower():  # sent as a 400 invalid_request_error
        retryable, disable = True, True
    return RelayError(
        status=status, message=message, type=kind, code=kind, retryable=retryable, disable_channel=disable
    )


def error_from_body(status: int, body: bytes) -> RelayError:
    try:
        payload = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        payload = None
    fallback = "" if payload is not None else body[:200].decode("utf-8", "replace").strip()
    return anthropic_error(status, payload, fallback)


def bad_stream(message: str) -> RelayError:
    return RelayError(502, message, type="upstream_error", code="bad_response")


class StreamTranslator:
    """Anthropic stream events → OpenAI chunks for one stream; remembers ids, tool indexes and usage."""

    def __init__(self, model: str) -> None:
        self.id = ""
        self.model = model
        self.created = int(time.time())
        self.tool_index: dict[int, int] = {}  # content block index → OpenAI tool_calls index
        self.raw_usage: dict = {}  # the latest count of each Anthropic usage field
        self.usage: Usage | None = None

    def update_usage(self, fields: object) -> None:
        if isinstance(fields, dict):
            self.raw_usage.update({k: v for k, v in fields.items() if isinstance(v, int)})
            self.usage = usage_of(self.raw_usage)

    def chunk(self, delta: dict, finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return orjson.dumps(
            {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [choice],
            }
        )

    def translate(self, event: object, state: StreamState) -> list[bytes]:
        kind = event.get("type") if isinstance(event, dict) else None
        handler = getattr(self, f"_on_{kind}", None) if isinstance(kind, str) else None
        if handler is not None:
            return handler(event, state)
        if kind not in _QUIET_EVENTS:
            state.error = bad_stream(f"upstream sent an unknown stream event {kind!r}")
        return []

    def _on_message_start(self, event: dict, state: StreamState) -> list[bytes]:
        message = event.get("message") or {}
        self.id = f"chatcmpl-{message.get('id', '')}"
        self.model = message.get("model") or self.model
        self.update_usage(message.get("usage"))
        return [self.chunk({"role": "assistant", "content": ""})]

    def _on_content_block_start(self, event: dict, state: StreamState) -> list[bytes]:
        block = event.get("content_block") or {}
        if block.get("type") == "tool_use":
            index = self.tool_index.setdefault(int(event.get("index") or 0), len(self.tool_index))
            call = {**tool_call(block), "index": index}
            call["function"]["arguments"] = ""  # the input arrives as input_json_delta fragments
            state.add_text(block.get("name", ""))
            return [self.chunk({"tool_calls": [call]})]
        if block.get("type") == "text" and block.get("text"):
            state.add_text(block["text"])
            return [self.chunk({"content": block["text"]})]
        return []

    def _on_content_block_delta(self, event: dict, state: StreamState) -> list[bytes]:
        delta = event.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            state.add_text(delta.get("text") or "")
            return [self.chunk({"content": delta.get("text") or ""})]
        if kind == "input_json_delta":
            fragment = delta.get("partial_json") or ""
            index = self.tool_index.get(int(event.get("index") or 0), 0)
            state.add_text(fragment)
            return [self.chunk({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]})]
        if kind == "thinking_delta":
            state.add_text(delta.get("thinking") or "")
            return [self.chunk({"reasoning_content": delta.get("thinking") or ""})]
        return []  # signature_delta, citations_delta: nothing an OpenAI client can show

    def _on_message_delta(self, event: dict, state: StreamState) -> list[bytes]:
        self.update_usage(event.get("usage"))  # cumulative; newer API versions repeat the input counts
        if self.usage is not None:
            state.usage = self.usage
        reason = finish_reason((event.get("delta") or {}).get("stop_reason"))
        if reason is None:
            return []
        state.finished = True
        return [self.chunk({}, reason)]

    def _on_message_stop(self, event: dict, state: StreamState) -> list[bytes]:
        state.done = True
        if self.usage is not None:
            state.usage = self.usage
        if state.hide_usage or self.usage is None:
            return []
        return [orjson.dumps({"id": self.id, "object": "chat.completion.chunk", "created": self.created,
                              "model": self.model, "choices": [], "usage": self.usage.as_openai()})]  # fmt: skip

    def _on_error(self, event: dict, state: StreamState) -> list[bytes]:
        state.error = anthropic_error(200, event)
        return []
