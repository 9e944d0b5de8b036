"""Cohere Chat v1 (channel type 35): ``/v1/chat`` and ``/v1/embed``, Bearer key.

https://docs.cohere.com/v1/reference/chat — the last user message goes in ``message``, earlier turns in
``chat_history`` (USER / CHATBOT / SYSTEM / TOOL), system messages in ``preamble``; a ``-internet`` model suffix
turns on the web-search connector. Streams are NDJSON (``event_type`` text-generation … stream-end, whose
``response.meta`` carries the billed tokens). Errors are ``{"message": "..."}``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.openai import apply_system_prompt
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
)
from relay.schemas import RelayRequest

PROVIDER = "Cohere"
INTERNET_SUFFIX = "-internet"

# https://docs.cohere.com/v1/reference/chat#response.body.finish_reason (ERROR is raised, not mapped)
FINISH_REASONS = {
    "COMPLETE": "stop",
    "STOP_SEQUENCE": "stop",
    "USER_CANCEL": "stop",
    "MAX_TOKENS": "length",
    "ERROR_LIMIT": "length",
    "ERROR_TOXIC": "content_filter",
}
# https://docs.cohere.com/v1/reference/chat (streamed response: every event_type)
_IGNORED_EVENTS = {
    "stream-start",
    "search-queries-generation",
    "search-results",
    "citation-generation",
    "tool-calls-chunk",  # fragments of what tool-calls-generation then sends whole
    "debug",
}
# JSON Schema type → Cohere v1 parameter_definitions type (https://docs.cohere.com/v1/docs/tool-use)
_PARAM_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "object": "Dict"}
_UNSUPPORTED = ("n", "logprobs", "top_logprobs", "logit_bias", "audio")


def chat_body(body: dict, model: str, *, stream: bool, system_prompt: str = "") -> dict:
    """An OpenAI chat body → a Cohere v1 ``/chat`` body. Raises RelayError(400) for what v1 lacks."""
    reject_fields(body, PROVIDER, _UNSUPPORTED)
    if system_prompt:
        body = {**body}
        apply_system_prompt(body, system_prompt)
    messages = list(body.get("messages") or [])
    if has_images(messages):
        raise unsupported(PROVIDER, "image content")
    out: dict = {"model": model.removesuffix(INTERNET_SUFFIX), "stream": stream}
    if model.endswith(INTERNET_SUFFIX):
        out["connectors"] = [{"id": "web-search"}]
    out.update(conversation(messages))
    for ours, theirs in (
        ("temperature", "temperature"),
        ("frequency_penalty", "frequency_penalty"),
        ("presence_penalty", "presence_penalty"),
        ("seed", "seed"),
    ):
        if body.get(ours) is not None:
            out[theirs] = body[ours]
    if body.get("top_p") is not None:
        out["p"] = min(max(float(body["top_p"]), 0.01), 0.99)  # Cohere's accepted range
    if max_tokens := body.get("max_completion_tokens") or body.get("max_tokens"):
        out["max_tokens"] = max_tokens
    if stop := body.get("stop"):
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if fmt := _response_format(body.get("response_format")):
        out["response_format"] = fmt
    if tools := _tools(body):
        out["tools"] = tools
    return out


def conversation(messages: list[dict]) -> dict:
    """``preamble``, ``chat_history``, ``message`` and (after tool calls) ``tool_results``."""
    system = [message_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")]
    turns = [m for m in messages if m.get("role") not in ("system", "developer")]
    calls: dict[str, dict] = {}  # tool_call_id → {"name", "parameters"}
    history: list[dict] = []
    for message in turns:
        role = message.get("role")
        if role == "assistant":
            entry: dict = {"role": "CHATBOT", "message": message_text(message.get("content"))}
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                parsed = {"name": function.get("name"), "parameters": _arguments(function.get("arguments"))}
                calls[str(call.get("id"))] = parsed
                entry.setdefault("tool_calls", []).append(parsed)
            history.append(entry)
        elif role == "tool":
            call = calls.get(str(message.get("tool_call_id")))
            if call is None:
                raise RelayError(400, "a tool message answers no earlier tool call", param="messages")
            result = {"call": call, "outputs": [_output(message.get("content"))]}
            if history and history[-1]["role"] == "TOOL":
                history[-1]["tool_results"].append(result)
            else:
                history.append({"role": "TOOL", "tool_results": [result]})
        else:
            history.append({"role": "USER", "message": message_text(message.get("content"))})
    out: dict = {}
    if any(system):
        out["preamble"] = "\n".join(text for text in system if text)
    if history and history[-1]["role"] == "TOOL":
        # Answering tool calls: the results go in tool_results, and the message is empty.
        out.update(message="", tool_results=history.pop()["tool_results"])
    elif history and history[-1]["role"] == "USER":
        out["message"] = history.pop()["message"]
    else:
        raise RelayError(
            400, "Cohere needs the conversation to end with a user or tool message", param="messages"
        )
    out["chat_history"] = history
    return out


def _arguments(arguments: object) -> dict:
    if isinstance(arguments, str):
        try:
            arguments = orjson.loads(arguments) if arguments.strip() else {}
        except orjson.JSONDecodeError:
            raise RelayError(400, "tool call arguments must be JSON", param="messages") from None
    return arguments if isinstance(arguments, dict) else {}


def _output(content: object) -> dict:
    text = message_text(content)
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = text
    return parsed if isinstance(parsed, dict) else {"result": parsed}


def _response_format(value: object) -> dict | None:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in (None, "text"):
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema = (value.get("json_schema") or {}).get("schema")
        return {"type": "json_object", **({"schema": schema} if isinstance(schema, dict) else {})}
    raise unsupported(PROVIDER, "response_format")


def _tools(body: dict) -> list[dict]:
    choice = body.get("tool_choice")
    if choice == "none":
        return []
    if choice not in (None, "auto"):
        raise unsupported(PROVIDER, "tool_choice")  # v1 cannot force a tool call
    tools = []
    for tool in body.get("tools") or ():
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise unsupported(PROVIDER, "tools")
        function = tool.get("function") or {}
        tools.append(
            {
                "name": function.get("name"),
                "description": function.get("description") or "",
                "parameter_definitions": parameter_definitions(function.get("parameters")),
            }
        )
    return tools


def parameter_definitions(schema: object) -> dict:
    """A JSON Schema object → v1 ``parameter_definitions`` (one level: name → description, type, required)."""
    if not isinstance(schema, dict):
        return {}
    required = set(schema.get("required") or ())
    definitions = {}
    for name, prop in (schema.get("properties") or {}).items():
        prop = prop if isinstance(prop, dict) else {}
        kind = prop.get("type")
        kind = next((k for k in kind if k != "null"), "string") if isinstance(kind, list) else kind
        if kind == "array":
            item = (prop.get("items") or {}).get("type") if isinstance(prop.get("items"), dict) else None
            ptype = f"List[{_PARAM_TYPES.get(item, 'str')}]"
        else:
            ptype = _PARAM_TYPES.get(kind, "str")
        definition = {"type": ptype, "required": name in required}
        if prop.get("description"):
            definition["description"] = prop["description"]
        definitions[name] = definition
    return definitions


def usage_of(response: dict) -> Usage | None:
    """``meta.billed_units`` (what Cohere charges), else ``meta.tokens``."""
    meta = response.get("meta") if isinstance(response.get("meta"), dict) else {}
    for key in ("billed_units", "tokens"):
        units = meta.get(key)
        if isinstance(units, dict) and ("input_tokens" in units or "output_tokens" in units):
            return Usage(int(units.get("input_tokens") or 0), int(units.get("output_tokens") or 0))
    return None


def finish_reason(reason: object, has_calls: bool) -> str:
    if reason == "ERROR":
        raise RelayError(502, "Cohere ended the generation with an error", "upstream_error", "bad_response")
    mapped = FINISH_REASONS.get(str(reason), "stop")
    return "tool_calls" if has_calls and mapped == "stop" else mapped


def tool_calls(calls: object) -> list[dict]:
    return [
        tool_call("", str(c.get("name") or ""), c.get("parameters") or {})
        for c in calls or ()
        if isinstance(c, dict)
    ]


def cohere_error(status: int, body: bytes) -> RelayError:
    """``{"message": ...}`` with the HTTP status (https://docs.cohere.com/reference/errors)."""
    try:
        payload = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        payload = {}
    message = payload.get("message") if isinstance(payload, dict) else None
    message = str(message or f"Cohere answered HTTP {status}")
    # 401 invalid token and 402 no payment method / spend limit: this channel cannot serve anyone.
    code = f"cohere_{status}"
    retryable, disable = is_retryable_status(status), status in (401, 402)
    return RelayError(status, message, "upstream_error", code, retryable=retryable, disable_channel=disable)


class CohereAdaptor(Adaptor):
    name = "cohere"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._writer: ChunkWriter | None = None
        self._model = ""
        self._text_sent = False

    def _url(self, path: str) -> str:
        return (self.channel.base_url or self.info.base_url).rstrip("/") + path

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        body = req.body or {}
        self._model = req.model
        headers = {"Authorization": f"Bearer {self.channel.key}", "Content-Type": "application/json"}
        if req.mode == "embeddings":
            texts = body.get("input")
            texts = [texts] if isinstance(texts, str) else texts
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                raise unsupported(PROVIDER, "input as token ids")
            payload: dict = {"model": upstream_model, "texts": texts, "input_type": "search_document"}
            return UpstreamRequest("POST", self._url("/v1/embed"), headers, orjson.dumps(payload))
        if req.mode != "chat":
            return super().build_request(req, upstream_model)
        prompt = self.channel.system_prompt
        payload = chat_body(body, upstream_model, stream=req.stream, system_prompt=prompt)
        return UpstreamRequest("POST", self._url("/v1/chat"), headers, orjson.dumps(payload), bool(prompt))

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = json_object(body, PROVIDER)
        usage = usage_of(payload)
        if req.mode == "embeddings":
            vectors = payload.get("embeddings")
            if isinstance(vectors, dict):  # asked with embedding_types: {"float": [...]}
                vectors = vectors.get("float")
            if not isinstance(vectors, list):
                raise bad_response("Cohere returned no embeddings")
            encoding = (req.body or {}).get("encoding_format")
            return embedding_list(req.model, enumerate(vectors), usage, encoding), usage
        if "text" not in payload and "tool_calls" not in payload:
            raise bad_response("Cohere returned no text")
        calls = tool_calls(payload.get("tool_calls"))
        text = str(payload.get("text") or "")
        answer = chat_completion(
            model=req.model,
            content=text if text or not calls else None,
            finish_reason=finish_reason(payload.get("finish_reason"), bool(calls)),
            usage=usage,
            tool_calls=calls,
            completion_id=f"chatcmpl-{payload.get('generation_id') or payload.get('response_id') or ''}".rstrip(
                "-"
            ),
        )
        return answer, usage

    def stream_is_error(self, status: int, content_type: str) -> bool:
        # Cohere streams NDJSON as application/stream+json: any 200 is the stream.
        return status != 200

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        async for line in response.aiter_lines():
            if line.strip():
                yield line

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if self._writer is None:
            self._writer = ChunkWriter(model=self._model or state.model)
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_response("Cohere sent a malformed stream line")
            return []
        kind = event.get("event_type") if isinstance(event, dict) else None
        if kind == "text-generation":
            self._text_sent = True
            return self._writer.text(state, str(event.get("text") or ""))
        if kind == "tool-calls-generation":
            # The tool plan text came in tool-calls-chunk fragments; send it once, whole, like the non-stream answer.
            out = [] if self._text_sent else self._writer.text(state, str(event.get("text") or ""))
            calls = [{"index": i, **c} for i, c in enumerate(tool_calls(event.get("tool_calls")))]
            return out + ([self._writer.chunk({"tool_calls": calls})] if calls else [])
        if kind == "stream-end":
            return self._end(event, state)
        if kind in _IGNORED_EVENTS:
            return []
        state.error = bad_response(f"Cohere sent an unknown stream event {str(kind)[:40]!r}")
        return []

    def _end(self, event: dict, state: StreamState) -> list[bytes]:
        response = event.get("response") if isinstance(event.get("response"), dict) else {}
        state.usage = usage_of(response)
        state.done = True
        try:
            reason = finish_reason(event.get("finish_reason"), bool(response.get("tool_calls")))
        except RelayError as error:
            state.error = error
            return []
        return self._writer.finish(state, reason)

    def map_error(self, status: int, body: bytes) -> RelayError:
        return cohere_error(status, body)
