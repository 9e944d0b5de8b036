"""DashScope native wire format ↔ OpenAI, pure (PROVIDERS.md §7).

Requests: ``{"model", "input": {"messages"}, "parameters": {...}}``, ``result_format: "message"`` so answers
come back as choices; messages with images go to the multimodal endpoint with ``[{"image"}, {"text"}]``
content. Streams send ``incremental_output`` deltas, usage (running totals) on every event and the string
``"null"`` as the finish reason until the last event.
"""

from __future__ import annotations

import orjson

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status
from relay.providers.shapes import (
    embedding_list,
    has_images,
    image_urls,
    message_text,
    reject_fields,
    tool_call,
    unsupported,
)

PROVIDER = "Ali"
SEARCH_SUFFIX = "-internet"  # one-api's convention: qwen-max-internet = qwen-max with enable_search
TEXT_PATH = "/api/v1/services/aigc/text-generation/generation"
MULTIMODAL_PATH = "/api/v1/services/aigc/multimodal-generation/generation"
EMBEDDING_PATH = "/api/v1/services/embeddings/text-embedding/text-embedding"

# https://help.aliyun.com/zh/model-studio/use-qwen-by-calling-api — finish_reason ("null" while streaming)
FINISH_REASONS = {"stop": "stop", "length": "length", "tool_calls": "tool_calls", "null": None, None: None}

# https://help.aliyun.com/zh/model-studio/error-code — code → (retry on another channel?, disable?)
ERROR_CODES: dict[str, tuple[bool, bool]] = {
    "InvalidApiKey": (True, True),
    "Arrearage": (True, True),  # "Access denied, please make sure your account is in good standing."
    "AccessDenied.Unpurchased": (True, True),
    "AccessDenied": (True, False),
    "Throttling": (True, False),
    "Throttling.RateQuota": (True, False),
    "Throttling.BurstRate": (True, False),
    "Throttling.AllocationQuota": (True, False),
    "InvalidParameter": (False, False),
    "DataInspectionFailed": (False, False),
    "InternalError": (True, False),
    "InternalError.Algo": (True, False),
    "RequestTimeOut": (True, False),
}


def ali_error(status: int, payload: dict) -> RelayError:
    code = str(payload.get("code") or "")
    message = str(payload.get("message") or f"DashScope error {code or status}")
    retry, disable = ERROR_CODES.get(code, (is_retryable_status(status), status == 401))
    return RelayError(
        status if status >= 400 else 500,
        message,
        type="upstream_error",
        code=code or "bad_response_status_code",
        retryable=retry,
        disable_channel=disable,
    )


