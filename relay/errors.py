"""The relay's one error type; it carries its own consequence (retry? disable the channel?)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

# Lower-cased fragments that mean "this channel's account is unusable" (spec §3.9).
_DISABLING_MESSAGES = (
    "your access was terminated",
    "violation of our policies",
    "your credit balance is too low",
    "organization has been disabled",
    "credit",
    "balance",
    "permission denied",
    "organization has been restricted",
    "api key not valid",
    "api key expired",
    "已欠费",
)
_DISABLING_TYPES = {"insufficient_quota", "authentication_error", "permission_error", "forbidden"}
_DISABLING_CODES = {"invalid_api_key", "account_deactivated"}
# Statuses that say "this channel cannot serve it now"; another channel may. 400/413/422 are about the request.
_RETRYABLE_STATUSES = {401, 402, 403, 404, 408, 409, 425, 429}


@dataclass(eq=False)
class RelayError(Exception):
    status: int
    message: str
    type: str = "one_api_error"
    code: object = ""
    param: object = ""
    retryable: bool = False
    disable_channel: bool = False
    passthrough: bytes | None = None  # an upstream OpenAI-shaped error body, relayed verbatim
    with_request_id: bool = True  # the original's 404/501 route answers carry no request id

    def __str__(self) -> str:
        return f"{self.status} {self.type}/{self.code}: {self.message}"

    def body(self, request_id: str = "") -> bytes:
        if self.passthrough is not None:
            return self.passthrough
        suffix = request_id and self.with_request_id
        message = f"{self.message} (request id: {request_id})" if suffix else self.message
        return orjson.dumps(
            {"error": {"message": message, "type": self.type, "param": self.param, "code": self.code}}
        )


def gateway_error(status: int, message: str, code: str = "") -> RelayError:
    return RelayError(status=status, message=message, type="one_api_error", code=code)


def invalid_request(message: str, code: str = "invalid_text_request", param: str = "") -> RelayError:
    return RelayError(status=400, message=message, type="one_api_error", code=code, param=param)


def is_retryable_status(status: int) -> bool:
    return status in _RETRYABLE_STATUSES or status >= 500


def should_disable_channel(status: int, error_type: str, code: object, message: str) -> bool:
    if status == 401 or error_type in _DISABLING_TYPES or code in _DISABLING_CODES:
        return True
    lowered = message.lower()
    return any(fragment in lowered for fragment in _DISABLING_MESSAGES)


def upstream_error(status: int, body: bytes) -> RelayError:
    """Classify an upstream failure; OpenAI-shaped error bodies are relayed verbatim (as the original)."""
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict) and error.get("message") is not None and error.get("type"):
        message, error_type, code = str(error.get("message")), str(error.get("type")), error.get("code")
        passthrough = body
    else:
        message = _first_message(parsed) or f"bad response status code {status}"
        error_type, code, passthrough = "upstream_error", "bad_response_status_code", None
    return RelayError(
        status=status,
        message=message,
        type=error_type,
        code=code if code is not None else "",
        param=str(status) if passthrough is None else "",
        retryable=is_retryable_status(status),
        disable_channel=should_disable_channel(status, error_type, code, message),
        passthrough=passthrough,
    )


def _first_message(parsed: object) -> str:
    if not isinstance(parsed, dict):
        return ""
    for key in ("message", "msg", "err", "error_msg"):
        if isinstance(parsed.get(key), str) and parsed[key]:
            return parsed[key]
    error = parsed.get("error")
    if isinstance(error, str):
        return error
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    for outer in ("header", "response"):
        inner = parsed.get(outer)
        if isinstance(inner, dict):
            found = _first_message(inner)
            if found:
                return found
    return ""
