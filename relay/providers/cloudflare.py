"""Cloudflare Workers AI (channel type 37) through its OpenAI-compatible endpoints.

https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/ —
``<base>/client/v4/accounts/<account id>/ai/v1/chat/completions`` and ``.../ai/v1/embeddings`` with a Bearer
API token; the account id is the channel's ``config.user_id`` (as in the original). Bodies, answers and
streams are OpenAI's, so the OpenAI adaptor parses them; only the URL and Cloudflare's error envelope
(``{"success": false, "errors": [{"code", "message"}]}``, sometimes with HTTP 200) differ. An AI Gateway base
URL (``https://gateway.ai.cloudflare.com/v1/<account>/<gateway>/workers-ai``, or any base ending in
``/workers-ai``) already names the account.
"""

from __future__ import annotations

import orjson

from billing.usage import Usage
from relay.channel_types import CLOUDFLARE_GATEWAY
from relay.errors import RelayError, is_retryable_status, upstream_error
from relay.providers.openai import OpenAIAdaptor
from relay.schemas import RelayRequest

PROVIDER = "Cloudflare Workers AI"
_PATHS = {"chat": "/chat/completions", "embeddings": "/embeddings"}
# https://developers.cloudflare.com/api/resources/ai/ (error codes): the token or account is unusable.
_DISABLING_CODES = {10000, 10001, 9106, 9109}


def cloudflare_error(status: int, body: bytes) -> RelayError | None:
    """Cloudflare's ``errors`` envelope → RelayError; None when the body is not one."""
    try:
        payload = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return None
    if not isinstance(payload, dict) or payload.get("success") is not False:
        return None
    errors = [e for e in payload.get("errors") or () if isinstance(e, dict)]
    first = errors[0] if errors else {}
    message = str(first.get("message") or f"Cloudflare answered HTTP {status}")
    code = first.get("code")
    status = status if status >= 400 else 500
    disable = status in (401, 403) or code in _DISABLING_CODES
    retryable = is_retryable_status(status) or disable
    return RelayError(
        status, message, "upstream_error", code if code is not None else "", "", retryable, disable
    )


class CloudflareAdaptor(OpenAIAdaptor):
    name = "cloudflare"

    def url(self, req: RelayRequest, upstream_model: str) -> str:
        path = _PATHS.get(req.mode)
        if path is None:
            raise RelayError(400, f"{PROVIDER} does not support {req.path}", code="unsupported_endpoint")
        base = (self.channel.base_url or self.info.base_url).rstrip("/")
        if base.startswith(CLOUDFLARE_GATEWAY) or base.endswith(
            "/workers-ai"
        ):  # a gateway (or a proxy of one)
            return f"{base}/v1{path}"
        account = str(self.channel.config.get("user_id") or "").strip()
        if not account:
            raise RelayError(
                500,
                f"{PROVIDER} channel #{self.channel.id} has no account id (config user_id)",
                code="channel_misconfigured",
                retryable=True,
            )
        return f"{base}/client/v4/accounts/{account}/ai/v1{path}"

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        if (error := cloudflare_error(status, body)) is not None:
            raise error
        return super().parse_response(req, status, body)

    def map_error(self, status: int, body: bytes) -> RelayError:
        return cloudflare_error(status, body) or upstream_error(status, body)
