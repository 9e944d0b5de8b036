"""Gemini answers → OpenAI ``chat.completion`` / ``chat.completion.chunk`` / embedding lists and errors.

Pure (no I/O, no Django): the Gemini adaptor and Gemini-on-Vertex read their answers with these functions.
https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse
"""

from __future__ import annotations

import base64
import struct
import time
import uuid
from dataclasses import dataclass, field

import orjson

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status, should_disable_channel
from relay.providers.base import StreamState

# https://ai.google.dev/api/generate-content#FinishReason
FINISH_REASONS = {
    "STOP": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
    "OTHER": "stop",
    "RECITATION": "stop",
    "MALFORMED_FUNCTION_CALL": "stop",
    "UNEXPECTED_TOOL_CALL": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "LANGUAGE": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}

# https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes — (status, retryable, disable channel)
# by ErrorInfo reason first, then by the canonical status. A bad key is a 400 at Google; we say 401.
_ERRORS_BY_REASON = {
    "API_KEY_INVALID": (401, True, True),
    "API_KEY_SERVICE_BLOCKED": (403, True, True),
    "SERVICE_DISABLED": (403, True, True),
    "CONSUMER_SUSPENDED": (403, True, True),
}
_ERRORS_BY_STATUS = {
    "UNAUTHENTICATED": (401, True, True),
    "PERMISSION_DENIED": (403, True, True),
    "RESOURCE_EXHAUSTED": (429, True, False),
    "NOT_FOUND": (404, True, False),
    "INVALID_ARGUMENT": (400, False, False),
    "FAILED_PRECONDITION": (400, True, False),  # e.g. "User location is not supported": another channel may
    "INTERNAL": (500, True, False),
    "UNAVAILABLE": (503, True, False),
    "DEADLINE_EXCEEDED": (504, True, False),
}


def bad_response(message: str) -> RelayError:
    return RelayError(502, message, type="upstream_error", code="bad_response", retryable=True)


def completion_id(payload: dict) -> str:
    return f"chatcmpl-{payload.get('responseId') or uuid.uuid4().hex}"


def call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def usage_from_metadata(meta: object) -> Usage | None:
    """``usageMetadata`` → Usage: thoughts count as completion (and reasoning), cached content as cached."""
    if not isinstance(meta, dict) or not ("promptTokenCount" in meta or "candidatesTokenCount" in meta):
        return None
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    return Usage(
        prompt_tokens=int(meta.get("promptTokenCount") or 0) + int(meta.get("toolUsePromptTokenCount") or 0),
        completion_tokens=int(meta.get("candidatesTokenCount") or 0) + thoughts,
        cached_tokens=int(meta.get("cachedContentTokenCount") or 0),
        reasoning_tokens=thoughts,
    )


@dataclass(slots=True)
class CandidateParts:
    text: str = ""
    thoughts: str = ""
    calls: list[dict] = field(default_factory=list)


def candidate_parts(candidate: dict) -> CandidateParts:
    """Text (thought parts apart) and function calls as OpenAI tool calls with generated ids."""
    out = CandidateParts()
    content = candidate.get("content") if isinstance(candidate.get("content"), dict) else {}
    for part in content.get("parts") or ():
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            arguments = orjson.dumps(call.get("args") or {}).decode()
            function = {"name": str(call.get("name") or ""), "arguments": arguments}
            out.calls.append(
                {"id": str(call.get("id") or call_id()), "type": "function", "function": function}
            )
        elif isinstance(part.get("text"), str):
            if part.get("thought"):
                out.thoughts += part["text"]
            else:
                out.text += part["text"]
    return out


def finish_reason(candidate: dict, has_calls: bool) -> str | None:
    reason = candidate.get("finishReason")
    if not reason:
        return None
    mapped = FINISH_REASONS.get(str(reason), "stop")
    # Gemini says STOP after a function call; OpenAI clients wait for "tool_calls".
    return "tool_calls" if has_calls and mapped == "stop" else mapped


def chat_response(payload: dict, model: str) -> tuple[dict, Usage | None]:
    """A ``GenerateContentResponse`` → (OpenAI chat.completion, usage or None). Raises on errors."""
    if "error" in payload:
        raise gemini_error(500, payload)
    usage = usage_from_metadata(payload.get("usageMetadata"))
    candidates = [c for c in payload.get("candidates") or () if isinstance(c, dict)]
    choices = []
    for position, candidate in enumerate(candidates):
        parts = candidate_parts(candidate)
        message: dict = {
            "role": "assistant",
            "content": parts.text if parts.text or not parts.calls else None,
        }
        if parts.thoughts:
            message["reasoning_content"] = parts.thoughts
        if parts.calls:
            message["tool_calls"] = parts.calls
        reason = finish_reason(candidate, bool(parts.calls)) or ("tool_calls" if parts.calls else "stop")
        choices.append(
            {"index": candidate.get("index", position), "message": message, "finish_reason": reason}
        )
    if not choices:
        if not (payload.get("promptFeedback") or {}).get("blockReason"):
            raise bad_response("Gemini returned no candidates")
        # The prompt itself was blocked: an empty, filtered answer (as OpenAI does for its content filter).
        message = {"role": "assistant", "content": ""}
        choices.append({"index": 0, "message": message, "finish_reason": "content_filter"})
    answer = {
        "id": completion_id(payload),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": choices,
    }
    if usage is not None:
        answer["usage"] = usage.as_openai()
    return answer, usage


