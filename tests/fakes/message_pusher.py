"""A fake Message Pusher (github.com/songquanpeng/message-pusher): records pushes, answers ``{success, message}``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from tests.fakes.server import read_body, send_answer


@dataclass
class FakeMessagePusher:
    token: str = "pusher-token"
    refuse: bool = False  # answer success=false (a wrong token, a full queue)
    pushes: list[dict] = field(default_factory=list)

    def reset(self) -> None:
        self.pushes.clear()
        self.refuse = False

    def titles(self) -> list[str]:
        return [p.get("title", "") for p in self.pushes]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        body = json.loads(raw or b"{}")
        ok = not self.refuse and body.get("token") == self.token
        if ok:
            self.pushes.append(body)
        answer = {"success": ok, "message": "" if ok else "无效的 token"}
        await send_answer(send, 200, answer)
