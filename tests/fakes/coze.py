"""A fake Coze v2 chat API speaking the documented wire format (PROVIDERS.md §13).

It checks what Coze checks and answers the way Coze does, errors included with HTTP 200: a known Bearer token
(else ``{"code": 4100}``), a known bot for it (else 4200), ``bot_id``/``user``/``query`` present and history
roles user/assistant with ``content_type: "text"`` (else 4000). Streams are SSE written without a space after
the colon, ``event:message`` then ``event:done``. ``bots[(token, bot_id)] = answer`` plans what a bot says.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import RecordingUpstream, send_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "coze"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class FakeCoze(RecordingUpstream):
    bots: dict[tuple[str, str], str] = field(default_factory=dict)
    stream_error: dict[tuple[str, str], int] = field(default_factory=dict)  # error code after the first piece

    def reset(self) -> None:
        self.bots.clear()
        self.stream_error.clear()
        self.received.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = await self.record(scope, receive)
        headers, body = request.headers, request.body
        token = headers.get("authorization", "").removeprefix("Bearer ")
        if scope["path"] != "/open_api/v2/chat":
            return await send_answer(send, 404, {"code": 404, "msg": "not found"})
        if not any(t == token for t, _ in self.bots):
            return await send_answer(send, 200, json.loads(fixture("error_4100.json")))
        if problem := _check(body):
            return await send_answer(send, 200, {"code": 4000, "msg": f"invalid parameter: {problem}"})
        answer = self.bots.get((token, body["bot_id"]))
        if answer is None:
            return await send_answer(send, 200, {"code": 4200, "msg": f"bot {body['bot_id']} not found"})
        if body.get("stream"):
            return await _stream(send, answer, self.stream_error.get((token, body["bot_id"])))
        messages = [
            {"role": "assistant", "type": "answer", "content": answer, "content_type": "text"},
            {"role": "assistant", "type": "follow_up", "content": "Anything else?", "content_type": "text"},
        ]
        await send_answer(
            send, 200, {"messages": messages, "conversation_id": "c-1", "code": 0, "msg": "success"}
        )


def _check(body: dict) -> str:
    for name in ("bot_id", "user", "query"):
        if not body.get(name):
            return name
    for turn in body.get("chat_history") or []:
        if turn.get("role") not in ("user", "assistant") or turn.get("content_type") != "text":
            return "chat_history"
    return ""


async def _stream(send, answer: str, error_code: int | None) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    pieces = [w + " " for w in answer.split()]
    events = []
    for index, piece in enumerate(pieces):
        message = {"role": "assistant", "type": "answer", "content": piece, "content_type": "text"}
        events.append(("message", {"event": "message", "message": message, "is_finish": False, "index": 0,
                                   "conversation_id": "c-1", "seq_id": index}))  # fmt: skip
        if error_code is not None:
            events.append(
                ("error", {"event": "error", "error_information": {"code": error_code, "msg": "busy"}})
            )
            break
    else:
        verbose = {"role": "assistant", "type": "verbose", "content": "{}", "content_type": "text"}
        events.append(("message", {"event": "message", "message": verbose, "is_finish": False, "index": 1}))
        events.append(("done", {"event": "done"}))
    for name, data in events:
        frame = f"event:{name}\ndata:{json.dumps(data)}\n\n".encode()
        await send({"type": "http.response.body", "body": frame, "more_body": True})
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b"", "more_body": False})
