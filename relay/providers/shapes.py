"""OpenAI shapes that native adaptors emit (PROVIDERS.md §0) and the small checks they share.

Pure functions only: ids, ``chat.completion`` / ``chat.completion.chunk`` / embedding-list payloads, message
text extraction, and the 400 a request gets when it uses a field its provider lacks.
"""

from __future__ import annotations

import base64
import struct
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

import orjson

from billing.usage import Usage
from relay.errors import RelayError
from relay.providers.base import StreamState


def new_id(prefix: str = "chatcmpl") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def now() -> int:
    return int(time.time())


def unsupported(provider: str, param: str) -> RelayError:
    return RelayError(400, f"{provider} does not support {param}", code="unsupported_parameter", param=param)


def unsupported_mode(provider: str, mode: str) -> RelayError:
    return RelayError(400, f"{provider} does not support {mode}", code="unsupported_endpoint")


def bad_response(message: str) -> RelayError:
    return RelayError(502, message, type="upstream_error", code="bad_response", retryable=True)


def json_object(raw: bytes | str, what: str = "upstream") -> dict:
    """Parse an upstream JSON object or raise a retryable 502 (truncated or non-JSON answers)."""
    try:
        payload = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_response(f"{what} returned invalid JSON") from None
    if not isinstance(payload, dict):
        raise bad_response(f"{what} returned unexpected JSON")
    return payload


def field_used(body: dict, name: str) -> bool:
    """Whether the client really asks for ``name`` (defaults and empty values do not count)."""
    value = body.get(name)
    if value is None or value is False or value == [] or value == "" or value == {}:
        return False
    if name == "n":
        return isinstance(value, int) and value > 1
    if name == "response_format":
        return isinstance(value, dict) and value.get("type") not in (None, "text")
    if name == "tool_choice":
        return value != "auto" and value != "none"
    return True


def reject_fields(body: dict, provider: str, names: Iterable[str]) -> None:
    for name in names:
        if field_used(body, name):
            raise unsupported(provider, name)


def message_text(content: object) -> str:
    """A message's text: the string itself, or its text parts joined (image parts are not text)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "input_text")
        )
    return ""


def image_urls(content: object) -> list[str]:
    if not isinstance(content, list):
        return []
    urls = []
    for part in content:
        if isinstance(part, dict) and part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str) and url:
                urls.append(url)
    return urls


def has_images(messages: Iterable[object]) -> bool:
    return any(isinstance(m, dict) and image_urls(m.get("content")) for m in messages)


def tool_call(call_id: str, name: str, arguments: object) -> dict:
    if not isinstance(arguments, str):
        arguments = orjson.dumps(arguments if arguments is not None else {}).decode()
    return {
        "id": call_id or new_call_id(),
        "type": "function",
        "function": {"name": name, "arguments": arguments},
    }


def chat_completion(
    *,
    model: str,
    content: str | None,
    finish_reason: str,
    usage: Usage | None,
    tool_calls: list[dict] | None = None,
    reasoning: str | None = None,
    completion_id: str = "",
    created: int = 0,
) -> bytes:
    message: dict = {"role": "assistant", "content": content}
    if reasoning:
        message["reasoning_content"] = reasoning
    if tool_calls:
        message["tool_calls"] = tool_calls
    answer: dict = {
        "id": completion_id or new_id(),
        "object": "chat.completion",
        "created": created or now(),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
    }
    if usage is not None:
        answer["usage"] = usage.as_openai()
    return orjson.dumps(answer)


def embedding_list(
    model: str, vectors: Iterable[tuple[int, list]], usage: Usage | None, encoding_format: object = "float"
) -> bytes:
    """OpenAI's embedding list; ``base64`` (the openai SDK's default) packs little-endian float32 like OpenAI."""
    if encoding_format == "base64":
        vectors = [(i, base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()) for i, v in vectors]
    data = [{"object": "embedding", "index": index, "embedding": vector} for index, vector in vectors]
    answer: dict = {"object": "list", "data": data, "model": model}
    answer["usage"] = (usage or Usage()).as_openai()
    return orjson.dumps(answer)


@dataclass(slots=True)
class ChunkWriter:
    """One stream's OpenAI chunks: a stable id, the role on the first delta, the usage chunk when asked."""

    model: str
    id: str = field(default_factory=new_id)
    created: int = field(default_factory=now)
    role_sent: bool = False

    def chunk(self, delta: dict, finish_reason: str | None = None) -> bytes:
        if not self.role_sent:
            delta = {"role": "assistant", **delta}
            self.role_sent = True
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return orjson.dumps(self._frame([choice]))

    def text(self, state: StreamState, text: str) -> list[bytes]:
        if not text:
            return []
        state.add_text(text)
        return [self.chunk({"content": text})]

    def finish(self, state: StreamState, finish_reason: str) -> list[bytes]:
        """The finish chunk, then the usage chunk if the client asked for one (stream_options)."""
        state.finished = True
        out = [self.chunk({}, finish_reason)]
        if not state.hide_usage and state.usage is not None:
            out.append(orjson.dumps({**self._frame([]), "usage": state.usage.as_openai()}))
        return out

    def _frame(self, choices: list) -> dict:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }
