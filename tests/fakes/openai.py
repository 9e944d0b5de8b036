"""A fake OpenAI-compatible upstream that speaks the documented wire format (PROVIDERS.md §1).

Each channel in a test uses its own API key; ``FakeOpenAI.plan(key, ...)`` says how requests with that key
are answered. Every request is recorded (path, headers, parsed JSON body) for assertions.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from tests.fakes.server import read_body, send_answer


@dataclass
class Plan:
    status: int = 200
    error: dict | None = None  # body for non-200 answers (default: OpenAI-shaped error)
    content: str = "Hello from the fake upstream."
    chunks: list[str] | None = None  # stream pieces; default: content split into words
    chunk_delay: float = 0.0
    first_byte_delay: float = 0.0
    usage: dict | None = None  # override usage; None = computed from word counts
    omit_usage: bool = False
    drop_after: int | None = None  # stream: drop the connection after this many chunks
    raw_body: bytes | None = None  # answer these exact bytes (status as given)
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers (rate-limit counters…)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    raw: bytes
    # Streams only: content chunks written, whether the whole stream was written, and whether the gateway
    # hung up first (the fake stops streaming as soon as it notices, like a real server).
    chunks_sent: int = 0
    completed: bool = False
    disconnected: bool = False
    peer: tuple | None = None  # the gateway's address and port: one port for requests on one connection


@dataclass
class FakeOpenAI:
    plans: dict[str, Plan] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def plan(self, key: str, **kwargs) -> Plan:
        self.plans[key] = Plan(**kwargs)
        return self.plans[key]

    def reset(self) -> None:
        self.plans.clear()
        self.requests.clear()

    def requests_for(self, key: str) -> list[Recorded]:
        return [r for r in self.requests if r.headers.get("authorization") == f"Bearer {key}"]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        record = Recorded(scope["method"], scope["path"], headers, body, raw, peer=scope.get("client"))
        self.requests.append(record)
        key = headers.get("authorization", "").removeprefix("Bearer ")
        plan = self.plans.get(key, Plan())
        if plan.first_byte_delay:
            watcher = asyncio.ensure_future(_watch_disconnect(receive, record))
            await asyncio.sleep(plan.first_byte_delay)
            watcher.cancel()
            if record.disconnected:
                return  # the gateway gave up waiting
        await self._answer(plan, scope["path"], body or {}, send, record, receive)

    async def _answer(self, plan: Plan, path: str, body: dict, send, record=None, receive=None) -> None:
        if plan.raw_body is not None:
            return await send_answer(send, plan.status, plan.raw_body, plan.content_type)
        if plan.status != 200:
            error = plan.error or {
                "error": {
                    "message": f"fake error {plan.status}",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            }
            return await send_answer(send, plan.status, error)
        if path.endswith("/images/generations"):
            return await send_answer(send, 200, image_answer(int(body.get("n", 1))))
        if path.endswith("/audio/speech"):
            return await send_answer(send, 200, b"ID3-fake-mp3-bytes", "audio/mpeg")
        if path.endswith(("/audio/transcriptions", "/audio/translations")):
            return await send_answer(send, 200, {"text": plan.content})
        if path.endswith("/embeddings"):
            return await send_answer(send, 200, _embedding(body, plan))
        if body.get("stream"):
            return await _stream(send, plan, body, record, receive)
        return await send_answer(send, 200, _completion(body, plan), headers=plan.headers)


def _usage(body: dict, plan: Plan, completion_words: int) -> dict:
    if plan.usage is not None:
        return plan.usage
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", [])) or 1
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion_words,
        "total_tokens": prompt + completion_words,
    }


def _completion(body: dict, plan: Plan) -> dict:
    answer = {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", ""),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": plan.content}, "finish_reason": "stop"}
        ],
    }
    if not plan.omit_usage:
        answer["usage"] = _usage(body, plan, len(plan.content.split()))
    return answer


def _embedding(body: dict, plan: Plan) -> dict:
    inputs = body.get("input")
    inputs = inputs if isinstance(inputs, list) else [inputs]
    data = [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]} for i in range(len(inputs))]
    tokens = sum(len(str(i).split()) for i in inputs)
    answer = {"object": "list", "data": data, "model": body.get("model", "")}
    if not plan.omit_usage:
        answer["usage"] = plan.usage or {"prompt_tokens": tokens, "total_tokens": tokens}
    return answer


async def _stream(send, plan: Plan, body: dict, record: Recorded | None = None, receive=None) -> None:
    record = record or Recorded("POST", "", {}, body, b"")
    watcher = asyncio.ensure_future(_watch_disconnect(receive, record)) if receive is not None else None
    try:
        await _stream_chunks(send, plan, body, record)
    finally:
        if watcher is not None:
            watcher.cancel()


async def _watch_disconnect(receive, record: Recorded) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    record.disconnected = not record.completed


async def _stream_chunks(send, plan: Plan, body: dict, record: Recorded) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
        }
    )
    pieces = plan.chunks if plan.chunks is not None else [w + " " for w in plan.content.split()]
    base = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model", ""),
    }
    include_usage = (body.get("stream_options") or {}).get("include_usage")
    for index, piece in enumerate(pieces):
        if plan.drop_after is not None and index >= plan.drop_after:
            raise ConnectionResetError("fake upstream drops the connection")
        if record.disconnected:
            return
        chunk = {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        if include_usage:
            chunk["usage"] = None
        await send(
            {
                "type": "http.response.body",
                "body": f"data: {json.dumps(chunk)}\n\n".encode(),
                "more_body": True,
            }
        )
        record.chunks_sent += 1
        if plan.chunk_delay:
            await asyncio.sleep(plan.chunk_delay)
    final = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    await send(
        {"type": "http.response.body", "body": f"data: {json.dumps(final)}\n\n".encode(), "more_body": True}
    )
    if include_usage and not plan.omit_usage:
        usage_chunk = {**base, "choices": [], "usage": _usage(body, plan, len(pieces))}
        await send(
            {
                "type": "http.response.body",
                "body": f"data: {json.dumps(usage_chunk)}\n\n".encode(),
                "more_body": True,
            }
        )
    record.completed = not record.disconnected
    await send({"type": "http.response.body", "body": b"data: [DONE]\n\n", "more_body": False})


def image_answer(n: int) -> dict:
    return {
        "created": int(time.time()),
        "data": [{"url": f"https://images.example/{i}.png"} for i in range(n)],
    }