def error_payload(body: bytes) -> dict | None:
    """The ``{"code", "message"}`` object of an error body: plain JSON, or SSE-framed (``event:error``)."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        payload = None
        for line in body.decode("utf-8", "replace").splitlines():
            if line.startswith("data:"):
                try:
                    payload = orjson.loads(line[5:])
                except orjson.JSONDecodeError:
                    return None
                break
    return payload if isinstance(payload, dict) and payload.get("code") else None


def split_search(model: str) -> tuple[str, bool]:
    if model.endswith(SEARCH_SUFFIX):
        return model.removesuffix(SEARCH_SUFFIX), True
    return model, False


def _clamp(value: object, low: float, high: float) -> object:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return min(max(float(value), low), high)
    return value


def chat_body(body: dict, model: str, stream: bool) -> tuple[dict, bool]:
    """(DashScope body, multimodal?) for an OpenAI chat body (system prompt already applied)."""
    # n > 1 exists on a few Qwen models only; one choice keeps the translation exact for all of them.
    reject_fields(body, PROVIDER, ("n", "logprobs", "functions"))
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") not in (None, "text", "json_object"):
        raise unsupported(PROVIDER, "response_format")
    model, search = split_search(model)
    multimodal = has_images(body["messages"])
    messages = [_message(m, multimodal) for m in body["messages"]]
    parameters: dict = {"result_format": "message"}
    if stream:
        parameters["incremental_output"] = True
    if search:
        parameters["enable_search"] = True
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        parameters["max_tokens"] = max_tokens
    if body.get("temperature") is not None:
        parameters["temperature"] = _clamp(body["temperature"], 0.0, 1.9999)
    if body.get("top_p") is not None:
        parameters["top_p"] = _clamp(body["top_p"], 0.0001, 0.9999)  # DashScope wants (0, 1)
    for name in ("top_k", "seed", "stop", "presence_penalty", "repetition_penalty", "enable_thinking"):
        if body.get(name) is not None:
            parameters[name] = body[name]
    if body.get("tools"):
        parameters["tools"] = body["tools"]
        if body.get("tool_choice") is not None:
            parameters["tool_choice"] = body["tool_choice"]
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        parameters["response_format"] = {"type": "json_object"}
    return {"model": model, "input": {"messages": messages}, "parameters": parameters}, multimodal


def _message(message: dict, multimodal: bool) -> dict:
    role = str(message.get("role") or "user").lower()
    role = "system" if role == "developer" else role
    content = message.get("content")
    out: dict = {"role": role}
    if multimodal:
        parts: list[dict] = [{"image": url} for url in image_urls(content)]
        text = message_text(content)
        out["content"] = [*parts, {"text": text}] if text or not parts else parts
    else:
        out["content"] = message_text(content)
    if message.get("tool_calls"):
        out["tool_calls"] = message["tool_calls"]
    if role == "tool":
        for name in ("tool_call_id", "name"):
            if message.get(name):
                out[name] = message[name]
    return out


def embedding_body(body: dict, model: str) -> dict:
    texts = body.get("input")
    texts = [texts] if isinstance(texts, str) else texts
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise unsupported(PROVIDER, "input")  # token-id arrays
    out: dict = {"model": model, "input": {"texts": texts}}
    if body.get("dimensions"):
        out["parameters"] = {"dimension": body["dimensions"]}
    return out


def usage_of(payload: dict) -> Usage | None:
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = int(usage.get("input_tokens") or 0)
    completion = int(usage.get("output_tokens") or 0)
    if not prompt and not completion and usage.get("total_tokens"):
        prompt = int(usage["total_tokens"])  # embeddings report only a total
    result = Usage(prompt, completion)
    details = usage.get("prompt_tokens_details")
    if isinstance(details, dict):
        result.cached_tokens = int(details.get("cached_tokens") or 0)
    details = usage.get("output_tokens_details")
    if isinstance(details, dict):
        result.reasoning_tokens = int(details.get("reasoning_tokens") or 0)
    return result


def content_text(content: object) -> str:
    """Message content: a string, or the multimodal list ``[{"text": ...}]``."""
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""


def tool_calls_of(message: dict) -> list[dict]:
    calls = []
    for call in message.get("tool_calls") or ():
        if not isinstance(call, dict):
            continue
        function = call.get("function") or {}
        calls.append(
            tool_call(str(call.get("id") or ""), str(function.get("name") or ""), function.get("arguments"))
        )
    return calls


def choices_of(payload: dict) -> list[dict]:
    """Choices as ``{"index", "message", "finish_reason"}``; the legacy text format becomes one choice."""
    output = payload.get("output") or {}
    if isinstance(output.get("choices"), list):
        return [c for c in output["choices"] if isinstance(c, dict)]
    if "text" in output:
        return [{"message": {"content": output["text"]}, "finish_reason": output.get("finish_reason")}]
    return []


def chat_answer(payload: dict, model: str, request_id: str) -> dict:
    choices = []
    for index, choice in enumerate(choices_of(payload)):
        message = choice.get("message") or {}
        out: dict = {"role": "assistant", "content": content_text(message.get("content"))}
        if message.get("reasoning_content"):
            out["reasoning_content"] = message["reasoning_content"]
        if calls := tool_calls_of(message):
            out["tool_calls"] = calls
        reason = FINISH_REASONS.get(choice.get("finish_reason"), choice.get("finish_reason")) or "stop"
        choices.append({"index": choice.get("index", index), "message": out, "finish_reason": reason})
    return {"id": f"chatcmpl-{request_id}", "object": "chat.completion", "model": model, "choices": choices}


def stream_delta(choice: dict) -> tuple[dict, str]:
    """(OpenAI delta, its completion text) for one streamed DashScope choice."""
    message = choice.get("message") or {}
    delta: dict = {}
    text = content_text(message.get("content"))
    if text:
        delta["content"] = text
    if message.get("reasoning_content"):
        delta["reasoning_content"] = message["reasoning_content"]
    calls = []
    for position, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") or {}
        out: dict = {"index": call.get("index", position)}
        if call.get("id"):
            out.update(id=call["id"], type="function")
        fragment = {k: function[k] for k in ("name", "arguments") if function.get(k)}
        if fragment or "id" in out:
            out["function"] = {"arguments": "", **fragment} if "id" in out else fragment
        calls.append(out)
    if calls:
        delta["tool_calls"] = calls
    return delta, text + str(message.get("reasoning_content") or "")


def embedding_answer(payload: dict, model: str, encoding_format: object) -> tuple[bytes, Usage | None]:
    embeddings = (payload.get("output") or {}).get("embeddings") or []
    vectors = [(e.get("text_index", i), e.get("embedding") or []) for i, e in enumerate(embeddings)]
    usage = usage_of(payload)
    return embedding_list(model, vectors, usage, encoding_format), usage
