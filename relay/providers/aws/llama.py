"""Meta Llama 3 on Bedrock: OpenAI chat → one templated prompt, and the ``generation`` answers back (pure).

https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html
"""

from __future__ import annotations

import time

import orjson

from billing.usage import Usage
from relay.providers.anthropic.request import unsupported
from relay.providers.base import StreamState

PROVIDER = "AWS Bedrock Llama"
# https://www.llama.com/docs/model-cards-and-prompt-formats/meta-llama-3/
_TURN = "<|start_header_id|>{role}<|end_header_id|>\n\n{text}<|eot_id|>"

# https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-meta.html (stop_reason)
FINISH_REASONS = {"stop": "stop", "length": "length"}

# OpenAI fields Llama on Bedrock has no parameter for (a non-default value is refused by name).
UNSUPPORTED = {
    "n": (None, 1),
    "tools": (None, []),
    "functions": (None, []),
    "tool_choice": (None, "none"),
    "stop": (None, [], ""),
    "response_format": (None, {"type": "text"}),
    "logprobs": (None, False),
    "logit_bias": (None, {}),
    "presence_penalty": (None, 0, 0.0),
    "frequency_penalty": (None, 0, 0.0),
}


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content or ():
        if not isinstance(part, dict) or part.get("type") != "text":
            raise unsupported(
                PROVIDER, f"content part type {part.get('type') if isinstance(part, dict) else part!r}"
            )
        parts.append(part.get("text") or "")
    return "".join(parts)


def llama_body(body: dict, system_prompt: str = "") -> dict:
    for field, harmless in UNSUPPORTED.items():
        if field in body and body[field] not in harmless:
            raise unsupported(PROVIDER, field)
    messages = [m for m in body.get("messages") or [] if m.get("role") not in ("system", "developer")]
    systems = [m for m in body.get("messages") or [] if m.get("role") in ("system", "developer")]
    system = system_prompt or "\n\n".join(_text(m.get("content")) for m in systems)
    turns = [_TURN.format(role="system", text=system)] if system else []
    for message in messages:
        if message.get("role") not in ("user", "assistant"):
            raise unsupported(PROVIDER, f"messages role {message.get('role')!r}")
        turns.append(_TURN.format(role=message["role"], text=_text(message.get("content"))))
    prompt = "<|begin_of_text|>" + "".join(turns) + "<|start_header_id|>assistant<|end_header_id|>\n\n"
    out: dict = {"prompt": prompt}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        out["max_gen_len"] = max_tokens
    for field in ("temperature", "top_p"):
        if body.get(field) is not None:
            out[field] = body[field]
    return out


def llama_usage(payload: dict) -> Usage | None:
    metrics = payload.get("amazon-bedrock-invocationMetrics")
    if isinstance(metrics, dict):
        return Usage(int(metrics.get("inputTokenCount") or 0), int(metrics.get("outputTokenCount") or 0))
    if isinstance(payload.get("prompt_token_count"), int):
        return Usage(payload["prompt_token_count"], int(payload.get("generation_token_count") or 0))
    return None


def llama_completion(payload: dict, model: str) -> tuple[dict, Usage | None]:
    usage = llama_usage(payload)
    answer = {
        "id": f"chatcmpl-{int(time.time() * 1000)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": payload.get("generation") or ""},
                "finish_reason": FINISH_REASONS.get(payload.get("stop_reason"), "stop"),
            }
        ],
    }
    if usage is not None:
        answer["usage"] = usage.as_openai()
    return answer, usage


def llama_chunk(payload: dict, state: StreamState, stream_id: str) -> list[bytes]:
    """One streamed ``{"generation", "stop_reason", ...}`` object → OpenAI chunks; the last one ends the stream."""
    text = payload.get("generation") or ""
    state.add_text(text)
    reason = payload.get("stop_reason")
    base = {
        "id": stream_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": state.model,
    }
    chunks = []
    if text:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]})
    if reason:
        finish = FINISH_REASONS.get(reason, "stop")
        chunks.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        state.finished = state.done = True
        state.usage = llama_usage(payload) or state.usage
        if state.usage is not None and not state.hide_usage:
            chunks.append({**base, "choices": [], "usage": state.usage.as_openai()})
    return [orjson.dumps(chunk) for chunk in chunks]
