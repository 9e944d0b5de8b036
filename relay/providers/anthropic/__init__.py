"""Anthropic Messages API (channel type 14): OpenAI chat in, Claude out, both ways, streaming included.

https://docs.anthropic.com/en/api/messages — the translation lives in ``request`` and ``response`` so the
Bedrock and Vertex adaptors, which host the same models behind other doors, reuse it.
"""

from __future__ import annotations

import orjson

from billing.usage import Usage
from relay.errors import RelayError
from relay.providers.anthropic.request import messages_body
from relay.providers.anthropic.response import (
    StreamTranslator,
    anthropic_error,
    bad_stream,
    chat_completion,
    error_from_body,
)
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.schemas import RelayRequest

DEFAULT_VERSION = "2023-06-01"
# https://docs.anthropic.com/en/api/beta-headers — what the original sends when the client names no beta.
DEFAULT_BETA = "messages-2023-12-15"
SONNET_35_BETA = "max-tokens-3-5-sonnet-2024-07-15"


def parse_json(body: bytes) -> object:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RelayError(
            502, "upstream returned invalid JSON", type="upstream_error", code="bad_response", retryable=True
        ) from None


class ClaudeMessagesMixin:
    """Messages-API answers and stream events, shared by the Anthropic, Bedrock and Vertex adaptors."""

    provider = "Anthropic"
    _translator: StreamTranslator | None = None
    _translating: StreamState | None = None

    def require_chat(self, req: RelayRequest) -> dict:
        if req.mode != "chat" or req.body is None:
            raise RelayError(
                400, f"{self.provider} does not support {req.path}", code="unsupported_endpoint", param="mode"
            )
        return req.body

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = parse_json(body)
        if not isinstance(payload, dict) or payload.get("type") == "error":
            raise anthropic_error(status, payload)
        answer, usage = chat_completion(payload, req.model)
        return orjson.dumps(answer), usage

    def translator(self, state: StreamState) -> StreamTranslator:
        # One adaptor instance serves one attempt, so one stream; the state check guards reuse anyway.
        if self._translator is None or self._translating is not state:
            self._translator = StreamTranslator(state.model)
            self._translating = state
        return self._translator

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if data == "[DONE]":  # some Anthropic-compatible proxies end with it
            state.done = state.done or state.finished
            return []
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_stream("upstream sent a malformed stream event")
            return []
        return self.translator(state).translate(event, state)

    def map_error(self, status: int, body: bytes) -> RelayError:
        return error_from_body(status, body)


class AnthropicAdaptor(ClaudeMessagesMixin, Adaptor):
    name = "anthropic"

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        body = self.require_chat(req)
        system_prompt = self.channel.system_prompt
        payload = messages_body(body, upstream_model, system_prompt=system_prompt)
        base = (self.channel.base_url or self.info.base_url).rstrip("/")
        return UpstreamRequest(
            "POST",
            f"{base}/v1/messages",
            self.headers(req, upstream_model),
            orjson.dumps(payload),
            system_prompt_reset=bool(system_prompt),
        )

    def headers(self, req: RelayRequest, upstream_model: str) -> dict[str, str]:
        client = req.headers
        beta = client.get("anthropic-beta") or DEFAULT_BETA
        if "anthropic-beta" not in client and upstream_model.startswith("claude-3-5-sonnet"):
            beta = f"{beta},{SONNET_35_BETA}"
        headers = {
            "x-api-key": self.channel.key,
            "anthropic-version": client.get("anthropic-version") or DEFAULT_VERSION,
            "anthropic-beta": beta,
            "Content-Type": "application/json",
        }
        if req.stream:
            headers["Accept"] = "text/event-stream"
        return headers
