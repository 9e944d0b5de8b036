"""A fake PaLM 2 ``generateMessage`` endpoint (PROVIDERS.md §5 errors; ai.google.dev/palm_docs).

It checks the ``x-goog-api-key`` header against its known keys (else Google's 400 API_KEY_INVALID), the one
path chat-bison-001 lives at, and the prompt: ``messages`` with authors "0"/"1", optional ``context``, and
only the fields generateMessage has (an unknown one gets Google's "Unknown name" 400). ``answers[key]``
plans the candidates; ``filtered`` keys get a filtered (candidate-less) answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import read_body

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "palm"
PATH = "/v1beta2/models/chat-bison-001:generateMessage"
FIELDS = {"prompt", "temperature", "candidateCount", "topP", "topK"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Received:
    path: str
    headers: dict
    body: dict


@dataclass
class FakePalm:
    answers: dict[str, str] = field(default_factory=dict)
    filtered: set[str] = field(default_factory=set)
    received: list[Received] = field(default_factory=list)

    def reset(self) -> None:
        self.answers.clear()
        self.filtered.clear()
        self.received.clear()

    def last(self) -> Received:
        return self.received[-1]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        body = json.loads(raw) if raw else {}
        self.received.append(Received(scope["path"], headers, body))
        key = headers.get("x-goog-api-key", "")
        if key not in self.answers and key not in self.filtered:
            return await _send(send, 400, fixture("error_400_api_key.json"))
        if scope["path"] != PATH:
            return await _send(send, 404, fixture("error_404.json"))
        if problem := _check(body):
            error = {"error": {"code": 400, "message": problem, "status": "INVALID_ARGUMENT"}}
            return await _send(send, 400, json.dumps(error).encode())
        messages = body["prompt"]["messages"]
        if key in self.filtered:
            return await _send(
                send, 200, json.dumps({"messages": messages, "filters": [{"reason": "OTHER"}]}).encode()
            )
        count = body.get("candidateCount", 1)
        candidates = [
            {"author": "1", "content": self.answers[key] + ("" if i == 0 else f" ({i})")}
            for i in range(count)
        ]
        await _send(send, 200, json.dumps({"candidates": candidates, "messages": messages}).encode())


def _check(body: dict) -> str:
    if unknown := set(body) - FIELDS:
        return f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}": Cannot find field.'
    prompt = body.get("prompt") or {}
    if set(prompt) - {"context", "messages", "examples"}:
        return "Invalid JSON payload received. Unknown name in prompt."
    messages = prompt.get("messages") or []
    if not messages:
        return "prompt.messages must not be empty"
    if any(m.get("author") not in ("0", "1") or not isinstance(m.get("content"), str) for m in messages):
        return "messages must have author 0 or 1 and string content"
    return ""


async def _send(send, status: int, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})
