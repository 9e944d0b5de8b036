"""A fake Gemini (Generative Language API) upstream speaking the documented wire format (PROVIDERS.md §5).

It checks what it receives the way Gemini does: the ``x-goog-api-key`` header (an unknown key gets Gemini's
400 API_KEY_INVALID), the ``/<version>/models/<model>:<method>`` path, ``alt=sse`` on streams, roles, empty
parts, and every schema keyword in function declarations against Gemini's Schema fields (an unknown keyword
gets the same 400 "Unknown name" the real API sends). Each test plans answers per key with ``plan()``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import RecordingUpstream, send_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gemini"
# https://ai.google.dev/api/caching#Schema
SCHEMA_FIELDS = {
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
    "propertyOrdering", "default", "items", "minimum", "maximum",
}  # fmt: skip


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Plan:
    text: str = "Hello from Gemini."
    chunks: list[str] | None = None  # stream pieces; default: the text split into words
    calls: list[dict] | None = None  # functionCall parts {"name", "args"} instead of text
    finish: str = "STOP"
    usage: dict | None = None  # usageMetadata; None = word counts
    status: int = 200
    error: dict | None = None  # error body for status != 200
    raw: bytes | None = None  # answer these bytes as they are
    content_type: str = "application/json"
    stop_early: bool = False  # stream: end without the finishReason event


@dataclass
class FakeGemini(RecordingUpstream):
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
        headers, query, body = request.headers, request.query, request.body
        key = headers.get("x-goog-api-key", "")
        plan = self.plans.get(key)
        if plan is None or "key" in query:
            return await send_answer(send, 400, fixture("error_400_api_key.json"))
        if plan.raw is not None:
            return await send_answer(send, plan.status, plan.raw, plan.content_type)
        if plan.status != 200:
            return await send_answer(send, plan.status, plan.error or {})
        version, _, rest = scope["path"].strip("/").partition("/models/")
        model, _, method = rest.partition(":")
        if version not in ("v1", "v1beta") or not model or not method:
            return await send_answer(send, 404, _error(404, "NOT_FOUND", f"bad path {scope['path']}"))
        if problem := _check(method, body):
            return await send_answer(send, 400, _error(400, "INVALID_ARGUMENT", problem))
        if method == "batchEmbedContents":
            values = [{"values": [0.5, -0.25, float(i)]} for i, _ in enumerate(body["requests"])]
            return await send_answer(send, 200, {"embeddings": values})
        if method == "generateContent":
            return await send_answer(send, 200, _answer(plan, body, plan.text, last=True))
        if method == "streamGenerateContent" and query.get("alt") == "sse":
            return await _stream(send, plan, body)
        return await send_answer(send, 404, _error(404, "NOT_FOUND", f"unknown method {method}"))


def _check(method: str, body: dict) -> str:
    """What Gemini would reject with a 400, or ''."""
    if method == "batchEmbedContents":
        requests = body.get("requests") or []
        ok = requests and all(
            r.get("model", "").startswith("models/") and r["content"]["parts"] for r in requests
        )
        return "" if ok else "requests must name models/<m> and carry parts"
    contents = body.get("contents") or []
    if not contents:
        return "* GenerateContentRequest.contents: contents is not specified"
    for content in contents:
        if content.get("role") not in ("user", "model"):
            return f"Please use a valid role: user, model. (got {content.get('role')!r})"
        if not content.get("parts"):
            return "* GenerateContentRequest.contents.parts: contents.parts must not be empty."
        for part in content["parts"]:
            if "text" in part and not part["text"]:
                return "Unable to submit request because it has an empty text parameter."
    for tool in body.get("tools") or []:
        for declaration in tool.get("functionDeclarations") or []:
            if problem := _check_schema(declaration.get("parameters"), "parameters"):
                return problem
    schema = (body.get("generationConfig") or {}).get("responseSchema")
    return _check_schema(schema, "responseSchema") if schema else ""


def _check_schema(schema: object, where: str) -> str:
    if schema is None:
        return ""
    if not isinstance(schema, dict):
        return f"{where} must be an object"
    for key, value in schema.items():
        if key not in SCHEMA_FIELDS:
            return f"Invalid JSON payload received. Unknown name \"{key}\" at '{where}': Cannot find field."
        if key == "properties":
            if not value and schema.get("type", "").upper() == "OBJECT" and where == "parameters":
                return f"{where}.properties: should be non-empty for OBJECT type"
            for name, sub in value.items():
                if problem := _check_schema(sub, f"{where}.properties[{name}]"):
                    return problem
        elif key == "items" and (problem := _check_schema(value, f"{where}.items")):
            return problem
        elif key == "anyOf":
            for index, sub in enumerate(value):
                if problem := _check_schema(sub, f"{where}.anyOf[{index}]"):
                    return problem
        elif key == "enum" and schema.get("type", "string").upper() != "STRING":
            return f"{where}: only allowed for STRING type"
        elif key == "format" and value not in ("enum", "date-time", "int32", "int64", "float", "double"):
            return f"{where}: only 'enum' and 'date-time' are supported for STRING type"
    return ""


def _usage(plan: Plan, body: dict, words: int) -> dict:
    if plan.usage is not None:
        return plan.usage
    prompt = sum(len(p.get("text", "").split()) for c in body["contents"] for p in c["parts"]) or 1
    return {"promptTokenCount": prompt, "candidatesTokenCount": words, "totalTokenCount": prompt + words}


def _answer(plan: Plan, body: dict, text: str, *, last: bool) -> dict:
    parts = [{"functionCall": call} for call in plan.calls] if plan.calls else [{"text": text}]
    candidate: dict = {"content": {"parts": parts, "role": "model"}, "index": 0}
    answer: dict = {"candidates": [candidate], "modelVersion": "gemini-fake", "responseId": "fake-response"}
    if last:
        candidate["finishReason"] = plan.finish
        answer["usageMetadata"] = _usage(plan, body, len(plan.text.split()))
    return answer


async def _stream(send, plan: Plan, body: dict) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    pieces = plan.chunks if plan.chunks is not None else [w + " " for w in plan.text.split()]
    if plan.calls:
        pieces = [""]
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1 and not plan.stop_early
        event = json.dumps(_answer(plan, body, piece, last=last))
        # Gemini's SSE uses CRLF line endings and never sends [DONE]: the connection just ends.
        await send(
            {"type": "http.response.body", "body": f"data: {event}\r\n\r\n".encode(), "more_body": True}
        )
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _error(code: int, status: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "status": status}}).encode()
