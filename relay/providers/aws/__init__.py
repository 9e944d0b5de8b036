"""AWS Bedrock (channel type 33): Claude (the Anthropic translation) and Llama 3 over InvokeModel.

https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html — plain HTTP to
``bedrock-runtime.<region>.amazonaws.com`` (or the channel's base URL), signed with botocore's SigV4 and,
when streaming, decoded from the binary ``application/vnd.amazon.eventstream`` framing by botocore's
EventStreamBuffer: the signing and the CRC-checked framing are a well-kept library's, not ours.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import quote

import orjson
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.eventstream import EventStreamBuffer, ParserError

from billing.usage import Usage
from relay.errors import RelayError
from relay.providers.anthropic import ClaudeMessagesMixin, parse_json
from relay.providers.anthropic.request import messages_body
from relay.providers.anthropic.response import bad_stream
from relay.providers.aws.llama import llama_body, llama_chunk, llama_completion
from relay.providers.aws.models import bedrock_model_id
from relay.providers.base import Adaptor, StreamState, UpstreamRequest
from relay.schemas import RelayRequest

if TYPE_CHECKING:
    import httpx

ANTHROPIC_VERSION = "bedrock-2023-05-31"
SERVICE = "bedrock"
EXCEPTION = "_bedrock_exception"  # marks an exception frame among the decoded stream events

# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html#API_runtime_InvokeModel_Errors
# status → (error type, retry on another channel?, disable this channel?)
ERRORS = {
    400: ("ValidationException", False, False),
    401: ("UnrecognizedClientException", True, True),
    403: ("AccessDeniedException", True, True),
    404: ("ResourceNotFoundException", True, False),
    408: ("ModelTimeoutException", True, False),
    424: ("ModelErrorException", True, False),
    429: ("ThrottlingException", True, False),
    500: ("InternalServerException", True, False),
    503: ("ServiceUnavailableException", True, False),
}
# https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ResponseStream.html — in-stream exceptions
STREAM_EXCEPTIONS = {
    "throttlingException": 429,
    "modelStreamErrorException": 424,
    "validationException": 400,
    "internalServerException": 500,
    "serviceUnavailableException": 503,
    "modelTimeoutException": 408,
}


def bedrock_error(status: int, message: str, kind: str = "") -> RelayError:
    default_kind, retryable, disable = ERRORS.get(status, ("", status >= 500, False))
    kind = kind or default_kind or "bedrock_error"
    if status == 403 and "access to the model" in message:
        disable = False  # the model is not enabled in this account; other models on the channel still work
    return RelayError(
        status=status, message=message, type=kind, code=kind, retryable=retryable, disable_channel=disable
    )


def _message_of(body: bytes) -> tuple[str, str]:
    try:
        payload = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return body[:200].decode("utf-8", "replace"), ""
    if not isinstance(payload, dict):
        return "", ""
    kind = str(payload.get("__type") or "").rsplit("#", 1)[-1].split(":")[0]
    return str(payload.get("message") or payload.get("Message") or ""), kind


class AwsAdaptor(ClaudeMessagesMixin, Adaptor):
    name = "aws"
    provider = "AWS Bedrock"

    def credentials(self) -> tuple[str, str, str]:
        """(access key, secret key, region) from the key ``AK|SK|Region`` or the config's ak/sk/region."""
        config = self.channel.config
        parts = self.channel.key.split("|")
        access, secret, region = (parts + ["", "", ""])[:3] if len(parts) >= 2 else ("", "", "")
        access = str(config.get("ak") or access).strip()
        secret = str(config.get("sk") or secret).strip()
        region = str(config.get("region") or region).strip()
        if not (access and secret and region):
            raise RelayError(
                500,
                "AWS channel needs the key AK|SK|Region (or config ak, sk, region)",
                code="invalid_channel",
                retryable=True,  # another channel may be configured properly
            )
        return access, secret, region

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        body = self.require_chat(req)
        access, secret, region = self.credentials()
        model_id = bedrock_model_id(upstream_model, region)
        system_prompt = self.channel.system_prompt
        if model_id.startswith("meta.") or ".meta." in model_id:
            payload = llama_body(body, system_prompt)
        else:
            payload = messages_body(body, upstream_model, provider=self.provider, system_prompt=system_prompt)
            payload.pop("model")
            payload.pop("stream", None)
            payload["anthropic_version"] = ANTHROPIC_VERSION
            if beta := req.headers.get("anthropic-beta"):
                payload["anthropic_beta"] = [b.strip() for b in beta.split(",") if b.strip()]
        base = (self.channel.base_url or f"https://bedrock-runtime.{region}.amazonaws.com").rstrip("/")
        action = "invoke-with-response-stream" if req.stream else "invoke"
        url = f"{base}/model/{quote(model_id, safe='')}/{action}"
        content = orjson.dumps(payload)
        accept = "application/vnd.amazon.eventstream" if req.stream else "application/json"
        headers = sign(
            url, content, access, secret, region, {"Content-Type": "application/json", "Accept": accept}
        )
        return UpstreamRequest("POST", url, headers, content, system_prompt_reset=bool(system_prompt))

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        payload = parse_json(body)
        if isinstance(payload, dict) and "generation" in payload:
            answer, usage = llama_completion(payload, req.model)
            return orjson.dumps(answer), usage
        return super().parse_response(req, status, body)

    async def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        buffer = EventStreamBuffer()
        async for data in response.aiter_bytes():
            buffer.add_data(data)
            try:
                for message in buffer:
                    yield frame_event(message.headers, message.payload)
            except ParserError as exc:
                yield orjson.dumps(
                    {"type": EXCEPTION, "kind": "malformedFrame", "message": str(exc)}
                ).decode()
                return

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        try:
            event = orjson.loads(data)
        except orjson.JSONDecodeError:
            state.error = bad_stream("Bedrock sent a malformed stream event")
            return []
        if not isinstance(event, dict):
            state.error = bad_stream("Bedrock sent an unexpected stream event")
            return []
        if event.get("type") == EXCEPTION:
            status = STREAM_EXCEPTIONS.get(event.get("kind"), 502)
            state.error = bedrock_error(
                status, str(event.get("message") or "Bedrock stream failed"), event["kind"]
            )
            return []
        if "generation" in event:
            return llama_chunk(event, state, f"chatcmpl-{id(state)}")
        translator = self.translator(state)
        metrics = event.get("amazon-bedrock-invocationMetrics")
        if isinstance(metrics, dict):  # authoritative usage, on the final message_stop
            translator.update_usage(
                {
                    "input_tokens": metrics.get("inputTokenCount"),
                    "output_tokens": metrics.get("outputTokenCount"),
                    "cache_read_input_tokens": metrics.get("cacheReadInputTokenCount"),
                    "cache_creation_input_tokens": metrics.get("cacheWriteInputTokenCount"),
                }
            )
        return translator.translate(event, state)

    def map_error(self, status: int, body: bytes) -> RelayError:
        message, kind = _message_of(body)
        return bedrock_error(status, message or f"bad response status code {status}", kind)


