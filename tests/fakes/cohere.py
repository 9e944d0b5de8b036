"""A fake Cohere v1 upstream speaking the documented wire format (PROVIDERS.md §11, docs.cohere.com/v1).

It checks what Cohere v1 needs: the Bearer key (an unknown key gets ``401 {"message": "invalid api token"}``),
``/v1/chat`` bodies with a ``message`` (or ``tool_results``), ``chat_history`` roles USER/CHATBOT/SYSTEM/TOOL,
no OpenAI-only fields, ``p`` ≤ 0.99, and tools as ``parameter_definitions``. Streams are NDJSON ending in
``stream-end``. Each test plans answers per key with ``plan()``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import RecordingUpstream, send_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cohere"
ROLES = {"USER", "CHATBOT", "SYSTEM", "TOOL"}
OPENAI_ONLY = {"messages", "top_p", "n", "stop", "tool_choice", "max_completion_tokens"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Plan:
    text: str = "Hello from Cohere."
    chunks: list[str] | None = None
    calls: list[dict] | None = None  # [{"name", "parameters"}]
    finish: str = "COMPLETE"
    billed: tuple[int, int] = (7, 0)  # (input, output); output 0 = word count
    status: int = 200
    error: bytes | None = None
    stop_early: bool = False
    unknown_event: bool = False


@dataclass
class FakeCohere(RecordingUpstream):
    plans: dict[str, Plan] = field(default_factory=dict)

    def plan(self, key: str, **kwargs) -> Plan:
        self.plans[key] = Plan(**kwargs)
        return self.plans[key]

    def reset(self) -> None:
        self.plans.clear()
        self.received.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = await self.record(scope, receive)
        headers, body = request.headers, request.body
        key = headers.get("authorization", "").removeprefix("Bearer ")
        plan = self.plans.get(key)
        if plan is None:
            return await send_answer(send, 401, fixture("error_401.json"))
        if plan.status != 200:
            return await send_answer(send, plan.status, plan.error or b'{"message": "fake error"}')
        if scope["path"] == "/v1/embed":
            if not body.get("texts") or not body.get("input_type"):
                return await send_answer(send, 400, b'{"message": "texts and input_type are required"}')
            vectors = [[0.5, float(i)] for i in range(len(body["texts"]))]
            meta = {"billed_units": {"input_tokens": plan.billed[0]}}
            answer = {"id": "e1", "texts": body["texts"], "embeddings": vectors, "meta": meta}
            return await send_answer(send, 200, answer)
        if scope["path"] != "/v1/chat":
            return await send_answer(send, 404, b'{"message": "404 page not found"}')
        if problem := _check(body):
            return await send_answer(send, 400, {"message": problem})
        if body.get("stream"):
            return await _stream(send, plan)
        return await send_answer(send, 200, _response(plan, plan.text))


def _check(body: dict) -> str:
    if "message" not in body:
        return "invalid request: message must be a non-empty string"
    if not body["message"] and not body.get("tool_results"):
        return "invalid request: message must be at least 1 token long or tool results must be specified."
    if unknown := OPENAI_ONLY & set(body):
        return f"invalid request: unknown field {sorted(unknown)[0]}"
    if body.get("p") is not None and not 0.01 <= body["p"] <= 0.99:
        return "invalid request: p must be between 0.01 and 0.99"
    for turn in body.get("chat_history") or []:
        if turn.get("role") not in ROLES:
            return f"invalid request: invalid role {turn.get('role')}"
    for tool in body.get("tools") or []:
        for definition in (tool.get("parameter_definitions") or {}).values():
            if set(definition) - {"description", "type", "required"}:
                return "invalid request: unknown field in parameter_definitions"
    return ""


def _response(plan: Plan, text: str) -> dict:
    output = plan.billed[1] or len(plan.text.split())
    meta = {
        "api_version": {"version": "1"},
        "billed_units": {"input_tokens": plan.billed[0], "output_tokens": output},
        "tokens": {"input_tokens": plan.billed[0] + 64, "output_tokens": output},
    }
    response = {"response_id": "r-1", "text": text, "generation_id": "g-1", "chat_history": [],
                "finish_reason": plan.finish, "meta": meta}  # fmt: skip
    if plan.calls:
        response["tool_calls"] = plan.calls
    return response


async def _stream(send, plan: Plan) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/stream+json")],
        }
    )
    events: list[dict] = [{"is_finished": False, "event_type": "stream-start", "generation_id": "g-1"}]
    if plan.calls:
        events.append({"is_finished": False, "event_type": "tool-calls-chunk", "text": plan.text})
        events.append(
            {
                "is_finished": False,
                "event_type": "tool-calls-generation",
                "text": plan.text,
                "tool_calls": plan.calls,
            }
        )
    else:
        pieces = plan.chunks if plan.chunks is not None else [w + " " for w in plan.text.split()]
        events += [{"is_finished": False, "event_type": "text-generation", "text": p} for p in pieces]
    if plan.unknown_event:
        events.append({"is_finished": False, "event_type": "brand-new-event"})
    if not plan.stop_early:
        events.append({"is_finished": True, "event_type": "stream-end", "finish_reason": plan.finish,
                       "response": _response(plan, plan.text)})  # fmt: skip
    for event in events:
        await send(
            {"type": "http.response.body", "body": json.dumps(event).encode() + b"\n", "more_body": True}
        )
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
