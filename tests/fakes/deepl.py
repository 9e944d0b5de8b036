"""A fake DeepL API speaking the documented wire format (PROVIDERS.md §14, developers.deepl.com).

It checks what DeepL checks: ``Authorization: DeepL-Auth-Key <key>`` for a known key (else 403), free keys
(``:fx``) only on the free host and pro keys only on the pro host (``host`` says which this fake plays; the
wrong one gets DeepL's 403 "Wrong endpoint"), ``POST /v2/translate`` with ``text`` a non-empty list and a
``target_lang`` it knows (else 400). ``quota_left`` characters per key, then 456.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import read_body

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "deepl"
TARGETS = {"ZH", "ZH-HANS", "ZH-HANT", "EN", "EN-US", "EN-GB", "JA", "DE", "FR", "ES"}
# Canned "translations" by target language; anything else echoes the text with a tag.
CANNED = {"ZH": {"Hello, world!": "你好，世界！"}, "JA": {"Hello, world!": "こんにちは、世界！"}}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class Received:
    path: str
    headers: dict
    body: dict


@dataclass
class FakeDeepL:
    host: str = "free"  # "free" serves :fx keys, "pro" the others
    quota_left: dict[str, int] = field(default_factory=dict)  # key → characters left
    received: list[Received] = field(default_factory=list)
    status_override: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        self.quota_left.clear()
        self.received.clear()
        self.status_override.clear()

    def last(self) -> Received:
        return self.received[-1]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        body = json.loads(raw) if raw else {}
        self.received.append(Received(scope["path"], headers, body))
        key = headers.get("authorization", "").removeprefix("DeepL-Auth-Key ")
        if key not in self.quota_left:
            return await _send(send, 403, b'{"message": "Authorization failure, check auth_key"}')
        if key.endswith(":fx") != (self.host == "free"):
            return await _send(send, 403, fixture("error_403.json"))
        if key in self.status_override:
            return await _send(
                send, self.status_override[key], fixture(f"error_{self.status_override[key]}.json")
            )
        if scope["path"] != "/v2/translate" or scope["method"] != "POST":
            return await _send(send, 404, b'{"message": "Not found"}')
        texts, target = body.get("text"), str(body.get("target_lang", ""))
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return await _send(send, 400, b'{"message": "Parameter \'text\' not specified."}')
        if target.upper() not in TARGETS:
            return await _send(send, 400, fixture("error_400.json"))
        chars = sum(len(t) for t in texts)
        if chars > self.quota_left[key]:
            return await _send(send, 456, fixture("error_456.json"))
        self.quota_left[key] -= chars
        translations = [
            {"detected_source_language": "EN", "text": CANNED.get(target, {}).get(t, f"[{target}] {t}")}
            for t in texts
        ]
        await _send(send, 200, json.dumps({"translations": translations}).encode())


async def _send(send, status: int, body: bytes) -> None:
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})
