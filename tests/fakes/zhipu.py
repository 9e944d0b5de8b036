"""A fake Zhipu BigModel upstream (PROVIDERS.md §9): verifies the JWT, answers v4 and v3 from the fixtures."""

from __future__ import annotations

import re
import time
import warnings

import jwt
from jwt.warnings import InsecureKeyLengthWarning

from tests.fakes.native import Received, RecordingFake, Reply, fixture, sse_pieces

V3_PATH = re.compile(r"^/api/paas/v3/model-api/(?P<model>[^/]+)/(?P<method>invoke|sse-invoke)$")


def verify_jwt(token: str, secrets: dict[str, str]) -> str:
    """The key id a Zhipu JWT was minted for; AssertionError unless it is valid right now."""
    header = jwt.get_unverified_header(token)
    assert header.get("alg") == "HS256" and header.get("sign_type") == "SIGN", f"bad JWT header {header}"
    key_id = jwt.decode(token, options={"verify_signature": False})["api_key"]
    assert key_id in secrets, f"unknown api_key {key_id}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        claims = jwt.decode(token, secrets[key_id], algorithms=["HS256"], options={"verify_exp": False})
    now_ms = time.time() * 1000
    assert claims["exp"] > now_ms, "JWT expired (exp is in milliseconds)"
    assert abs(claims["timestamp"] - now_ms) < 300_000, "JWT timestamp is not now in milliseconds"
    return key_id


class FakeZhipu(RecordingFake):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[str, str] = {}

    def answer(self, request: Received) -> Reply:
        authorization = request.headers.get("authorization", "")
        assert not authorization.startswith("Bearer "), "v3 wants the raw JWT"
        verify_jwt(authorization, self.secrets)
        body = request.json
        if request.path == "/api/paas/v4/chat/completions":
            assert body["model"].startswith("glm-") and body["messages"], "v4 body is OpenAI-shaped"
            assert 0 <= body.get("temperature", 0.5) <= 1, "temperature outside Zhipu's range"
            name = "v4_tool_call" if body.get("tools") else "v4_chat"
            return _reply(f"{name}_stream.sse" if body.get("stream") else f"{name}.json")
        if match := V3_PATH.match(request.path):
            assert "messages" not in body and body["prompt"], "v3 body has a prompt list"
            assert all(isinstance(m["content"], str) for m in body["prompt"])
            return _reply("v3_sse_invoke.sse" if match["method"] == "sse-invoke" else "v3_invoke.json")
        if request.path == "/api/paas/v4/embeddings":
            return _reply("embeddings.json")
        return Reply(404, b'{"error":{"code":"404","message":"not found"}}')


def _reply(name: str) -> Reply:
    raw = fixture("zhipu", name)
    if name.endswith(".sse"):
        return Reply(200, content_type="text/event-stream", chunks=sse_pieces(raw))
    return Reply(200, raw)
