"""/v1 endpoints: thin — authenticate, parse, hand to relay.services."""

from __future__ import annotations

import orjson

from config.options import options_arefresh
from relay.auth import relay_authenticate
from relay.errors import RelayError
from relay.http_io import HttpIn
from relay.schemas import parse_text_request
from relay.services import JSON_HEADERS, RelayContext, RelayResult, relay_text


async def _context(http: HttpIn) -> RelayContext:
    await options_arefresh()
    auth = await relay_authenticate(http.authorization, http.client_ip)
    return RelayContext(request_id=http.request_id, started=http.started, client_ip=http.client_ip, auth=auth)


def _text_view(mode: str):
    async def view(http: HttpIn, path_model: str = "") -> RelayResult:
        ctx = await _context(http)
        req = parse_text_request(mode, http.path, http.body, path_model)
        req.headers = http.headers
        return await relay_text(ctx, req)

    view.__name__ = f"{mode}_view"
    return view


chat_completions = _text_view("chat")
completions = _text_view("completions")
edits = _text_view("edits")
embeddings = _text_view("embeddings")
moderations = _text_view("moderations")


async def engine_embeddings(http: HttpIn, model: str) -> RelayResult:
    return await embeddings(http, path_model=model)


def json_result(payload: object, status: int = 200) -> RelayResult:
    return RelayResult(status, JSON_HEADERS, orjson.dumps(payload))


async def models_list(http: HttpIn) -> RelayResult:
    from relay.selectors import models_for_token

    ctx = await _context(http)
    return json_result({"object": "list", "data": await models_for_token(ctx.auth.token)})


async def model_retrieve(http: HttpIn, model: str) -> RelayResult:
    from relay.selectors import models_for_token

    ctx = await _context(http)
    for item in await models_for_token(ctx.auth.token, include_builtin=True):
        if item["id"] == model:
            return json_result(item)
    raise RelayError(
        404,
        f"The model '{model}' does not exist",
        type="invalid_request_error",
        code="model_not_found",
        param="model",
    )


async def not_implemented(http: HttpIn) -> RelayResult:
    raise RelayError(
        501, "API not implemented", type="one_api_error", code="api_not_implemented", with_request_id=False
    )


async def billing_subscription(http: HttpIn) -> RelayResult:
    from billing.selectors import billing_subscription_for

    ctx = await _context(http)
    return json_result(await billing_subscription_for(ctx.auth.token))


async def billing_usage(http: HttpIn) -> RelayResult:
    from billing.selectors import billing_usage_for

    ctx = await _context(http)
    return json_result(await billing_usage_for(ctx.auth.token))


async def images_generations(http: HttpIn) -> RelayResult:
    from relay.media import parse_image_request, relay_image

    ctx = await _context(http)
    return await relay_image(ctx, parse_image_request(http.path, http.body))


async def audio_speech(http: HttpIn) -> RelayResult:
    from relay.media import parse_speech_request, relay_speech

    ctx = await _context(http)
    return await relay_speech(ctx, parse_speech_request(http.path, http.body))


def _transcription_view(mode: str):
    async def view(http: HttpIn) -> RelayResult:
        from relay.media import parse_transcription_request, relay_transcription

        ctx = await _context(http)
        req = parse_transcription_request(mode, http.path, http.body, http.content_type)
        return await relay_transcription(ctx, req)

    view.__name__ = f"{mode}_view"
    return view


audio_transcriptions = _transcription_view("audio_transcription")
audio_translations = _transcription_view("audio_translation")


async def oneapi_proxy(http: HttpIn, channel_id: str, path: str = "") -> RelayResult:
    from relay.providers.proxy import relay_proxy

    return await relay_proxy(await _context(http), http, int(channel_id), path or "")
