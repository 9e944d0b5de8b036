"""Google Vertex AI (channel type 42): Gemini and Claude models in a Google Cloud project.

https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference — Gemini through
``publishers/google/models/<m>:generateContent`` (``:streamGenerateContent?alt=sse``, ``:predict`` for
embeddings), Claude through ``publishers/anthropic/models/<m>:rawPredict`` (``:streamRawPredict``), reusing
the Gemini and Anthropic translations. Auth: the service-account JSON in ``config.vertex_ai_adc`` is traded
for an OAuth access token (RFC 7523 JWT bearer grant) cached for 50 minutes. The RS256 assertion is signed
with PyJWT + cryptography: google-auth's credentials refresh through its own synchronous transport, and
every call here must go through the relay's pooled httpx client (and the channel's base URL when set).
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import httpx
import jwt
import orjson
from django.conf import settings

from billing.usage import Usage
from relay.errors import RelayError
from relay.providers.anthropic import ClaudeMessagesMixin, parse_json
from relay.providers.anthropic.request import messages_body
from relay.providers.anthropic.response import anthropic_error
from relay.providers.base import StreamState, UpstreamRequest
from relay.providers.gemini import GeminiAdaptor, chat_request, embedding_response, gemini_error
from relay.schemas import RelayRequest

ANTHROPIC_VERSION = "vertex-2023-10-16"
DEFAULT_REGION = "us-central1"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
TOKEN_TTL_S = 50 * 60

# (client_email, token URL) → (access token, monotonic expiry); per process, shared by every channel.
_tokens: dict[tuple[str, str], tuple[str, float]] = {}

# https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude — Vertex names Claude
# "<name>@<date>"; gateway names "<name>-<date>" are rewritten, with the one renamed release listed here.
CLAUDE_NAMES = {"claude-3-5-sonnet-20241022": "claude-3-5-sonnet-v2@20241022"}
_DATED = re.compile(r"^(claude-.+)-(\d{8})$")


def vertex_claude_name(model: str) -> str:
    if model in CLAUDE_NAMES:
        return CLAUDE_NAMES[model]
    return _DATED.sub(r"\1@\2", model) if "@" not in model else model


def config_error(message: str) -> RelayError:
    # Retryable: another channel may be configured properly.
    return RelayError(500, message, type="one_api_error", code="invalid_channel", retryable=True)


class VertexAIAdaptor(ClaudeMessagesMixin, GeminiAdaptor):
    name = "vertexai"
    provider = "Vertex AI"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.access_token = ""
        self.claude = False

    # --- auth -------------------------------------------------------------------------------------------

    def service_account(self) -> dict:
        adc = self.channel.config.get("vertex_ai_adc") or self.channel.key
        if isinstance(adc, str):
            try:
                adc = orjson.loads(adc)
            except orjson.JSONDecodeError:
                adc = None
        if not isinstance(adc, dict) or not adc.get("client_email") or not adc.get("private_key"):
            raise config_error("Vertex AI channel needs a service-account JSON in config.vertex_ai_adc")
        return adc

    def token_url(self, account: dict) -> str:
        """config.token_url, else the SA's token URI moved onto the channel's base URL when one is set."""
        uri = str(self.channel.config.get("token_url") or account.get("token_uri") or DEFAULT_TOKEN_URI)
        if self.channel.base_url and not self.channel.config.get("token_url"):
            return self.channel.base_url.rstrip("/") + (urlsplit(uri).path or "/token")
        return uri

    async def prepare(self, client: httpx.AsyncClient) -> None:
        account = self.service_account()
        url = self.token_url(account)
        key = (str(account["client_email"]), url)
        cached = _tokens.get(key)
        if cached and cached[1] > time.monotonic():
            self.access_token = cached[0]
            return
        token, expires_in = await exchange_token(client, account, url)
        _tokens[key] = (token, time.monotonic() + min(TOKEN_TTL_S, max(expires_in - 60, 0)))
        self.access_token = token

    # --- requests ---------------------------------------------------------------------------------------

    def location(self) -> tuple[str, str]:
        config = self.channel.config
        region = str(config.get("region") or DEFAULT_REGION)
        project = str(config.get("vertex_ai_project_id") or self.service_account().get("project_id") or "")
        if not project:
            raise config_error("Vertex AI channel needs config.vertex_ai_project_id")
        return region, project

    def model_url(self, publisher: str, model: str, method: str) -> str:
        region, project = self.location()
        host = (
            "https://aiplatform.googleapis.com"
            if region == "global"
            else f"https://{region}-aiplatform.googleapis.com"
        )
        base = (self.channel.base_url or host).rstrip("/")
        return (
            f"{base}/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:{method}"
        )

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        if not self.access_token:
            raise config_error("Vertex AI access token missing (prepare() was not called)")
        headers = {"Authorization": f"Bearer {self.access_token}", "Content-Type": "application/json"}
        self._model = req.model
        system_prompt = self.channel.system_prompt if req.mode == "chat" else ""
        if req.mode == "embeddings" and req.body is not None:
            payload = embedding_instances(req.body)
            url = self.model_url("google", upstream_model, "predict")
        elif upstream_model.startswith("claude"):
            self.claude = True
            payload = messages_body(
                self.require_chat(req),
                upstream_model,
                provider="Vertex AI Claude",
                system_prompt=system_prompt,
            )
            payload.pop("model")
            payload["anthropic_version"] = ANTHROPIC_VERSION
            method = "streamRawPredict" if req.stream else "rawPredict"
            url = self.model_url("anthropic", vertex_claude_name(upstream_model), method)
        elif req.mode == "chat":
            payload = chat_request(
                self.require_chat(req),
                system_prompt=system_prompt,
                safety_threshold=settings.GEMINI_SAFETY_SETTING,
            )
            method = "streamGenerateContent?alt=sse" if req.stream else "generateContent"
            url = self.model_url("google", upstream_model, method)
        else:
            raise RelayError(
                400, f"Vertex AI does not support {req.path}", code="unsupported_endpoint", param="mode"
            )
        if req.stream:
            headers["Accept"] = "text/event-stream"
        return UpstreamRequest(
            "POST", url, headers, orjson.dumps(payload), system_prompt_reset=bool(system_prompt)
        )

    # --- answers ----------------------------------------------------------------------------------------

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = parse_json(body)
        if req.mode == "embeddings":
            return embedding_answer(req, payload)
        if self.claude or (isinstance(payload, dict) and payload.get("type") in ("message", "error")):
            return ClaudeMessagesMixin.parse_response(self, req, status, body)
        return GeminiAdaptor.parse_response(self, req, status, body)

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        if self.claude:
            return ClaudeMessagesMixin.parse_stream_event(self, data, state)
        return GeminiAdaptor.parse_stream_event(self, data, state)

    def map_error(self, status: int, body: bytes) -> RelayError:
        try:
            payload = orjson.loads(body) if body else None
        except orjson.JSONDecodeError:
            payload = None
        if isinstance(payload, dict) and payload.get("type") == "error":  # Claude answers its own way
            return anthropic_error(status, payload)
        return gemini_error(status, payload)


async def exchange_token(client: httpx.AsyncClient, account: dict, url: str) -> tuple[str, int]:
    """The RFC 7523 JWT-bearer grant: an RS256 assertion signed with the SA key → (access token, lifetime)."""
    now = int(time.time())
    claims = {"iss": account["client_email"], "scope": SCOPE, "aud": url, "iat": now, "exp": now + 3600}
    headers = {"kid": account["private_key_id"]} if account.get("private_key_id") else None
    try:
        assertion = jwt.encode(claims, account["private_key"], algorithm="RS256", headers=headers)
    except (ValueError, TypeError, jwt.PyJWTError) as exc:
        raise config_error(f"Vertex AI service-account private key is unusable: {exc}") from None
    grant = {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    try:
        response = await client.post(url, data=grant)
    except httpx.HTTPError as exc:
        message = f"Vertex AI token exchange unreachable: {exc.__class__.__name__}"
        raise RelayError(
            502, message, type="upstream_error", code="do_request_failed", retryable=True
        ) from None
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = {}
    if response.status_code != 200 or not isinstance(payload, dict) or not payload.get("access_token"):
        detail = payload.get("error_description") or payload.get("error") if isinstance(payload, dict) else ""
        message = f"Vertex AI token exchange failed: {detail or f'HTTP {response.status_code}'}"
        bad_account = response.status_code in (400, 401, 403)  # invalid_grant: a wrong or revoked key
        raise RelayError(
            401 if bad_account else 502,
            message,
            type="upstream_error",
            code="token_exchange_failed",
            retryable=True,
            disable_channel=bad_account,
        )
    return str(payload["access_token"]), int(payload.get("expires_in") or 3600)


def embedding_instances(body: dict) -> dict:
    """OpenAI embeddings → Vertex ``:predict`` instances (text-embedding-* / gemini-embedding-*)."""
    inputs = body.get("input")
    inputs = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        raise RelayError(
            400, "Vertex AI does not support input as token ids", code="unsupported_parameter", param="input"
        )
    payload: dict = {"instances": [{"content": text} for text in inputs]}
    if body.get("dimensions"):
        payload["parameters"] = {"outputDimensionality": body["dimensions"]}
    return payload


def embedding_answer(req: RelayRequest, payload: object) -> tuple[bytes, Usage]:
    # https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api#response_body
    predictions = payload.get("predictions") if isinstance(payload, dict) else None
    if not isinstance(predictions, list):
        raise gemini_error(502, payload)
    embeddings = [(p.get("embeddings") or {}) if isinstance(p, dict) else {} for p in predictions]
    answer = embedding_response(
        {"embeddings": embeddings}, req.model, (req.body or {}).get("encoding_format")
    )
    tokens = sum(int((e.get("statistics") or {}).get("token_count") or 0) for e in embeddings)
    usage = Usage(tokens, 0)
    answer["usage"] = usage.as_openai()
    return orjson.dumps(answer), usage
