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

from tests.fakes.server import RecordingUpstream, send_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "palm"
PATH = "/v1beta2/models/chat-bison-001:generateMessage"
FIELDS = {"prompt", "temperature", "candidateCount", "topP", "topK"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class FakePalm(RecordingUpstream):
    answers: dict[str, str] = field(default_factory=dict)
    filtered: set[str] = field(default_factory=set)

    def reset(self) -> None:
        self.answers.clear()
        self.filtered.clear()
        self.received.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = await self.record(scope, receive)
        headers, body = request.headers, request.body
        key = headers.get("x-goog-api-key", "")
        if key not in self.answers and key not in self.filtered:
            return await send_answer(send, 400, fixture("error_400_api_key.json"))
        if scope["path"] != PATH:
            return await send_answer(send, 404, fixture("error_404.json"))
        if problem := _check(body):
            error = {"error": {"code": 400, "message": problem, "status": "INVALID_ARGUMENT"}}
            return await send_answer(send, 400, error)
        messages = body["prompt"]["messages"]
        if key in self.filtered:
            return await send_answer(
                send, 200, json.dumps({"messages": messages, "filters": [{"reason": "OTHER"}]}).encode()
            )
        count = body.get("candidateCount", 1)
        candidates = [
            {"author": "1", "content": self.answers[key] + ("" if i == 0 else f" ({i})")}
            for i in range(count)
        ]
        await send_answer(send, 200, {"candidates": candidates, "messages": messages})


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
