"""DeepL (channel type 38): translation presented as a chat model.

https://developers.deepl.com/docs/api-reference/translate — ``POST /v2/translate`` with
``Authorization: DeepL-Auth-Key <key>``; the last user message is translated into the language the model name
ends with (``deepl-zh`` → ZH, ``deepl-en-us`` → EN-US). DeepL never streams: a stream request gets the one
translation as a content chunk and a finish chunk. Usage is the translated text's length in characters (what
DeepL bills), as prompt tokens, as in the original. Free keys (``…:fx``) live on api-free.deepl.com.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    chat_completion,
    has_images,
    json_object,
    message_text,
    reject_fields,
)
from relay.schemas import RelayRequest

PROVIDER = "DeepL"
MODEL_PREFIX = "deepl-"
PRO_URL = "https://api.deepl.com"
FREE_URL = "https://api-free.deepl.com"
# Sampling settings mean nothing to a translation engine and are ignored; these change the answer's shape.
_UNSUPPORTED = ("tools", "functions", "tool_choice", "n", "response_format", "logprobs", "audio")
# https://developers.deepl.com/docs/best-practices/error-handling — status → (retryable, disable channel)
_ERRORS = {
    403: (True, True),  # authorization failed: a bad key or the wrong (free/pro) host
    456: (True, True),  # quota exceeded: the character limit is reached
    429: (True, False),
    413: (False, False),
    400: (False, False),
}


def target_lang(model: str) -> str:
    """``deepl-zh`` → ``ZH``; anything else is not a DeepL model name."""
    if not model.lower().startswith(MODEL_PREFIX) or len(model) <= len(MODEL_PREFIX):
        raise RelayError(
            400, f"DeepL model names look like deepl-<target language>, not {model!r}", param="model"
        )
    return model[len(MODEL_PREFIX) :].upper()


def translate_body(body: dict, model: str) -> dict:
    """The last user message, to be translated into the model's language. Raises RelayError(400)."""
    reject_fields(body, PROVIDER, _UNSUPPORTED)
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    if has_images(messages):
        raise RelayError(
            400, "DeepL does not support image content", code="unsupported_parameter", param="messages"
        )
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    text = message_text(last.get("content")) if last else ""
    if not text:
        raise RelayError(400, "DeepL needs a user message with text to translate", param="messages")
    return {"text": [text], "target_lang": target_lang(model)}


def translation(payload: dict) -> str:
    translations = payload.get("translations")
    if not isinstance(translations, list) or not translations or not isinstance(translations[0], dict):
        raise bad_response("DeepL returned no translation")
    return "".join(str(t.get("text") or "") for t in translations if isinstance(t, dict))


def deepl_error(status: int, body: bytes) -> RelayError:
    try:
        payload = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        payload = {}
    message = payload.get("message") if isinstance(payload, dict) else None
    if status == 456 and not message:
        message = "Quota exceeded. The character limit has been reached."
    message = str(message or f"DeepL answered HTTP {status}")
    retryable, disable = _ERRORS.get(status, (is_retryable_status(status), False))
    return RelayError(
        status, message, "upstream_error", f"deepl_{status}", retryable=retryable, disable_channel=disable
    )


class DeepLAdaptor(Adaptor):
    name = "deepl"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._model = ""
        self._chars = 0  # length of the text sent, the usage of the answer

    def base_url(self) -> str:
        if self.channel.base_url:
            return self.channel.base_url.rstrip("/")
        return FREE_URL if self.channel.key.endswith(":fx") else PRO_URL

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        if req.mode != "chat":
            return super().build_request(req, upstream_model)
        self._model = req.model
        payload = translate_body(req.body or {}, upstream_model)
        self._chars = len(payload["text"][0])
        headers = {"Authorization": f"DeepL-Auth-Key {self.channel.key}", "Content-Type": "application/json"}
        return UpstreamRequest("POST", f"{self.base_url()}/v2/translate", headers, orjson.dumps(payload))

    def usage(self) -> Usage:
        return Usage(prompt_tokens=self._chars, completion_tokens=0)

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        text = translation(json_object(body, PROVIDER))
        usage = self.usage()
        return chat_completion(model=req.model, content=text, finish_reason="stop", usage=usage), usage

    def stream_is_error(self, status: int, content_type: str) -> bool:
        return status != 200  # the one JSON answer is the "stream"

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        yield (await response.aread()).decode()

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        try:
            text = translation(json_object(data, PROVIDER))
        except RelayError as error:
            state.error = error
            return []
        writer = ChunkWriter(model=self._model or state.model)
        state.usage = self.usage()
        state.done = True
        return writer.text(state, text) + writer.finish(state, "stop")

    def map_error(self, status: int, body: bytes) -> RelayError:
        return deepl_error(status, body)
