"""A fake Cloudflare Workers AI (OpenAI-compatible endpoints, PROVIDERS.md §12).

In front of the fake OpenAI upstream (which answers chat, streams and embeddings in OpenAI's format), it checks
what Cloudflare checks: the Bearer API token belongs to an account (``accounts[token] = account id``; else the
401 ``errors`` envelope) and the path is ``/client/v4/accounts/<that account>/ai/v1/...`` (else Cloudflare's
7003 "Could not route" 404). ``envelope_error`` makes a token's requests fail with an envelope (any status).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.openai import FakeOpenAI
from tests.fakes.server import send_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cloudflare"
GATEWAY_PREFIX = "/v1/acct-gw/my-gateway/workers-ai/v1/"  # what an AI Gateway base URL leads to


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class FakeCloudflare(FakeOpenAI):
    accounts: dict[str, str] = field(default_factory=dict)
    envelope_errors: dict[str, tuple[int, bytes]] = field(default_factory=dict)

    def reset(self) -> None:
        super().reset()
        self.accounts.clear()
        self.envelope_errors.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        token = headers.get("authorization", "").removeprefix("Bearer ")
        account = self.accounts.get(token)
        if account is None:
            return await send_answer(send, 401, fixture("error_401.json"))
        if not scope["path"].startswith((f"/client/v4/accounts/{account}/ai/v1/", GATEWAY_PREFIX)):
            return await send_answer(send, 404, fixture("error_404_account.json"))
        if token in self.envelope_errors:
            status, body = self.envelope_errors[token]
            return await send_answer(send, status, body)
        await super().__call__(scope, receive, send)
