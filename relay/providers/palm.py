"""Google PaLM 2 chat (channel type 11): ``/v1beta2/models/chat-bison-001:generateMessage``.

https://ai.google.dev/palm_docs/deprecation — retired by Google, kept for operators with old channels. Every
model name goes to chat-bison-001, as in the original. The system message becomes the prompt's ``context``,
turns alternate authors "0" (user) and "1" (model). PaLM has no output-length limit, no stop sequences, no
tools and no streaming: ``max_tokens`` is ignored (the channel test sends it), the others get a 400, and a
stream request is answered with the whole answer as one chunk then the finish. Errors are Google's, shared
with Gemini. PaLM reports no usage: it is counted locally.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import orjson

from billing.usage import Usage
from relay.errors import RelayError
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.gemini import gemini_error
from relay.providers.openai import apply_system_prompt
from relay.providers.shapes import bad_response, has_images, json_object, message_text, new_id, reject_fields
from relay.schemas import RelayRequest

PROVIDER = "PaLM"
PATH = "/v1beta2/models/chat-bison-001:generateMessage"
_UNSUPPORTED = ("tools", "functions", "tool_choice", "stop", "response_format", "logprobs", "audio", "seed")


def message_body(body: dict, *, system_prompt: str = "") -> dict:
    """An OpenAI chat body → a ``generateMessage`` body. Raises RelayError(400) for what PaLM lacks."""
    reject_fields(body, PROVIDER, _UNSUPPORTED)
    if system_prompt:
        body = {**body}
        apply_system_prompt(body, system_prompt)
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    if has_images(messages):
        raise RelayError(
            400, "PaLM does not support image content", code="unsupported_parameter", param="messages"
        )
    context = "\n".join(
        message_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")
    )
    turns = [
        {"author": "0" if m.get("role") == "user" else "1", "content": message_text(m.get("content"))}
        for m in messages
        if m.get("role") not in ("system", "developer")
    ]
    prompt: dict = {"messages": turns}
    if context:
        prompt["context"] = context
    out: dict = {"prompt": prompt}
    for ours, theirs in (("temperature", "temperature"), ("top_p", "topP")):
        if body.get(ours) is not None:
            out[theirs] = body[ours]
    if isinstance(body.get("n"), int) and body["n"] > 1:
        out["candidateCount"] = body["n"]
    return out


def choices(payload: dict) -> list[tuple[str, str]]:
    """(content, finish_reason) per candidate; a filtered answer is one empty content_filter choice."""
    candidates = [c for c in payload.get("candidates") or () if isinstance(c, dict)]
    if candidates:
        return [(str(c.get("content") or ""), "stop") for c in candidates]
    if payload.get("filters"):
        return [("", "content_filter")]
    raise bad_response("PaLM returned no candidates")


class PalmAdaptor(Adaptor):
    name = "palm"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._model = ""

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        if req.mode != "chat":
            return super().build_request(req, upstream_model)
        self._model = req.model
        prompt = self.channel.system_prompt
        payload = message_body(req.body or {}, system_prompt=prompt)
        headers = {"x-goog-api-key": self.channel.key, "Content-Type": "application/json"}
        url = (self.channel.base_url or self.info.base_url).rstrip("/") + PATH
        return UpstreamRequest("POST", url, headers, orjson.dumps(payload), bool(prompt))

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = json_object(body, PROVIDER)
        if "error" in payload:
            raise gemini_error(status, payload)
        answer = {
            "id": new_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": req.model,
            "choices": [
                {"index": i, "message": {"role": "assistant", "content": text}, "finish_reason": reason}
                for i, (text, reason) in enumerate(choices(payload))
            ],
        }
        return orjson.dumps(answer), None

    def stream_is_error(self, status: int, content_type: str) -> bool:
        return status != 200  # the one JSON answer is the "stream"

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        yield (await response.aread()).decode()

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        try:
            payload = json_object(data, PROVIDER)
            if "error" in payload:
                raise gemini_error(500, payload)
            answers = choices(payload)
        except RelayError as error:
            state.error = error
            return []
        frame = {"id": new_id(), "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": self._model or state.model}  # fmt: skip
        out = []
        for index, (text, reason) in enumerate(answers):
            state.add_text(text)
            delta = {"role": "assistant", "content": text}
            out.append({**frame, "choices": [{"index": index, "delta": delta, "finish_reason": None}]})
            out.append({**frame, "choices": [{"index": index, "delta": {}, "finish_reason": reason}]})
        state.finished = state.done = True
        return [orjson.dumps(chunk) for chunk in out]

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = None
        return gemini_error(status, payload)
