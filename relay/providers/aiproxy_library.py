"""AIProxy Library (channel type 21): question answering over a knowledge base, presented as a chat model.

``POST <base>/api/library/ask`` with a Bearer key, ``{"model", "query", "libraryId", "stream": false}``; the query
is the last message's text (the library keeps no conversation) and ``libraryId`` is the channel's
``config.library_id``. The answer gets its source documents appended as a numbered reference list. The library
is always asked for a whole answer; a streaming client receives it as one chunk. Sampling knobs
(temperature, top_p, max_tokens) have no meaning for a library lookup and are not sent; features that would
change the answer's shape (tools, n, stop, response_format, images) are refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status, should_disable_channel, upstream_error
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.shapes import (
    ChunkWriter,
    bad_response,
    chat_completion,
    has_images,
    json_object,
    message_text,
    reject_fields,
    unsupported,
    unsupported_mode,
)
from relay.schemas import RelayRequest

PROVIDER = "AIProxy Library"


def library_body(body: dict, model: str, library_id: str) -> dict:
    reject_fields(body, PROVIDER, ("tools", "functions", "n", "stop", "response_format", "logprobs"))
    if has_images(body["messages"]):
        raise unsupported(PROVIDER, "image_url")
    query = message_text(body["messages"][-1].get("content"))
    return {"model": model, "query": query, "libraryId": library_id, "stream": False}


def references(documents: object) -> str:
    """The documents as the original's Markdown list (https://docs.aiproxy.io/dev/library)."""
    items = [d for d in documents or () if isinstance(d, dict)] if isinstance(documents, list) else []
    if not items:
        return ""
    lines = [f"{i}. [{d.get('title') or ''}]({d.get('url') or ''})" for i, d in enumerate(items, 1)]
    return "\n\n参考文档：\n" + "\n".join(lines) + "\n"


def library_error(status: int, payload: dict) -> RelayError:
    code = payload.get("errCode")
    message = str(payload.get("message") or payload.get("msg") or f"AIProxy Library error {code}")
    status = status if status >= 400 else 500
    return RelayError(
        status,
        message,
        type="upstream_error",
        code=code if code not in (None, 0) else "bad_response",
        retryable=is_retryable_status(status),
        disable_channel=should_disable_channel(status, "", code, message),
    )


def answer_text(payload: dict, status: int = 200) -> str:
    if payload.get("errCode") or payload.get("success") is False:
        raise library_error(status, payload)
    if not isinstance(payload.get("answer"), str):
        raise bad_response("AIProxy Library answered without an answer")
    return payload["answer"] + references(payload.get("documents"))


class AIProxyLibraryAdaptor(Adaptor):
    name = "aiproxy_library"

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        if req.mode != "chat":
            raise unsupported_mode(PROVIDER, req.mode)
        library_id = str(self.channel.config.get("library_id") or "")
        if not library_id:
            raise RelayError(
                500,
                "this AIProxy Library channel has no library_id in its config",
                code="invalid_channel",
                retryable=True,
            )
        body = library_body(dict(req.body or {}), upstream_model, library_id)
        headers = {"Authorization": f"Bearer {self.channel.key}", "Content-Type": "application/json"}
        url = (self.channel.base_url or self.info.base_url).rstrip("/") + "/api/library/ask"
        return UpstreamRequest("POST", url, headers, orjson.dumps(body))

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        content = answer_text(json_object(body, PROVIDER), status)
        return chat_completion(model=req.model, content=content, finish_reason="stop", usage=None), None

    # A stream request gets the whole (JSON) answer replayed as one chunk.
    def stream_is_error(self, status: int, content_type: str) -> bool:
        return status != 200

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        yield (await response.aread()).decode("utf-8", "replace")

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        try:
            content = answer_text(json_object(data, PROVIDER))
        except RelayError as error:
            state.error = error
            return []
        writer = ChunkWriter(model=state.model)
        out = writer.text(state, content)
        state.done = True
        return out + writer.finish(state, "stop")

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict) and (payload.get("errCode") or payload.get("success") is False):
            return library_error(status, payload)
        return upstream_error(status, body)
