"""A fake Tencent Hunyuan upstream (PROVIDERS.md §10): recomputes the TC3-HMAC-SHA256 signature from the raw
body with the test secret, checks the PascalCase body, answers from the fixtures (errors with HTTP 200)."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import datetime, timezone

from tests.fakes.native import Received, RecordingFake, Reply, fixture, sse_pieces

HOST = "hunyuan.tencentcloudapi.com"  # what Tencent (behind the test's proxy address) is signed for
AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<id>[^/]+)/(?P<date>\d{4}-\d{2}-\d{2})/hunyuan/tc3_request, "
    r"SignedHeaders=content-type;host;x-tc-action, Signature=(?P<sig>[0-9a-f]{64})$"
)


def expected_signature(secret_key: str, action: str, raw: bytes, timestamp: int) -> str:
    """PROVIDERS.md §10 steps 1-3, written out independently of the adaptor."""
    day = datetime.fromtimestamp(timestamp, tz=timezone.utc).date().isoformat()
    canonical = "\n".join([
        "POST", "/", "",
        f"content-type:application/json\nhost:{HOST}\nx-tc-action:{action.lower()}\n",
        "content-type;host;x-tc-action",
        hashlib.sha256(raw).hexdigest(),
    ])  # fmt: skip
    to_sign = "\n".join([
        "TC3-HMAC-SHA256", str(timestamp), f"{day}/hunyuan/tc3_request",
        hashlib.sha256(canonical.encode()).hexdigest(),
    ])  # fmt: skip
    key = ("TC3" + secret_key).encode()
    for part in (day, "hunyuan", "tc3_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


class FakeTencent(RecordingFake):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[str, str] = {}

    def answer(self, request: Received) -> Reply:
        assert request.method == "POST" and request.path == "/", "Hunyuan takes POST /"
        headers = request.headers
        match = AUTH.match(headers.get("authorization", ""))
        if match is None or match["id"] not in self.secrets:
            return Reply(200, fixture("tencent", "error_signature.json"))
        timestamp = int(headers["x-tc-timestamp"])
        assert abs(time.time() - timestamp) < 300, "X-TC-Timestamp is not now"
        assert headers.get("x-tc-version") == "2023-09-01" and headers["content-type"] == "application/json"
        action = headers["x-tc-action"]
        wanted = expected_signature(self.secrets[match["id"]], action, request.raw, timestamp)
        if not hmac.compare_digest(wanted, match["sig"]):
            return Reply(200, fixture("tencent", "error_signature.json"))
        body = request.json
        if action == "GetEmbedding":
            assert isinstance(body["InputList"], list)
            return Reply(200, fixture("tencent", "embeddings.json"))
        assert action == "ChatCompletions", f"unknown action {action}"
        assert body["Model"] and all(set(m) >= {"Role"} for m in body["Messages"]), "PascalCase messages"
        assert all(isinstance(t["Function"]["Parameters"], str) for t in body.get("Tools", ())), (
            "schema as string"
        )
        name = "tool_call" if body.get("Tools") else "chat"
        if body.get("Stream"):
            return Reply(
                200,
                content_type="text/event-stream",
                chunks=sse_pieces(fixture("tencent", f"{name}_stream.sse")),
            )
        return Reply(200, fixture("tencent", f"{name}.json"))
