"""Coze bots (channel type 34) through the v2 chat API, as in the original.

https://www.coze.com/docs/developer_guides/coze_api_overview — ``POST /open_api/v2/chat`` with a Bearer token:
the model ``bot-<id>`` names the bot, the last message is the ``query`` and the earlier ones the
``chat_history``; the channel's ``config.user_id`` is the Coze ``user``. The bot's own settings (persona,
plugins, model parameters) decide the answer, so tools, JSON modes and images are refused and sampling
settings ignored. Errors arrive with HTTP 200 and a non-zero ``code``. Coze reports no token usage: it is
counted locally. Streams are ``event:``/``data:`` SSE lines without a space, ending with ``{"event": "done"}``.
"""

from __future__ import annotations

import orjson

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.openai import apply_system_prompt
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    chat_completion,
    has_images,
    json_object,
    message_text,
    reject_fields,
    unsupported,
)
from relay.schemas import RelayRequest

PROVIDER = "Coze"
BOT_PREFIX = "bot-"
DEFAULT_USER = "one-api"
_UNSUPPORTED = ("tools", "functions", "tool_choice", "n", "response_format", "logprobs", "audio")
# https://www.coze.com/docs/developer_guides/coze_error_codes (v2 codes; 4000/4100/4101 confirmed, the rest
# unverified)
# code → (HTTP status, retryable, disable channel)
ERROR_CODES: dict[int, tuple[int, bool, bool]] = {
    4000: (400, False, False),  # invalid parameter
    4013: (429, True, False),  # request rate exceeded
    4015: (403, True, False),  # the bot is not published to the API channel
    4100: (401, True, True),  # invalid or expired token
    4101: (403, True, True),  # the token lacks permission for this bot
    4200: (404, True, False),  # the bot does not exist (maybe on another channel's account)
}


def chat_body(body: dict, bot_id: str, user: str, *, stream: bool, system_prompt: str = "") -> dict:
    """An OpenAI chat body → a v2 ``/chat`` body. Raises RelayError(400) for what a bot cannot take."""
    reject_fields(body, PROVIDER, _UNSUPPORTED)
    if system_prompt:
        body = {**body}
        apply_system_prompt(body, system_prompt)
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    if has_images(messages):
        raise unsupported(PROVIDER, "image content")
    if not messages or messages[-1].get("role") != "user":
        raise RelayError(400, "Coze needs the conversation to end with a user message", param="messages")
    # v2 history knows user and assistant turns; a system message is passed on as a user turn.
    history = [
        {
            "role": "assistant" if m.get("role") == "assistant" else "user",
            "content": message_text(m.get("content")),
            "content_type": "text",
        }
        for m in messages[:-1]
    ]
    return {
        "bot_id": bot_id,
        "user": user,
        "query": message_text(messages[-1].get("content")),
        "chat_history": history,
        "stream": stream,
    }


def answer_text(messages: list) -> str:
    """The ``answer`` messages' text; follow-up suggestions, verbose traces and plugin calls are not the answer."""
    return "".join(
        str(m.get("content") or "") for m in messages if isinstance(m, dict) and m.get("type") == "answer"
    )


def coze_error(status: int, payload: object) -> RelayError | None:
    """A body with a non-zero ``code`` (or an ``error`` event) → RelayError; None when it is no error."""
    if not isinstance(payload, dict):
        return None
    info = payload.get("error_information") if payload.get("event") == "error" else payload
    if not isinstance(info, dict) or not info.get("code"):
        return None
    code = int(info["code"]) if str(info["code"]).lstrip("-").isdigit() else -1
    message = str(info.get("msg") or info.get("message") or f"Coze error {code}")
    fallback = status if status >= 400 else 500
    status, retryable, disable = ERROR_CODES.get(code, (fallback, is_retryable_status(fallback), False))
    return RelayError(status, message, "upstream_error", code, retryable=retryable, disable_channel=disable)


class CozeAdaptor(Adaptor):
    name = "coze"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._writer: ChunkWriter | None = None
        self._model = ""

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        if req.mode != "chat":
            return super().build_request(req, upstream_model)
        self._model = req.model
        body = req.body or {}
        user = str(self.channel.config.get("user_id") or body.get("user") or DEFAULT_USER)
        prompt = self.channel.system_prompt
        bot_id = upstream_model.removeprefix(BOT_PREFIX)
        payload = chat_body(body, bot_id, user, stream=req.stream, system_prompt=prompt)
        headers = {"Authorization": f"Bearer {self.channel.key}", "Content-Type": "application/json"}
        if req.stream:
            headers["Accept"] = "text/event-stream"
        url = (self.channel.base_url or self.info.base_url).rstrip("/") + "/open_api/v2/chat"
        return UpstreamRequest("POST", url, headers, orjson.dumps(payload), bool(prompt))

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = json_object(body, PROVIDER)
        if (error := coze_error(status, payload)) is not None:
            raise error
        if not isinstance(payload.get("messages"), list):
            raise bad_response("Coze returned no messages")
        text = answer_text(payload["messages"])
        return chat_completion(model=req.model, content=text, finish_reason="stop", usage=None), None

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if self._writer is None:
            self._writer = ChunkWriter(model=self._model or state.model)
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            if data.strip('"') == "[DONE]":  # v3-style terminator, tolerated
                return self._done(state)
            state.error = bad_response("Coze sent a malformed stream event")
            return []
        kind = event.get("event") if isinstance(event, dict) else None
        if kind == "message":
            message = event.get("message") if isinstance(event.get("message"), dict) else {}
            if message.get("type") == "answer":
                return self._writer.text(state, str(message.get("content") or ""))
            return []  # follow-up suggestions, verbose traces, plugin calls: not part of the answer
        if kind == "done":
            return self._done(state)
        if kind == "error":
            state.error = coze_error(500, event) or bad_response("Coze sent an error event")
            return []
        state.error = bad_response(f"Coze sent an unknown stream event {str(kind)[:40]!r}")
        return []

    def _done(self, state: StreamState) -> list[bytes]:
        state.done = True
        return self._writer.finish(state, "stop")  # usage stays None: the relay counts it

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = None
        error = coze_error(status, payload)
        if error is not None:
            return error
        message = str(payload.get("msg") or "") if isinstance(payload, dict) else ""
        return RelayError(
            status, message or f"Coze answered HTTP {status}", "upstream_error", "bad_response_status_code",
            retryable=is_retryable_status(status), disable_channel=status == 401,
        )  # fmt: skip
