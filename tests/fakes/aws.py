"""A fake Bedrock runtime (PROVIDERS.md §4): verifies SigV4 by recomputing it, answers InvokeModel and
InvokeModelWithResponseStream in the documented formats (binary eventstream frames with real CRCs).

The signature check and the frame encoder are written here from the spec, by hand, so they do not share
code with the botocore signer and decoder the adaptor uses.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, unquote

from tests.fakes.server import read_body, send_answer

SECRETS = {"AKIDFAKE": "fake-secret-key"}


@dataclass
class Plan:
    status: int = 200
    error: dict | None = None  # body for a non-200 answer (and header x-amzn-ErrorType from "__type")
    events: list[dict] | None = None  # stream: Anthropic (or Llama) events to frame; default built from text
    text: str = "Hello from Bedrock."
    usage: dict = field(default_factory=lambda: {"input_tokens": 11, "output_tokens": 5})
    metrics: dict | None = None  # amazon-bedrock-invocationMetrics on the final event
    exception: tuple[str, str] | None = None  # stream: end with an exception frame (type, message)
    bad_crc: bool = False  # stream: corrupt the last frame's checksum


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict
    signature_ok: bool


@dataclass
class FakeBedrock:
    plans: dict[str, Plan] = field(default_factory=dict)  # by model id
    requests: list[Recorded] = field(default_factory=list)

    def plan(self, model_id: str, **kwargs) -> Plan:
        self.plans[model_id] = Plan(**kwargs)
        return self.plans[model_id]

    def reset(self) -> None:
        self.plans.clear()
        self.requests.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        raw_path = scope["raw_path"].decode()
        problem = signature_problem(scope["method"], raw_path, headers, raw)
        self.requests.append(Recorded(raw_path, headers, json.loads(raw or b"{}"), not problem))
        if problem:
            kind = "InvalidSignatureException" if "Signature" in problem else "UnrecognizedClientException"
            return await _json(send, 403, {"message": problem}, kind)
        parts = raw_path.split("/")  # "", "model", "<id>", "invoke"
        if (
            len(parts) != 4
            or parts[1] != "model"
            or parts[3] not in ("invoke", "invoke-with-response-stream")
        ):
            return await _json(send, 404, {"message": "Unknown operation"}, "UnknownOperationException")
        model_id = unquote(parts[2])
        plan = self.plans.get(model_id)
        if plan is None:
            message = "The provided model identifier is invalid."
            return await _json(send, 400, {"message": message}, "ValidationException")
        if plan.status != 200:
            error = plan.error or {"message": "Internal server error"}
            return await _json(send, plan.status, {"message": error["message"]}, error.get("__type", ""))
        body = json.loads(raw)
        if "prompt" not in body and body.get("anthropic_version") != "bedrock-2023-05-31":
            return await _json(send, 400, {"message": "anthropic_version: invalid"}, "ValidationException")
        if "model" in body or "stream" in body:
            return await _json(
                send, 400, {"message": "extraneous key [model] is not permitted"}, "ValidationException"
            )
        if parts[3] == "invoke":
            return await _json(send, 200, _answer(plan, model_id, body))
        await _stream(send, plan, model_id, body)


def signature_problem(method: str, raw_path: str, headers: dict[str, str], body: bytes) -> str:
    """Recompute the SigV4 signature (spec §4 steps 1–4) and say what is wrong, or ""."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return "Missing Authentication Token"
    fields = dict(part.strip().split("=", 1) for part in auth.removeprefix("AWS4-HMAC-SHA256 ").split(","))
    access, date, region, service, terminator = fields["Credential"].split("/")
    if access not in SECRETS:
        return "The security token included in the request is invalid."
    amz_date = headers.get("x-amz-date", "")
    sent = datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if abs((datetime.now(UTC) - sent).total_seconds()) > 300 or date != amz_date[:8]:
        return "Signature expired"
    if service != "bedrock" or terminator != "aws4_request":
        return "Credential should be scoped to correct service: 'bedrock'."
    signed = fields["SignedHeaders"].split(";")
    if not {"host", "x-amz-date"} <= set(signed):
        return "Signature must sign host and x-amz-date"
    canonical_uri = "/".join(quote(segment, safe="-_.~") for segment in raw_path.split("/"))  # encoded again
    canonical_headers = "".join(f"{name}:{' '.join(headers[name].split())}\n" for name in signed)
    canonical = "\n".join(
        [
            method,
            canonical_uri,
            "",
            canonical_headers,
            fields["SignedHeaders"],
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
    key = f"AWS4{SECRETS[access]}".encode()
    for part in (date, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, fields["Signature"]):
        return "The request signature we calculated does not match the signature you provided."
    return ""


def frame(headers: dict[str, str], payload: bytes, *, bad_crc: bool = False) -> bytes:
    """One eventstream message: prelude (lengths + CRC), string headers, payload, message CRC."""
    encoded = b"".join(
        struct.pack(">B", len(name))
        + name.encode()
        + b"\x07"
        + struct.pack(">H", len(value))
        + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    crc = zlib.crc32(message) ^ (1 if bad_crc else 0)
    return message + struct.pack(">I", crc)


def chunk_frame(event: dict, *, bad_crc: bool = False) -> bytes:
    payload = json.dumps(
        {"bytes": base64.b64encode(json.dumps(event).encode()).decode(), "p": "abcd"}
    ).encode()
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, payload, bad_crc=bad_crc)


def exception_frame(kind: str, message: str) -> bytes:
    headers = {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"}
    return frame(headers, json.dumps({"message": message}).encode())


def claude_events(text: str, usage: dict, metrics: dict | None) -> list[dict]:
    start = {"id": "msg_bdrk_01", "type": "message", "role": "assistant", "model": "claude", "content": [],
             "stop_reason": None, "stop_sequence": None, "usage": {**usage, "output_tokens": 1}}  # fmt: skip
    events = [{"type": "message_start", "message": start},
              {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}]  # fmt: skip
    for n, word in enumerate(text.split(" ")):
        piece = word if n == 0 else " " + word
        events.append(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}}
        )
    events += [{"type": "content_block_stop", "index": 0},
               {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]}},
               {"type": "message_stop"}]  # fmt: skip
    if metrics is not None:
        events[-1]["amazon-bedrock-invocationMetrics"] = metrics
    return events