@dataclass(slots=True)
class GeminiStream:
    """What one Gemini stream remembers between events (per request; StreamState holds the rest)."""

    model: str
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    created: int = field(default_factory=lambda: int(time.time()))
    started: set[int] = field(default_factory=set)  # candidates whose role delta was sent
    tool_calls: dict[int, int] = field(default_factory=dict)  # candidate index → tool calls sent
    usage_sent: bool = False

    def chunk(self, choices: list[dict], usage: Usage | None = None) -> bytes:
        chunk: dict = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
        if usage is not None:
            chunk["usage"] = usage.as_openai()
        return orjson.dumps(chunk)


def stream_chunks(payload: dict, state: StreamState, stream: GeminiStream) -> list[bytes]:
    """One streamed ``GenerateContentResponse`` → OpenAI chunk payloads.

    Gemini's stream has no terminator: the event carrying a ``finishReason`` marks the answer complete
    (``state.finished``), and the usage of the last event that has one is final.
    """
    if "error" in payload:
        state.error = gemini_error(500, payload)
        return []
    if (usage := usage_from_metadata(payload.get("usageMetadata"))) is not None:
        state.usage = usage
    out = []
    for position, candidate in enumerate(payload.get("candidates") or ()):
        if not isinstance(candidate, dict):
            continue
        index = int(candidate.get("index", position))
        delta: dict = {}
        if index not in stream.started:
            stream.started.add(index)
            delta["role"] = "assistant"
        parts = candidate_parts(candidate)
        if parts.text:
            delta["content"] = parts.text
            state.add_text(parts.text)
        if parts.thoughts:
            delta["reasoning_content"] = parts.thoughts
            state.add_text(parts.thoughts)
        if parts.calls:
            sent = stream.tool_calls.get(index, 0)
            delta["tool_calls"] = [{"index": sent + i, **call} for i, call in enumerate(parts.calls)]
            stream.tool_calls[index] = sent + len(parts.calls)
        reason = finish_reason(candidate, index in stream.tool_calls)
        if reason:
            state.finished = True
        if delta or reason:
            out.append(stream.chunk([{"index": index, "delta": delta, "finish_reason": reason}]))
    if not out and (payload.get("promptFeedback") or {}).get("blockReason"):
        state.finished = True
        delta = {"role": "assistant", "content": ""}
        out.append(stream.chunk([{"index": 0, "delta": delta, "finish_reason": "content_filter"}]))
    if state.finished and state.usage is not None and not state.hide_usage and not stream.usage_sent:
        stream.usage_sent = True
        out.append(stream.chunk([], state.usage))
    return out


def gemini_error(status: int, payload: object) -> RelayError:
    """A Gemini error body (``{"error": {code, message, status, details}}``, possibly in a list)."""
    if isinstance(payload, list) and payload:
        payload = payload[0]
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        message = str(error or "") or f"Gemini answered HTTP {status}"
        retryable = is_retryable_status(status)
        return RelayError(status, message, "upstream_error", "bad_response_status_code", retryable=retryable)
    message = str(error.get("message") or f"Gemini answered HTTP {status}")
    canonical = str(error.get("status") or "")
    reason = next(
        (
            str(d.get("reason"))
            for d in error.get("details") or ()
            if isinstance(d, dict) and str(d.get("@type", "")).endswith("ErrorInfo") and d.get("reason")
        ),
        "",
    )
    if isinstance(error.get("code"), int) and status < 400:
        status = error["code"]  # an error inside a 200 (or a mid-stream event)
    mapped = _ERRORS_BY_REASON.get(reason) or _ERRORS_BY_STATUS.get(canonical)
    if mapped is None:
        mapped = (status, is_retryable_status(status), should_disable_channel(status, "", "", message))
    status, retryable, disable = mapped
    return RelayError(
        status,
        message,
        type="upstream_error",
        code=reason or canonical or "bad_response_status_code",
        retryable=retryable,
        disable_channel=disable,
    )


def embedding_response(payload: dict, model: str, encoding_format: str | None = None) -> dict:
    """``{"embeddings": [{"values": [...]}]}`` → an OpenAI embedding list (usage is added by the caller)."""
    if "error" in payload:
        raise gemini_error(500, payload)
    embeddings = payload.get("embeddings")
    if not isinstance(embeddings, list):
        raise bad_response("Gemini returned no embeddings")
    data = []
    for index, item in enumerate(embeddings):
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(values, list):
            raise bad_response("Gemini returned an embedding without values")
        vector: list | str = values
        if encoding_format == "base64":  # what the openai SDK asks for by default: little-endian float32
            vector = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        data.append({"object": "embedding", "index": index, "embedding": vector})
    return {"object": "list", "data": data, "model": model}
