"""Google Gemini (AI Studio / Generative Language API), channel type 24.

``<base>/<version>/models/<model>:generateContent`` (``:streamGenerateContent?alt=sse`` to stream,
``:batchEmbedContents`` for embeddings), key in ``x-goog-api-key``. The translation lives in pure modules
that Gemini-on-Vertex reuses: ``request`` (OpenAI → Gemini bodies), ``response`` (answers, stream events,
errors → OpenAI) and ``schema`` (JSON Schema → Gemini's OpenAPI subset); their public names are re-exported
here.
"""

from __future__ import annotations

import re

import orjson
from django.conf import settings

from billing.usage import Usage
from relay import tokens
from relay.errors import RelayError
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.gemini.request import (
    SAFETY_CATEGORIES,
    THINKING_BUDGETS,
    chat_contents,
    chat_request,
    content_parts,
    embedding_request,
    function_declaration,
    function_declarations,
    generation_config,
    media_part,
)
from relay.providers.gemini.response import (
    FINISH_REASONS,
    GeminiStream,
    bad_response,
    candidate_parts,
    chat_response,
    embedding_response,
    finish_reason,
    gemini_error,
    stream_chunks,
    usage_from_metadata,
)
from relay.providers.gemini.schema import clean_schema
from relay.schemas import RelayRequest

__all__ = [
    "FINISH_REASONS",
    "SAFETY_CATEGORIES",
    "THINKING_BUDGETS",
    "GeminiAdaptor",
    "GeminiStream",
    "candidate_parts",
    "chat_contents",
    "chat_request",
    "chat_response",
    "clean_schema",
    "content_parts",
    "embedding_request",
    "embedding_response",
    "finish_reason",
    "function_declaration",
    "function_declarations",
    "gemini_error",
    "generation_config",
    "media_part",
    "parse_json",
    "stream_chunks",
    "usage_from_metadata",
]

# https://ai.google.dev/gemini-api/docs/api-versions — systemInstruction, tools, JSON schemas and thinking
# need v1beta on these families; other models use the channel's api_version or GEMINI_VERSION.
_V1BETA_MODELS = re.compile(r"^(models/)?gemini-(1\.5|[2-9]|exp|embedding)")


def parse_json(body: bytes | str) -> dict:
    """An upstream JSON object, or a retryable 502 for truncated / non-object answers."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise bad_response("Gemini returned invalid JSON") from None
    if not isinstance(payload, dict):
        raise bad_response("Gemini returned unexpected JSON")
    return payload


class GeminiAdaptor(Adaptor):
    name = "gemini"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._stream: GeminiStream | None = None
        self._model = ""  # the model the client asked for, echoed in answers

    def api_version(self, model: str) -> str:
        configured = self.channel.config.get("api_version")
        if configured:
            return str(configured)
        return "v1beta" if _V1BETA_MODELS.match(model) else settings.GEMINI_VERSION

    def url(self, model: str, method: str) -> str:
        base = (self.channel.base_url or self.info.base_url).rstrip("/")
        model = model.removeprefix("models/")
        return f"{base}/{self.api_version(model)}/models/{model}:{method}"

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        body = req.body or {}
        self._model = req.model
        headers = {"x-goog-api-key": self.channel.key, "Content-Type": "application/json"}
        if req.mode == "embeddings":
            payload = embedding_request(body, upstream_model)
            url = self.url(upstream_model, "batchEmbedContents")
            return UpstreamRequest("POST", url, headers, orjson.dumps(payload))
        if req.mode != "chat":
            return super().build_request(req, upstream_model)
        system_prompt = self.channel.system_prompt
        payload = chat_request(
            body, system_prompt=system_prompt, safety_threshold=settings.GEMINI_SAFETY_SETTING
        )
        if req.stream:
            url = self.url(upstream_model, "streamGenerateContent") + "?alt=sse"
            headers["Accept"] = "text/event-stream"
        else:
            url = self.url(upstream_model, "generateContent")
        return UpstreamRequest(
            "POST", url, headers, orjson.dumps(payload), system_prompt_reset=bool(system_prompt)
        )

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = parse_json(body)
        model = req.model
        if req.mode == "embeddings":
            answer = embedding_response(payload, model, (req.body or {}).get("encoding_format"))
            # Gemini reports no embedding usage: count the input as OpenAI would.
            usage = Usage(tokens.count_input((req.body or {}).get("input") or "", model), 0)
            answer["usage"] = usage.as_openai()
            return orjson.dumps(answer), usage
        answer, usage = chat_response(payload, model)
        return orjson.dumps(answer), usage

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if self._stream is None:
            self._stream = GeminiStream(model=self._model or state.model)
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_response("Gemini sent a malformed stream event")
            return []
        if not isinstance(payload, dict):
            state.error = bad_response("Gemini sent an unexpected stream event")
            return []
        return stream_chunks(payload, state, self._stream)

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = None
        return gemini_error(status, payload)
