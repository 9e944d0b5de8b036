"""A fake DeepL API speaking the documented wire format (PROVIDERS.md §14, developers.deepl.com).

It checks what DeepL checks: ``Authorization: DeepL-Auth-Key <key>`` for a known key (else 403), free keys
(``:fx``) only on the free host and pro keys only on the pro host (``host`` says which this fake plays; the
wrong one gets DeepL's 403 "Wrong endpoint"), ``POST /v2/translate`` with ``text`` a non-empty list and a
``target_lang`` it knows (else 400). ``quota_left`` characters per key, then 456.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import RecordingUpstream, send_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "deepl"
TARGETS = {"ZH", "ZH-HANS", "ZH-HANT", "EN", "EN-US", "EN-GB", "JA", "DE", "FR", "ES"}
# Canned "translations" by target language; anything else echoes the text with a tag.
CANNED = {"ZH": {"Hello, world!": "你好，世界！"}, "JA": {"Hello, world!": "こんにちは、世界！"}}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class FakeDeepL(RecordingUpstream):
    host: str = "free"  # "free" serves :fx keys, "pro" the others
    quota_left: dict[str, int] = field(default_factory=dict)  # key → characters left
    status_override: dict[str, int] = field(default_factory=dict)

    def reset(self) -> None:
        self.quota_left.clear()
        self.received.clear()
        self.status_override.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        request = await self.record(scope, receive)
        headers, body = request.headers, request.body
        key = headers.get("authorization", "").removeprefix("DeepL-Auth-Key ")
        if key not in self.quota_left:
            return await send_answer(send, 403, b'{"message": "Authorization failure, check auth_key"}')
        if key.endswith(":fx") != (self.host == "free"):
            return await send_answer(send, 403, fixture("error_403.json"))
        if key in self.status_override:
            return await send_answer(
                send, self.status_override[key], fixture(f"error_{self.status_override[key]}.json")
            )
        if scope["path"] != "/v2/translate" or scope["method"] != "POST":
            return await send_answer(send, 404, b'{"message": "Not found"}')
        texts, target = body.get("text"), str(body.get("target_lang", ""))
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            return await send_answer(send, 400, b'{"message": "Parameter \'text\' not specified."}')
        if target.upper() not in TARGETS:
            return await send_answer(send, 400, fixture("error_400.json"))
        chars = sum(len(t) for t in texts)
        if chars > self.quota_left[key]:
            return await send_answer(send, 456, fixture("error_456.json"))
        self.quota_left[key] -= chars
        translations = [
            {"detected_source_language": "EN", "text": CANNED.get(target, {}).get(t, f"[{target}] {t}")}
            for t in texts
        ]
        await send_answer(send, 200, {"translations": translations})
