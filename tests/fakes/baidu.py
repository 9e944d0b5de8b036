"""A fake Baidu Qianfan v1 upstream (PROVIDERS.md §6): a real token exchange, access tokens checked on every
call, ERNIE bodies checked, answers (and HTTP-200 errors) from the fixtures."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs

from tests.fakes.native import Received, RecordingFake, Reply, fixture, sse_pieces

WORKSHOP = re.compile(
    r"^/rpc/2\.0/ai_custom/v1/wenxinworkshop/(?P<kind>chat|embeddings)/(?P<endpoint>[\w.\-]+)$"
)
TOKEN = json.loads(fixture("baidu", "token.json"))["access_token"]


class FakeBaidu(RecordingFake):
    def __init__(self) -> None:
        super().__init__()
        self.credentials: tuple[str, str] = ("", "")
        self.valid_tokens: set[str] = set()
        self.exchanges = 0
        self.next_token = TOKEN

    def reset(self) -> None:
        super().reset()
        self.valid_tokens.clear()
        self.exchanges = 0
        self.next_token = TOKEN

    def answer(self, request: Received) -> Reply:
        query = {k: v[0] for k, v in parse_qs(request.query).items()}
        if request.path == "/oauth/2.0/token":
            assert request.method == "POST" and query.get("grant_type") == "client_credentials"
            if (query.get("client_id"), query.get("client_secret")) != self.credentials:
                return Reply(401, fixture("baidu", "token_error.json"))
            self.exchanges += 1
            self.valid_tokens.add(self.next_token)
            return Reply(
                200,
                json.dumps(
                    {**json.loads(fixture("baidu", "token.json")), "access_token": self.next_token}
                ).encode(),
            )
        match = WORKSHOP.match(request.path)
        if match is None:
            return Reply(404, b'{"error_code":3,"error_msg":"Unsupported openapi method"}')
        if query.get("access_token") not in self.valid_tokens:
            return Reply(200, fixture("baidu", "error_110.json"))  # errors come with HTTP 200
        body = request.json
        if match["kind"] == "embeddings":
            assert match["endpoint"] == "embedding-v1" and isinstance(body["input"], list)
            return Reply(200, fixture("baidu", "embeddings.json"))
        assert all(m["role"] in ("user", "assistant", "function") for m in body["messages"]), (
            "system in messages"
        )
        name = "function_call" if body.get("functions") else "chat"
        if body.get("stream"):
            return Reply(
                200,
                content_type="text/event-stream",
                chunks=sse_pieces(fixture("baidu", f"{name}_stream.sse")),
            )
        return Reply(200, fixture("baidu", f"{name}.json"))