def sign(
    url: str, content: bytes, access: str, secret: str, region: str, headers: dict[str, str]
) -> dict[str, str]:
    """SigV4 headers (X-Amz-Date, Authorization) for a Bedrock request, by botocore."""
    request = AWSRequest(method="POST", url=url, data=content, headers=headers)
    SigV4Auth(Credentials(access, secret), SERVICE, region).add_auth(request)
    return dict(request.headers.items())


def frame_event(headers: dict, payload: bytes) -> str:
    """One decoded eventstream message → the event's JSON text (or an exception marker)."""
    kind = headers.get(":message-type")
    if kind == "event":
        try:
            chunk = orjson.loads(payload)
            return base64.b64decode(chunk["bytes"], validate=True).decode()
        except (orjson.JSONDecodeError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            return orjson.dumps(
                {"type": EXCEPTION, "kind": "malformedChunk", "message": "bad chunk"}
            ).decode()
    if kind == "exception":
        name = str(headers.get(":exception-type") or "bedrockException")
        message, _ = _message_of(payload)
        return orjson.dumps({"type": EXCEPTION, "kind": name, "message": message or name}).decode()
    name, message = headers.get(":error-code") or "bedrockError", headers.get(":error-message") or ""
    return orjson.dumps({"type": EXCEPTION, "kind": str(name), "message": str(message or name)}).decode()
