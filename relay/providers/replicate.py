"""Replicate (channel type 46): language and image models run as predictions.

https://replicate.com/docs/reference/http — ``POST <root>/v1/models/<owner>/<model>/predictions`` answers
201 with a prediction; ``follow_up`` polls it every ``POLL_INTERVAL_S`` until it succeeds, fails or is
canceled. A streamed chat reads the prediction's ``urls.stream`` server-sent events (``output`` / ``error`` /
``done``); without one, the finished prediction is replayed as a single final chunk. Poll and stream URLs are
moved onto the channel's base URL when the channel sets its own.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import httpx
import orjson
from httpx_sse import EventSource

from billing.usage import Usage
from relay.errors import RelayError, is_retryable_status
from relay.providers.anthropic.request import unsupported
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.schemas import RelayRequest

PROVIDER = "Replicate"
DEFAULT_ROOT = "https://api.replicate.com"
POLL_INTERVAL_S = 3.0  # tests patch this down
POLL_TIMEOUT_S = 600.0
FINAL = {"succeeded", "failed", "canceled"}

# https://replicate.com/docs/topics/predictions/lifecycle — Replicate reports no finish reason; a prediction
# that succeeded stopped on its own, as far as an OpenAI client can tell.
FINISH_REASONS = {"succeeded": "stop"}

# https://replicate.com/docs/reference/http#errors — status → (retry on another channel?, disable?)
ERRORS = {401: (True, True), 402: (True, True), 403: (True, True), 404: (True, False), 422: (False, False)}

# OpenAI chat fields Replicate's language models take no input for (a non-default value is refused by name).
UNSUPPORTED = {
    "n": (None, 1),
    "tools": (None, []),
    "functions": (None, []),
    "tool_choice": (None, "none"),
    "response_format": (None, {"type": "text"}),
    "logprobs": (None, False),
    "logit_bias": (None, {}),
}


def replicate_error(status: int, payload: object) -> RelayError:
    """A problem+json error (``{"title", "detail", "status"}``) → RelayError with its consequence."""
    payload = payload if isinstance(payload, dict) else {}
    message = str(payload.get("detail") or payload.get("title") or f"Replicate answered HTTP {status}")
    retryable, disable = ERRORS.get(status, (is_retryable_status(status), False))
    status = 400 if status == 422 else status
    kind = str(payload.get("title") or "replicate_error")
    return RelayError(
        status, message, type="upstream_error", code=kind, retryable=retryable, disable_channel=disable
    )


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = []
    for part in content or ():
        if not isinstance(part, dict) or part.get("type") != "text":
            raise unsupported(PROVIDER, "content parts other than text")
        parts.append(part.get("text") or "")
    return "".join(parts)


def chat_input(body: dict, system_prompt: str = "") -> dict:
    """OpenAI messages → a language model's ``input``: system_prompt plus one prompt of the turns."""
    for field, harmless in UNSUPPORTED.items():
        if field in body and body[field] not in harmless:
            raise unsupported(PROVIDER, field)
    messages = body.get("messages") or []
    systems = [_text(m.get("content")) for m in messages if m.get("role") in ("system", "developer")]
    turns = [m for m in messages if m.get("role") not in ("system", "developer")]
    if any(m.get("role") not in ("user", "assistant") for m in turns):
        raise unsupported(PROVIDER, "tool messages")
    if len(turns) == 1:
        prompt = _text(turns[0].get("content"))
    else:
        prompt = "\n".join(f"{m['role']}: {_text(m.get('content'))}" for m in turns) + "\nassistant:"
    out: dict = {"prompt": prompt}
    if system_prompt or systems:
        out["system_prompt"] = system_prompt or "\n\n".join(systems)
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        out["max_tokens"] = max_tokens  # llama-3 and most chat models; others ignore unknown inputs
    for field in ("temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "seed"):
        if body.get(field) is not None:
            out[field] = body[field]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = stop if isinstance(stop, str) else ",".join(stop)
    return out


def image_input(body: dict) -> dict:
    """OpenAI image generation → an image model's ``input`` (prompt, aspect ratio, number of images)."""
    width, _, height = str(body.get("size") or "1024x1024").partition("x")
    if not (width.isdigit() and height.isdigit() and int(width) and int(height)):
        raise RelayError(400, f"{PROVIDER}: size must look like 1024x1024", param="size")
    divisor = math.gcd(int(width), int(height))
    out: dict = {
        "prompt": body["prompt"],
        "aspect_ratio": f"{int(width) // divisor}:{int(height) // divisor}",
    }
    if int(body.get("n") or 1) > 1:
        out["num_outputs"] = int(body["n"])
    return out


def output_text(output: object) -> str:
    if isinstance(output, list):
        return "".join(str(piece) for piece in output)
    return "" if output is None else str(output)


def prediction_usage(prediction: dict) -> Usage | None:
    metrics = prediction.get("metrics")
    if isinstance(metrics, dict) and isinstance(metrics.get("input_token_count"), int):
        return Usage(metrics["input_token_count"], int(metrics.get("output_token_count") or 0))
    return None


def failure(prediction: dict) -> RelayError:
    status = prediction.get("status")
    message = str(prediction.get("error") or f"Replicate prediction {prediction.get('id', '')} was {status}")
    return RelayError(502, message, type="upstream_error", code=f"prediction_{status}", retryable=True)


def chat_completion(prediction: dict, model: str) -> tuple[dict, Usage | None]:
    usage = prediction_usage(prediction)
    message = {"role": "assistant", "content": output_text(prediction.get("output"))}
    answer = {
        "id": f"chatcmpl-{prediction.get('id', '')}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }
    if usage is not None:
        answer["usage"] = usage.as_openai()
    return answer, usage


class ReplicateAdaptor(Adaptor):
    name = "replicate"

    def root(self) -> str:
        base = (self.channel.base_url or self.info.base_url or DEFAULT_ROOT).rstrip("/")
        for suffix in ("/v1/models", "/v1"):
            base = base.removesuffix(suffix)
        return base

    def rebased(self, url: str) -> str:
        """A URL Replicate handed out, moved onto the channel's own base URL when it has one."""
        if not self.channel.base_url or urlsplit(self.root()).netloc == urlsplit(DEFAULT_ROOT).netloc:
            return url
        parts = urlsplit(url)
        return self.root() + parts.path + (f"?{parts.query}" if parts.query else "")

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.channel.key}", "Content-Type": "application/json"}

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        body = req.body or {}
        system_prompt = self.channel.system_prompt if req.mode == "chat" else ""
        if req.mode == "chat":
            payload: dict = {"input": chat_input(body, system_prompt)}
            if req.stream:
                payload["stream"] = True
        elif req.mode == "images":
            payload = {"input": image_input(body)}
        else:
            raise RelayError(
                400, f"{PROVIDER} does not support {req.path}", code="unsupported_endpoint", param="mode"
            )
        url = f"{self.root()}/v1/models/{upstream_model}/predictions"
        return UpstreamRequest(
            "POST", url, self.headers(), orjson.dumps(payload), system_prompt_reset=bool(system_prompt)
        )

    async def follow_up(
        self, client: httpx.AsyncClient, req: RelayRequest, response: httpx.Response
    ) -> httpx.Response:
        if response.status_code not in (200, 201):
            return response
        prediction = self.prediction(await response.aread())
        await response.aclose()
        stream_url = (prediction.get("urls") or {}).get("stream")
        if req.stream and stream_url and prediction.get("status") not in FINAL:
            headers = {"Authorization": f"Bearer {self.channel.key}", "Accept": "text/event-stream"}
            request = client.build_request("GET", self.rebased(stream_url), headers=headers)
            return await self.call(client.send(request, stream=True))
        prediction = await self.poll(client, prediction)
        if req.mode == "images" and (req.body or {}).get("response_format") == "b64_json":
            prediction["b64"] = [await self.download(client, url) for url in self.image_urls(prediction)]
        if req.stream:  # no stream URL: the whole answer as one final chunk, in Replicate's own framing
            return httpx.Response(
                200, headers={"content-type": "text/event-stream"}, content=replay_sse(prediction)
            )
        return httpx.Response(
            200, headers={"content-type": "application/json"}, content=orjson.dumps(prediction)
        )

    async def poll(self, client: httpx.AsyncClient, prediction: dict) -> dict:
        url = self.rebased(
            (prediction.get("urls") or {}).get("get") or f"/v1/predictions/{prediction.get('id')}"
        )
        deadline = time.monotonic() + POLL_TIMEOUT_S
        while prediction.get("status") not in FINAL:
            if time.monotonic() > deadline:
                message = f"Replicate prediction {prediction.get('id')} did not finish in time"
                raise RelayError(
                    504, message, type="upstream_error", code="prediction_timeout", retryable=True
                )
            await asyncio.sleep(POLL_INTERVAL_S)
            response = await self.call(client.get(url, headers=self.headers()))
            if response.status_code != 200:
                raise self.map_error(response.status_code, response.content)
            prediction = self.prediction(response.content)
        return prediction

    async def call(self, pending) -> httpx.Response:
        try:
            return await pending
        except httpx.HTTPError as exc:
            message = f"upstream unreachable: {exc.__class__.__name__}"
            raise RelayError(
                502, message, type="upstream_error", code="do_request_failed", retryable=True
            ) from None

    async def download(self, client: httpx.AsyncClient, url: str) -> str:
        response = await self.call(client.get(url))
        if response.status_code != 200:
            raise RelayError(
                502, f"Replicate image download failed: HTTP {response.status_code}", retryable=True
            )
        return base64.b64encode(response.content).decode()

    @staticmethod
    def prediction(body: bytes) -> dict:
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            raise RelayError(
                502,
                "Replicate returned invalid JSON",
                type="upstream_error",
                code="bad_response",
                retryable=True,
            )
        return payload

    @staticmethod
    def image_urls(prediction: dict) -> list[str]:
        output = prediction.get("output")
        return [str(u) for u in (output if isinstance(output, list) else [output]) if u]

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        prediction = self.prediction(body)
        if prediction.get("status") in FINAL - {"succeeded"}:
            raise failure(prediction)
        if prediction.get("status") != "succeeded":
            message = "Replicate prediction is not finished (poll it first)"
            raise RelayError(502, message, type="upstream_error", code="bad_response")
        if req.mode == "images":
            images = [{"b64_json": b} for b in prediction["b64"]] if "b64" in prediction else None
            data = images or [{"url": url} for url in self.image_urls(prediction)]
            if not data:
                raise RelayError(
                    502, "Replicate prediction produced no image", type="upstream_error", code="no_image"
                )
            return orjson.dumps({"created": int(time.time()), "data": data}), None
        answer, usage = chat_completion(prediction, req.model)
        return orjson.dumps(answer), usage

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        # Replicate's events are told apart by name (output / error / done), so pass the name along.
        async for event in EventSource(response).aiter_sse():
            yield orjson.dumps({"event": event.event, "data": event.data}).decode()

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        event = orjson.loads(data)
        name, text = event["event"], event["data"]
        base = {"id": f"chatcmpl-{id(state)}", "object": "chat.completion.chunk", "created": int(time.time()),
                "model": state.model}  # fmt: skip
        if name == "output":
            state.add_text(text)
            return [
                orjson.dumps(
                    {**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
                )
            ]
        if name == "error":
            detail = _detail(text) or "Replicate prediction failed"
            state.error = RelayError(
                502, detail, type="upstream_error", code="prediction_failed", retryable=True
            )
            return []
        if name == "done":
            reason = _detail(text, "reason")
            if reason:  # {"reason": "canceled"} or {"reason": "error"}
                state.error = RelayError(502, f"Replicate prediction ended: {reason}", type="upstream_error",
                                         code=f"prediction_{reason}")  # fmt: skip
                return []
            state.finished = state.done = True
            return [orjson.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})]
        if name in ("", "message", "ping"):
            return []
        state.error = RelayError(502, f"Replicate sent an unknown stream event {name!r}", type="upstream_error",
                                 code="bad_response")  # fmt: skip
        return []

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = {"detail": body[:200].decode("utf-8", "replace")}
        return replicate_error(status, payload)


def _detail(text: str, key: str = "detail") -> str:
    try:
        payload = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return text
    return str(payload.get(key) or "") if isinstance(payload, dict) else text


def replay_sse(prediction: dict) -> bytes:
    """A finished prediction in Replicate's stream framing, so one code path reads both kinds of stream."""
    if prediction.get("status") != "succeeded":
        detail = orjson.dumps({"detail": str(failure(prediction).message)}).decode()
        return f"event: error\ndata: {detail}\n\n".encode()
    lines = "\n".join(f"data: {line}" for line in output_text(prediction.get("output")).split("\n"))
    return f"event: output\n{lines}\n\nevent: done\ndata: {{}}\n\n".encode()
