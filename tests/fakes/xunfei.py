"""A fake iFlytek Spark WebSocket upstream (PROVIDERS.md §8): verifies the signed URL (HMAC recomputed with the
test secret, date within 300 s), refuses the handshake with 401 otherwise, checks the request frame and answers
with the fixture frames (status 0/1/2), an error frame, or a connection closed too early."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs

from tests.fakes.native import fixture

DOMAINS = {"/v1.1/chat": "lite", "/v3.1/chat": "generalv3", "/chat/pro-128k": "pro-128k",
           "/v3.5/chat": "generalv3.5", "/chat/max-32k": "max-32k", "/v4.0/chat": "4.0Ultra"}  # fmt: skip
SIGNED = re.compile(r'^(?:api_key|hmac username)="(?P<key>[^"]+)", algorithm="hmac-sha256", '
                    r'headers="host date request-line", signature="(?P<sig>[^"]+)"$')  # fmt: skip


def frames(name: str) -> list[str]:
    return [line for line in fixture("xunfei", name).decode().splitlines() if line.strip()]


class FakeSpark:
    def __init__(self) -> None:
        self.app_id = self.api_key = self.api_secret = ""
        self.reset()

    def reset(self) -> None:
        self.received: list[dict] = []  # (path, frame) of every accepted call
        self.problems: list[str] = []
        self.mode = "answer"  # answer | error:<fixture> | cut

    def check_url(self, path: str, query: str, host: str) -> str:
        """'' when the signed URL is valid, else why not."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if params.get("host") != host:
            return "host does not match"
        if abs(time.time() - parsedate_to_datetime(params.get("date", "")).timestamp()) > 300:
            return "date is more than 300 s off"
        signed = SIGNED.match(base64.b64decode(params.get("authorization", "")).decode())
        if signed is None or signed["key"] != self.api_key:
            return "bad authorization"
        origin = f"host: {host}\ndate: {params['date']}\nGET {path} HTTP/1.1"
        wanted = base64.b64encode(
            hmac.new(self.api_secret.encode(), origin.encode(), hashlib.sha256).digest()
        ).decode()
        return "" if hmac.compare_digest(wanted, signed["sig"]) else "HMAC signature does not match"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "websocket":
            return
        await receive()  # websocket.connect
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        why = self.check_url(scope["path"], scope["query_string"].decode(), headers.get("host", ""))
        if why:
            await send({"type": "websocket.http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send(
                {"type": "websocket.http.response.body", "body": json.dumps({"message": why}).encode()}
            )
            return
        await send({"type": "websocket.accept"})
        message = await receive()
        frame = json.loads(message.get("text") or message.get("bytes") or b"{}")
        self.received.append({"path": scope["path"], "frame": frame})
        try:
            assert frame["header"]["app_id"] == self.app_id, "wrong app_id"
            assert frame["parameter"]["chat"]["domain"] == DOMAINS.get(scope["path"]), (
                "domain does not match the path"
            )
            assert frame["payload"]["message"]["text"], "no messages"
        except (AssertionError, KeyError) as exc:
            self.problems.append(repr(exc))
        for text in self._answer(frame):
            await send({"type": "websocket.send", "text": text})
        await send({"type": "websocket.close", "code": 1000})

    def _answer(self, frame: dict) -> list[str]:
        if self.mode.startswith("error:"):
            return [fixture("xunfei", self.mode[6:]).decode()]
        answer = frames(
            "function_call_frames.jsonl" if frame["payload"].get("functions") else "chat_frames.jsonl"
        )
        return answer[:1] if self.mode == "cut" else answer
