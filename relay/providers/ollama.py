"""Ollama's native API (channel type 30): ``/api/chat`` and ``/api/embed``.

https://github.com/ollama/ollama/blob/main/docs/api.md — streams are NDJSON (one JSON object per line, the
last with ``"done": true`` and the token counts), re-sent to the client as OpenAI SSE chunks. Errors are
``{"error": "..."}``, also as an NDJSON line in the middle of a 200 stream. A local Ollama needs no key; the
key, when set (ollama.com), goes as a Bearer token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from billing.usage import Usage
from relay.errors import RelayError, upstream_error
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.openai import apply_system_prompt
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    chat_completion,
    embedding_list,
    json_object,
    message_text,
    reject_fields,
    tool_call,
    unsupported,
)
from relay.schemas import RelayRequest

PROVIDER = "Ollama"

# https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion ("done_reason")
FINISH_REASONS = {"stop": "stop", "length": "length", "load": "stop", "unload": "stop"}

# OpenAI field → Ollama ``options`` key (https://github.com/ollama/ollama/blob/main/docs/modelfile.md#parameter)
_OPTIONS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
}
_UNSUPPORTED = ("n", "logprobs", "top_logprobs", "logit_bias", "audio", "prediction")


def chat_body(body: dict, model: str, *, stream: bool, system_prompt: str = "") -> dict:
    """An OpenAI chat body → an ``/api/chat`` body. Raises RelayError(400) for what Ollama lacks."""
    reject_fields(body, PROVIDER, _UNSUPPORTED)
    if system_prompt:
        body = {**body}
        apply_system_prompt(body, system_prompt)
    out: dict = {"model": model, "messages": chat_messages(body.get("messages") or []), "stream": stream}
    options = {theirs: body[ours] for ours, theirs in _OPTIONS.items() if body.get(ours) is not None}
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        options["num_predict"] = max_tokens
    if body.get("stop"):
        options["stop"] = [body["stop"]] if isinstance(body["stop"], str) else list(body["stop"])
    if options:
        out["options"] = options
    fmt = body.get("response_format") if isinstance(body.get("response_format"), dict) else {}
    if fmt.get("type") == "json_object":
        out["format"] = "json"
    elif fmt.get("type") == "json_schema":
        out["format"] = (fmt.get("json_schema") or {}).get("schema") or "json"
    elif fmt.get("type") not in (None, "text"):
        raise unsupported(PROVIDER, "response_format")
    tools = _tools(body)
    if tools:
        out["tools"] = tools
    if body.get("reasoning_effort") is not None:
        out["think"] = body["reasoning_effort"] not in ("none", "minimal")
    return out


def _tools(body: dict) -> list[dict]:
    choice = body.get("tool_choice")
    if choice == "none":
        return []
    if choice not in (None, "auto"):
        raise unsupported(PROVIDER, "tool_choice")  # Ollama lets the model decide; it cannot be forced
    tools = []
    for tool in body.get("tools") or ():
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise unsupported(PROVIDER, "tools")
        tools.append({"type": "function", "function": tool.get("function") or {}})
    return tools


def chat_messages(messages: list[dict]) -> list[dict]:
    """OpenAI messages → Ollama's: text content, base64 ``images``, object tool-call arguments, tool_name."""
    out = []
    names: dict[str, str] = {}
    for message in messages:
        role = "system" if message.get("role") == "developer" else message.get("role")
        content = message.get("content")
        item: dict = {"role": role, "content": message_text(content)}
        if images := _images(content):
            item["images"] = images
        calls = []
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            names[str(call.get("id"))] = str(function.get("name") or "")
            calls.append({"function": {"name": function.get("name"), "arguments": _arguments(function)}})
        if calls:
            item["tool_calls"] = calls
        if role == "tool":
            name = names.get(str(message.get("tool_call_id"))) or message.get("name")
            if name:
                item["tool_name"] = name
        out.append(item)
    return out


def _images(content: object) -> list[str]:
    images = []
    for part in content if isinstance(content, list) else ():
        if isinstance(part, dict) and part.get("type") == "image_url":
            image = part.get("image_url")
            url = str((image.get("url") if isinstance(image, dict) else image) or "")
            if not url.startswith("data:"):
                # Ollama takes image bytes only; the gateway does not fetch client URLs on its behalf.
                raise unsupported(PROVIDER, "image URLs other than data: URLs")
            images.append(url.partition(",")[2])
    return images


def _arguments(function: dict) -> dict:
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = orjson.loads(arguments) if arguments.strip() else {}
        except orjson.JSONDecodeError:
            raise RelayError(400, "tool call arguments must be JSON", param="messages") from None
    return arguments if isinstance(arguments, dict) else {}


