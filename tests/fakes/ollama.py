"""A fake Ollama (native API) speaking the documented wire format (PROVIDERS.md §15, ollama docs/api.md).

It checks what Ollama needs: ``/api/chat`` bodies with ``messages`` of known roles, images as bare base64 (a
``data:`` prefix is an error, as in Ollama), tool-call arguments as objects, ``options`` names; and, when a
plan sets ``key``, the Bearer token (ollama.com). ``stream`` defaults to true, as in Ollama. Streams are NDJSON.
Each test plans answers per model name with ``plan()``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import RecordingUpstream, send_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ollama"
ROLES = {"system", "user", "assistant", "tool"}
OPTIONS = {"temperature", "top_p", "top_k", "num_predict", "stop", "seed", "num_ctx", "frequency_penalty",
           "presence_penalty"}  # fmt: skip


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Plan:
    text: str = "Hello from Ollama."
    chunks: list[str] | None = None  # stream pieces; default: the text split into words
    calls: list[dict] | None = None  # tool calls {"name", "arguments": {...}} instead of text
    key: str = ""  # expected Bearer key ("" = a local Ollama: none expected)
    prompt_eval_count: int | None = 10
    eval_count: int = 0  # 0 = number of pieces
    done_reason: str = "stop"
    status: int = 200
    error: str = ""  # {"error": ...} body for status != 200, or a mid-stream error after the chunks
    stop_early: bool = False  # stream: end without the done line


@dataclass
class FakeOllama(RecordingUpstream):
    plans: dict[str, Plan] = field(default_factory=dict)

    def plan(self, model: str, **kwargs) -> Plan:
        self.plans[model] = Plan(**kwargs)
        return self.plans[model]

    def reset(self) -> None:
        self.plans.clear()
        self.received.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = await self.record(scope, receive)
        headers, body = request.headers, request.body
        model = body.get("model", "")
        plan = self.plans.get(model)
        if plan is None:
            return await send_answer(send, 404, {"error": f'model "{model}" not found, try pulling it first'})
        if plan.key and headers.get("authorization") != f"Bearer {plan.key}":
            return await send_answer(send, 401, {"error": "unauthorized"})
        if plan.status != 200:
            return await send_answer(send, plan.status, {"error": plan.error})
        if scope["path"] == "/api/embed":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            vectors = [[0.25, float(i)] for i, _ in enumerate(inputs)]
            return await send_answer(
                send, 200, {"model": model, "embeddings": vectors, "prompt_eval_count": 7}
            )
        if scope["path"] != "/api/chat":
            return await send_answer(send, 404, {"error": "404 page not found"})
        if problem := _check(body):
            return await send_answer(send, 400, {"error": problem})
        if body.get("stream", True):
            return await _stream(send, plan, model)
        return await send_answer(send, 200, _final(plan, model, plan.text))


def _check(body: dict) -> str:
    for message in body.get("messages") or []:
        if message.get("role") not in ROLES:
            return f"invalid role: {message.get('role')}"
        if not isinstance(message.get("content", ""), str):
            return "json: cannot unmarshal array into Go struct field Message.messages.content of type string"
        for image in message.get("images") or []:
            try:
                base64.b64decode(image, validate=True)
            except binascii.Error:
                return "illegal base64 data at input byte 4"
        for call in message.get("tool_calls") or []:
            if not isinstance(call["function"].get("arguments"), dict):
                return "json: cannot unmarshal string into Go struct field .arguments of type map[string]interface {}"
    unknown = set(body.get("options") or {}) - OPTIONS
    return f"invalid options: {sorted(unknown)}" if unknown else ""


def _final(plan: Plan, model: str, content: str, pieces: int | None = None) -> dict:
    message: dict = {"role": "assistant", "content": content}
    if plan.calls and pieces is None:
        message = {"role": "assistant", "content": "", "tool_calls": [{"function": c} for c in plan.calls]}
    final = {"model": model, "created_at": "2025-01-01T00:00:00Z", "message": message, "done": True,
             "done_reason": plan.done_reason, "total_duration": 1000, "eval_count": plan.eval_count or
             (pieces if pieces is not None else len(content.split()))}  # fmt: skip
    if plan.prompt_eval_count is not None:
        final["prompt_eval_count"] = plan.prompt_eval_count
    return final


async def _stream(send, plan: Plan, model: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/x-ndjson")],
        }
    )
    pieces = plan.chunks if plan.chunks is not None else [w + " " for w in plan.text.split()]
    lines = []
    if plan.calls:
        calls = [{"function": c} for c in plan.calls]
        lines.append(
            {
                "model": model,
                "message": {"role": "assistant", "content": "", "tool_calls": calls},
                "done": False,
            }
        )
        pieces = []
    lines += [{"model": model, "message": {"role": "assistant", "content": p}, "done": False} for p in pieces]
    if plan.error:
        lines.append({"error": plan.error})
    elif not plan.stop_early:
        lines.append(_final(plan, model, "", pieces=len(pieces) or 1))
    for line in lines:
        await send(
            {"type": "http.response.body", "body": json.dumps(line).encode() + b"\n", "more_body": True}
        )
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
