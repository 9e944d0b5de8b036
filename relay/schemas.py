"""Parse and validate OpenAI request bodies into a RelayRequest; every problem is a 400 RelayError."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import orjson

from relay.errors import invalid_request

MAX_TOKENS_LIMIT = 1 << 30
DEFAULT_MODELS = {
    "moderations": "text-moderation-stable",
    "images": "dall-e-2",
    "audio_transcription": "whisper-1",
    "audio_translation": "whisper-1",
}


@dataclass(slots=True)
class RelayRequest:
    mode: str
    path: str
    model: str
    raw: bytes
    content_type: str = "application/json"
    body: dict | None = None
    form: dict[str, str] = field(default_factory=dict)
    stream: bool = False
    max_tokens: int = 0
    include_usage_requested: bool = False
    # The client's request headers (lower-case names), for the few an adaptor honours (anthropic-version);
    # never forwarded wholesale.
    headers: Mapping[str, str] = field(default_factory=dict)


def parse_json_body(raw: bytes) -> dict:
    if not raw.strip():
        raise invalid_request("request body is empty", code="invalid_json")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise invalid_request(f"request body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(body, dict):
        raise invalid_request("request body must be a JSON object", code="invalid_json")
    return body


def _model(body: dict, mode: str, path_model: str = "") -> str:
    model = body.get("model", path_model or DEFAULT_MODELS.get(mode, ""))
    if path_model and not body.get("model"):
        model = path_model
    if not isinstance(model, str):
        raise invalid_request("model must be a string", param="model")
    if not model.strip():
        raise invalid_request("model is required", param="model")
    return model.strip()


def _int_field(body: dict, name: str) -> int:
    value = body.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_request(f"{name} must be an integer", param=name)
    if not 0 <= value < MAX_TOKENS_LIMIT:
        raise invalid_request(f"{name} is invalid", param=name)
    return value


def _stream(body: dict) -> bool:
    value = body.get("stream", False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_request("stream must be a boolean", param="stream")
    return value


def _require(body: dict, name: str, kinds: tuple[type, ...], what: str) -> None:
    value = body.get(name)
    if value is None or value == "" or value == []:
        raise invalid_request(f"{name} is required", param=name)
    if not isinstance(value, kinds):
        raise invalid_request(f"{name} must be {what}", param=name)


def _check_messages(body: dict) -> None:
    _require(body, "messages", (list,), "a non-empty array of messages")
    for index, message in enumerate(body["messages"]):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise invalid_request(f"messages[{index}] must be an object with a role", param="messages")
        content = message.get("content")
        if content is not None and not isinstance(content, (str, list)):
            raise invalid_request(f"messages[{index}].content must be a string or an array", param="messages")


_REQUIRED_BY_MODE = {
    "completions": ("prompt", (str, list), "a string or an array"),
    "embeddings": ("input", (str, list), "a string or an array"),
    "moderations": ("input", (str, list), "a string or an array"),
    "edits": ("instruction", (str,), "a string"),
}


def parse_text_request(mode: str, path: str, raw: bytes, path_model: str = "") -> RelayRequest:
    body = parse_json_body(raw)
    model = _model(body, mode, path_model)
    if mode == "chat":
        _check_messages(body)
    elif mode in _REQUIRED_BY_MODE:
        _require(body, *_REQUIRED_BY_MODE[mode])
    max_tokens = max(_int_field(body, "max_tokens"), _int_field(body, "max_completion_tokens"))
    options = body.get("stream_options")
    return RelayRequest(
        mode=mode,
        path=path,
        model=model,
        raw=raw,
        body=body,
        stream=_stream(body) if mode in ("chat", "completions") else False,
        max_tokens=max_tokens,
        include_usage_requested=isinstance(options, dict) and options.get("include_usage") is True,
    )