def tool_calls(message: dict) -> list[dict]:
    """Ollama tool calls (object arguments, ids only in newer versions) → OpenAI tool calls."""
    calls = []
    for call in message.get("tool_calls") or ():
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            continue
        calls.append(
            tool_call(str(call.get("id") or ""), str(function.get("name") or ""), function.get("arguments"))
        )
    return calls


def usage_of(payload: dict) -> Usage | None:
    if "prompt_eval_count" not in payload and "eval_count" not in payload:
        return None
    return Usage(int(payload.get("prompt_eval_count") or 0), int(payload.get("eval_count") or 0))


def finish_reason(payload: dict, has_calls: bool) -> str:
    reason = FINISH_REASONS.get(str(payload.get("done_reason") or "stop"), "stop")
    return "tool_calls" if has_calls and reason == "stop" else reason


def embedding_body(body: dict, model: str) -> dict:
    inputs = body.get("input")
    if not isinstance(inputs, str) and not (
        isinstance(inputs, list) and all(isinstance(i, str) for i in inputs)
    ):
        raise unsupported(PROVIDER, "input as token ids")
    payload: dict = {"model": model, "input": inputs}
    if body.get("dimensions"):
        payload["dimensions"] = body["dimensions"]
    return payload


class OllamaAdaptor(Adaptor):
    name = "ollama"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._writer: ChunkWriter | None = None
        self._model = ""
        self._calls_sent = 0

    def _url(self, path: str) -> str:
        return (self.channel.base_url or self.info.base_url).rstrip("/") + path

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        body = req.body or {}
        self._model = req.model
        headers = {"Content-Type": "application/json"}
        if self.channel.key:
            headers["Authorization"] = f"Bearer {self.channel.key}"
        if req.mode == "embeddings":
            payload = embedding_body(body, upstream_model)
            return UpstreamRequest("POST", self._url("/api/embed"), headers, orjson.dumps(payload))
        if req.mode != "chat":
            return super().build_request(req, upstream_model)
        system_prompt = self.channel.system_prompt
        payload = chat_body(body, upstream_model, stream=req.stream, system_prompt=system_prompt)
        return UpstreamRequest(
            "POST", self._url("/api/chat"), headers, orjson.dumps(payload), bool(system_prompt)
        )

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = json_object(body, PROVIDER)
        if payload.get("error"):
            raise upstream_error(status if status >= 400 else 500, body)
        usage = usage_of(payload)
        if req.mode == "embeddings":
            vectors = payload.get("embeddings")
            if not isinstance(vectors, list) or not all(isinstance(v, list) for v in vectors):
                raise bad_response("Ollama returned no embeddings")
            encoding = (req.body or {}).get("encoding_format")
            return embedding_list(req.model, enumerate(vectors), usage, encoding), usage
        message = payload.get("message")
        if not isinstance(message, dict):
            raise bad_response("Ollama returned no message")
        calls = tool_calls(message)
        content = str(message.get("content") or "")
        answer = chat_completion(
            model=req.model,
            content=content if content or not calls else None,
            finish_reason=finish_reason(payload, bool(calls)),
            usage=usage,
            tool_calls=calls,
            reasoning=message.get("thinking") or None,
        )
        return answer, usage

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        async for line in response.aiter_lines():
            if line.strip():
                yield line

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if self._writer is None:
            self._writer = ChunkWriter(model=self._model or state.model)
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_response("Ollama sent a malformed stream line")
            return []
        if not isinstance(payload, dict):
            state.error = bad_response("Ollama sent an unexpected stream line")
            return []
        if payload.get("error"):
            state.error = upstream_error(500, data.encode())
            return []
        message = payload.get("message") if isinstance(payload.get("message"), dict) else {}
        out = self._deltas(message, state)
        if payload.get("done"):
            state.usage = usage_of(payload)
            out += self._writer.finish(state, finish_reason(payload, self._calls_sent > 0))
            state.done = True
        return out

    def _deltas(self, message: dict, state: StreamState) -> list[bytes]:
        out = []
        if thinking := message.get("thinking"):
            state.add_text(thinking)
            out.append(self._writer.chunk({"reasoning_content": thinking}))
        out += self._writer.text(state, str(message.get("content") or ""))
        if calls := tool_calls(message):
            deltas = [{"index": self._calls_sent + i, **call} for i, call in enumerate(calls)]
            self._calls_sent += len(calls)
            out.append(self._writer.chunk({"tool_calls": deltas}))
        return out

    def map_error(self, status: int, body: bytes) -> RelayError:
        return upstream_error(status, body)
