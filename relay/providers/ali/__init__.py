"""Alibaba DashScope native API (channel type 17): Qwen chat, text embeddings and wanx image synthesis.

Bearer key; ``X-DashScope-SSE: enable`` to stream (framing ``id:/event:/:HTTP_STATUS/200/data:``, read by
httpx-sse); ``X-DashScope-Plugin`` from the channel's ``config.plugin``. The wire translation is in ``wire``;
image tasks (``X-DashScope-Async``) in ``images``: ``follow_up``, which the relay calls after the send, polls
them; ``run_image_task`` sends and polls on its own.
"""

from __future__ import annotations

import httpx
import orjson

from billing.usage import Usage
from relay.errors import RelayError, upstream_error
from relay.providers.ali.images import (
    SYNTHESIS_PATH,
    image_answer,
    image_body,
    poll_image_task,
    run_image_task,
)
from relay.providers.ali.wire import (
    EMBEDDING_PATH,
    FINISH_REASONS,
    MULTIMODAL_PATH,
    PROVIDER,
    TEXT_PATH,
    ali_error,
    chat_answer,
    chat_body,
    choices_of,
    embedding_answer,
    embedding_body,
    error_payload,
    stream_delta,
    usage_of,
)
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.providers.openai import apply_system_prompt
from relay.providers.shapes import ChunkWriter, bad_response, json_object, now, unsupported_mode
from relay.schemas import RelayRequest

__all__ = ["AliAdaptor", "poll_image_task", "run_image_task"]


class AliAdaptor(Adaptor):
    name = "ali"

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        base = (self.channel.base_url or self.info.base_url).rstrip("/")
        headers = {"Authorization": f"Bearer {self.channel.key}", "Content-Type": "application/json"}
        if plugin := self.channel.config.get("plugin"):
            headers["X-DashScope-Plugin"] = str(plugin)
        body = dict(req.body or {})
        reset = False
        if req.mode == "chat":
            if self.channel.system_prompt:
                apply_system_prompt(body, self.channel.system_prompt)
                reset = True
            payload, multimodal = chat_body(body, upstream_model, req.stream)
            url = base + (MULTIMODAL_PATH if multimodal else TEXT_PATH)
            if req.stream:
                headers.update({"Accept": "text/event-stream", "X-DashScope-SSE": "enable"})
        elif req.mode == "embeddings":
            payload, url = embedding_body(body, upstream_model), base + EMBEDDING_PATH
        elif req.mode == "images":
            payload, url = image_body(body, upstream_model), base + SYNTHESIS_PATH
            headers["X-DashScope-Async"] = "enable"
        else:
            raise unsupported_mode(PROVIDER, req.mode)
        return UpstreamRequest("POST", url, headers, orjson.dumps(payload), system_prompt_reset=reset)

    async def follow_up(
        self, client: httpx.AsyncClient, req: RelayRequest, response: httpx.Response
    ) -> httpx.Response:
        """Images: the answer is a task id; poll the task and answer with its final state."""
        if req.mode != "images" or response.status_code != 200:
            return response
        created = await response.aread()
        await response.aclose()
        authorization = response.request.headers.get("authorization", "")
        final = await poll_image_task(
            client,
            str(response.request.url),
            authorization,
            created,
            response_format=(req.body or {}).get("response_format"),
        )
        return httpx.Response(200, headers={"content-type": "application/json"}, content=final)

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = json_object(body, PROVIDER)
        if payload.get("code") and not payload.get("output"):
            raise ali_error(status, payload)
        if req.mode == "images":
            return image_answer(payload), None
        if req.mode == "embeddings":
            return embedding_answer(payload, req.model, (req.body or {}).get("encoding_format"))
        answer = chat_answer(payload, req.model, str(payload.get("request_id") or ""))
        if not answer["choices"]:
            raise bad_response("DashScope answered without choices")
        usage = usage_of(payload)
        if usage is not None:
            answer["usage"] = usage.as_openai()
        answer["created"] = now()
        return orjson.dumps(answer), usage

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_response("DashScope sent a malformed stream event")
            return []
        if not isinstance(event, dict):
            state.error = bad_response("DashScope sent an unexpected stream event")
            return []
        if event.get("code") and not event.get("output"):  # event:error
            state.error = ali_error(500, event)
            return []
        if (usage := usage_of(event)) is not None and (usage.prompt_tokens or usage.completion_tokens):
            state.usage = usage  # running totals: the last one wins
        writer = self._writer(state, str(event.get("request_id") or ""))
        out: list[bytes] = []
        for choice in choices_of(event):
            delta, text = stream_delta(choice)
            state.add_text(text)
            reason = choice.get("finish_reason")
            finish = FINISH_REASONS.get(reason, reason)
            if delta:
                out.append(writer.chunk(delta))
            if finish:
                out += writer.finish(state, finish)
        return out

    def _writer(self, state: StreamState, request_id: str) -> ChunkWriter:
        writer = getattr(self, "_chunks", None)
        if writer is None:
            writer = self._chunks = ChunkWriter(model=state.model)
            if request_id:
                writer.id = f"chatcmpl-{request_id}"
        return writer

    def map_error(self, status: int, body: bytes) -> RelayError:
        payload = error_payload(body)
        return ali_error(status, payload) if payload else upstream_error(status, body)
