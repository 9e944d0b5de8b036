"""A fake Anthropic Messages API (PROVIDERS.md §3) that checks what it receives and answers in the wire format.

Each channel uses its own API key; ``FakeAnthropic.plan(key, ...)`` says how requests with that key are
answered. A request without a planned ``x-api-key`` gets Anthropic's 401; one that breaks the documented
request rules (no anthropic-version, no max_tokens, roles not alternating, a system role in ``messages``)
gets Anthropic's 400, so a bad translation fails the test loudly.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from tests.fakes.server import Received, receive_request, send_answer


@dataclass
class Plan:
    status: int = 200
    error: dict | None = None  # Anthropic error body for non-200 answers
    text: str = "Hello from Claude."
    tool: dict | None = None  # {"id", "name", "input"}: answer with a tool_use block after the text
    stop_reason: str = "end_turn"
    usage: dict = field(default_factory=lambda: {"input_tokens": 20, "output_tokens": 6})
    stream_error_after: int | None = None  # stream: send an error event after this many text deltas
    omit_message_stop: bool = False  # stream: end without the final event
    raw_sse: bytes | None = None  # stream: send exactly these bytes
    no_space: bool = False  # stream: "data:{...}" (no space after the colon), which SSE allows


@dataclass
class FakeAnthropic:
    plans: dict[str, Plan] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)

    def plan(self, key: str, **kwargs) -> Plan:
        self.plans[key] = Plan(**kwargs)
        return self.plans[key]

    def reset(self) -> None:
        self.plans.clear()
        self.requests.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = await receive_request(scope, receive)
        self.requests.append(request)
        headers, body = request.headers, request.body
        plan = self.plans.get(headers.get("x-api-key", ""))
        if scope["path"] != "/v1/messages" or scope["method"] != "POST":
            return await _send(send, 404, _error("not_found_error", f"Not found: {scope['path']}"))
        if plan is None:
            return await _send(send, 401, _error("authentication_error", "invalid x-api-key"))
        if problem := _invalid(headers, body):
            return await _send(send, 400, _error("invalid_request_error", problem))
        if plan.status != 200:
            return await _send(send, plan.status, plan.error or _error("api_error", "Internal server error"))
        if body.get("stream"):
            return await claude_stream(send, plan, body)
        return await _send(send, 200, claude_message(plan, body))


def _error(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_fake"}


def _invalid(headers: dict[str, str], body: dict) -> str:
    if not headers.get("anthropic-version"):
        return "anthropic-version: header is required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    if not body.get("model"):
        return "model: Field required"
    roles = [m.get("role") for m in body.get("messages") or []]
    if not roles or roles[0] != "user":
        return "messages: first message must use the user role"
    if any(role not in ("user", "assistant") for role in roles):
        return "messages: Unexpected role. Use the top-level system parameter instead."
    if any(a == b for a, b in zip(roles, roles[1:], strict=False)):
        return "messages: roles must alternate between user and assistant"
    return ""


def claude_message(plan: Plan, body: dict) -> dict:
    content: list[dict] = [{"type": "text", "text": plan.text}] if plan.text else []
    if plan.tool:
        content.append({"type": "tool_use", **plan.tool})
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "claude"),
        "content": content,
        "stop_reason": "tool_use" if plan.tool else plan.stop_reason,
        "stop_sequence": None,
        "usage": plan.usage,
    }


def claude_events(plan: Plan, body: dict) -> list[tuple[str, dict]]:
    start_usage = {k: v for k, v in plan.usage.items() if k != "output_tokens"} | {"output_tokens": 1}
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "content": [],
               "model": body.get("model", "claude"), "stop_reason": None, "stop_sequence": None,
               "usage": start_usage}  # fmt: skip
    events = [("message_start", {"type": "message_start", "message": message}), ("ping", {"type": "ping"})]
    events.append(("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}}))  # fmt: skip
    for n, word in enumerate(plan.text.split(" ")):
        if plan.stream_error_after is not None and n >= plan.stream_error_after:
            return [*events, ("error", _error("overloaded_error", "Overloaded"))]
        piece = word if n == 0 else " " + word
        delta = {"type": "text_delta", "text": piece}
        events.append(("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}))
    events.append(("content_block_stop", {"type": "content_block_stop", "index": 0}))
    if plan.tool:
        block = {"type": "tool_use", "id": plan.tool["id"], "name": plan.tool["name"], "input": {}}
        events.append(
            ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": block})
        )
        arguments = json.dumps(plan.tool["input"])
        for piece in (arguments[: len(arguments) // 2], arguments[len(arguments) // 2 :]):
            delta = {"type": "input_json_delta", "partial_json": piece}
            events.append(
                ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": delta})
            )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": 1}))
    stop = "tool_use" if plan.tool else plan.stop_reason
    delta = {"stop_reason": stop, "stop_sequence": None}
    usage = {"output_tokens": plan.usage["output_tokens"]}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
    if not plan.omit_message_stop:
        events.append(("message_stop", {"type": "message_stop"}))
    return events


async def claude_stream(send, plan: Plan, body: dict) -> None:
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream; charset=utf-8")]})  # fmt: skip
    if plan.raw_sse is not None:
        await send({"type": "http.response.body", "body": plan.raw_sse})
        return
    separator = "data:" if plan.no_space else "data: "
    for name, data in claude_events(plan, body):
        frame = f"event: {name}\n{separator}{json.dumps(data)}\n\n".encode()
        await send({"type": "http.response.body", "body": frame, "more_body": True})
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b""})


async def _send(send, status: int, payload: dict) -> None:
    await send_answer(send, status, payload, headers={"request-id": "req_fake"})
