"""A fake Vertex AI: the OAuth token endpoint (verifies the RS256 JWT-bearer assertion against the test
service account's public key) and the Gemini / Claude / embedding model endpoints (check the Bearer token and
the translated body; answer in the documented formats).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes import anthropic as claude_fake
from tests.fakes.server import Received, read_body, send_answer

_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_KEY_PEM = _KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
CLIENT_EMAIL = "relay@fake-project.iam.gserviceaccount.com"
PROJECT = "fake-project"
_MODEL_PATH = re.compile(
    r"^/v1/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/publishers/(?P<publisher>google|anthropic)"
    r"/models/(?P<model>[^:/]+):(?P<method>\w+)$"
)


def service_account(token_uri: str = "https://oauth2.googleapis.com/token") -> dict:
    return {
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": "key-1",
        "private_key": PRIVATE_KEY_PEM,
        "client_email": CLIENT_EMAIL,
        "token_uri": token_uri,
    }


@dataclass
class Plan:
    status: int = 200
    error: dict | None = None
    text: str = "Hello from Vertex."
    usage: dict = field(
        default_factory=lambda: {"promptTokenCount": 8, "candidatesTokenCount": 4, "totalTokenCount": 12}
    )
    claude: claude_fake.Plan = field(default_factory=claude_fake.Plan)


@dataclass
class FakeVertex:
    url: str = ""
    plans: dict[str, Plan] = field(default_factory=dict)  # by model
    requests: list[Received] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    exchanges: int = 0
    _counter: itertools.count = field(default_factory=itertools.count)

    def plan(self, model: str, **kwargs) -> Plan:
        self.plans[model] = Plan(**kwargs)
        return self.plans[model]

    def reset(self) -> None:
        self.plans.clear()
        self.requests.clear()
        self.tokens.clear()
        self.exchanges = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["path"] == "/token":
            return await self._token(send, raw)
        body = json.loads(raw or b"{}")
        self.requests.append(Received(scope["path"], headers, body))
        token = headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.tokens:
            return await send_answer(
                send,
                401,
                _google_error(401, "Request had invalid authentication credentials.", "UNAUTHENTICATED"),
            )
        match = _MODEL_PATH.match(scope["path"])
        plan = self.plans.get(match["model"]) if match else None
        if plan is None or match["project"] != PROJECT:
            return await send_answer(
                send, 404, _google_error(404, f"Publisher model {scope['path']} not found.", "NOT_FOUND")
            )
        if plan.status != 200:
            return await send_answer(
                send, plan.status, plan.error or _google_error(plan.status, "failure", "INTERNAL")
            )
        method = match["method"]
        if match["publisher"] == "anthropic":
            return await self._claude(send, method, plan, body)
        if method == "predict":
            return await send_answer(send, 200, _predictions(body))
        if not isinstance(body.get("contents"), list):
            return await send_answer(
                send, 400, _google_error(400, "contents is required", "INVALID_ARGUMENT")
            )
        if method == "streamGenerateContent":
            if scope.get("query_string") != b"alt=sse":
                return await send_answer(
                    send, 400, _google_error(400, "expected alt=sse", "INVALID_ARGUMENT")
                )
            return await _gemini_stream(send, plan)
        return await send_answer(send, 200, _gemini_answer(plan, plan.text, "STOP", plan.usage))

    async def _token(self, send, raw: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return await send_answer(send, 400, {"error": "unsupported_grant_type"})
        try:
            required = {"require": ["iss", "aud", "iat", "exp"]}
            claims = jwt.decode(form.get("assertion", ""), _KEY.public_key(), algorithms=["RS256"],
                                audience=f"{self.url}/token", options=required)  # fmt: skip
        except jwt.PyJWTError as exc:
            return await send_answer(
                send, 400, {"error": "invalid_grant", "error_description": f"Invalid JWT: {exc}"}
            )
        if claims["iss"] != CLIENT_EMAIL or "cloud-platform" not in claims.get("scope", ""):
            return await send_answer(send, 400, {"error": "invalid_scope"})
        self.exchanges += 1
        token = f"ya29.fake-{next(self._counter)}"
        self.tokens.add(token)
        await send_answer(send, 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    async def _claude(self, send, method: str, plan: Plan, body: dict) -> None:
        if body.get("anthropic_version") != "vertex-2023-10-16" or "model" in body:
            error = {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "anthropic_version: bad"},
            }
            return await send_answer(send, 400, error)
        if method == "streamRawPredict":
            if not body.get("stream"):
                return await send_answer(
                    send,
                    400,
                    {"type": "error", "error": {"type": "invalid_request_error", "message": "stream"}},
                )
            return await claude_fake.claude_stream(send, plan.claude, body)
        await send_answer(send, 200, claude_fake.claude_message(plan.claude, body))


def _google_error(code: int, message: str, status: str) -> dict:
    return {"error": {"code": code, "message": message, "status": status}}


def _gemini_answer(plan: Plan, text: str, finish: str | None, usage: dict | None) -> dict:
    candidate: dict = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    answer: dict = {"candidates": [candidate], "modelVersion": "gemini-fake", "responseId": "resp-1"}
    if usage:
        answer["usageMetadata"] = usage
    return answer


async def _gemini_stream(send, plan: Plan) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/event-stream")]}
    )
    words = plan.text.split(" ")
    for n, word in enumerate(words):
        last = n == len(words) - 1
        piece = word if n == 0 else " " + word
        event = _gemini_answer(plan, piece, "STOP" if last else None, plan.usage if last else None)
        await send(
            {
                "type": "http.response.body",
                "body": f"data: {json.dumps(event)}\r\n\r\n".encode(),
                "more_body": True,
            }
        )
        await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": b""})


def _predictions(body: dict) -> dict:
    predictions = []
    for n, instance in enumerate(body.get("instances") or []):
        statistics = {"token_count": len(instance["content"].split()), "truncated": False}
        predictions.append({"embeddings": {"values": [0.5, -0.5, float(n)], "statistics": statistics}})
    return {"predictions": predictions}