def _answer(plan: Plan, model_id: str, body: dict) -> dict:
    if "prompt" in body:
        return {"generation": plan.text, "prompt_token_count": plan.usage["input_tokens"],
                "generation_token_count": plan.usage["output_tokens"], "stop_reason": "stop"}  # fmt: skip
    return {"id": "msg_bdrk_01", "type": "message", "role": "assistant", "model": model_id,
            "content": [{"type": "text", "text": plan.text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": plan.usage}  # fmt: skip


async def _stream(send, plan: Plan, model_id: str, body: dict) -> None:
    headers = [(b"content-type", b"application/vnd.amazon.eventstream"), (b"x-amzn-requestid", b"fake")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    events = plan.events if plan.events is not None else claude_events(plan.text, plan.usage, plan.metrics)
    frames = [chunk_frame(event) for event in events]
    if plan.exception:
        frames.append(exception_frame(*plan.exception))
    if plan.bad_crc and frames:
        frames[-1] = chunk_frame(events[-1], bad_crc=True)
    for data in frames:  # split each frame in two so the decoder must buffer partial frames
        for piece in (data[:7], data[7:]):
            await send({"type": "http.response.body", "body": piece, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


async def _json(send, status: int, payload: dict, error_type: str = "") -> None:
    headers = {"x-amzn-errortype": f"{error_type}:http://internal.amazon.com/coral/"} if error_type else None
    await send_answer(send, status, payload, headers=headers)
