"""Images and audio: validation, pricing and the relay calls (spec §3.5, with the speech-to-text quirk fixed).

Images and speech are priced before the call (the price does not depend on the answer), reserved in full and
settled at that price; transcriptions reserve PreConsumedQuota × ratio and settle on the transcript's tokens
with the model and group ratios applied (the original charged raw tokens without ratios).
"""

from __future__ import annotations

import io
import re
from functools import partial

import orjson
from django.http.multipartparser import MultiPartParser, MultiPartParserError

from billing.ratios import IMAGE_N_RANGE, IMAGE_PROMPT_MAX_LENGTH, image_size_ratio, is_valid_image_size
from billing.selectors import group_ratio, model_ratio, pre_consumed_quota
from billing.services import quota_settle, text_quota
from billing.usage import Charge, Reservation, Usage
from channels_app.routing import ChannelSnapshot
from relay import tokens
from relay.errors import invalid_request
from relay.schemas import DEFAULT_MODELS, RelayRequest, parse_json_body
from relay.services import (
    RelayContext,
    RelayResult,
    adaptor_for,
    choose_first,
    relay_with_failover,
    reserve,
    send_upstream,
    settle_async,
    upstream_client,
)

SPEECH_MAX_CHARS = 4096


# --- images --------------------------------------------------------------------------------------------


def parse_image_request(path: str, raw: bytes) -> RelayRequest:
    body = parse_json_body(raw)
    model = body.get("model") or DEFAULT_MODELS["images"]
    prompt = body.get("prompt")
    if not isinstance(model, str):
        raise invalid_request("model must be a string", code="invalid_image_request", param="model")
    if not isinstance(prompt, str) or not prompt:
        raise invalid_request("prompt is required", code="prompt_missing", param="prompt")
    n = body.get("n", 1)
    if isinstance(n, bool) or not isinstance(n, int):
        raise invalid_request("n must be an integer", code="n_not_within_range", param="n")
    size = body.get("size") or "1024x1024"
    if not isinstance(size, str) or not is_valid_image_size(model, size):
        raise invalid_request(
            f"size {size} is not supported for {model}", code="size_not_supported", param="size"
        )
    low, high = IMAGE_N_RANGE.get(model, (1, 10))
    if not low <= n <= high:
        raise invalid_request(
            f"n must be between {low} and {high} for {model}", code="n_not_within_range", param="n"
        )
    if len(prompt) > IMAGE_PROMPT_MAX_LENGTH.get(model, 1 << 20):
        raise invalid_request("prompt is too long", code="prompt_too_long", param="prompt")
    return RelayRequest(mode="images", path=path, model=model, raw=raw, body=body)


def image_quota(model: str, channel_type: int, group: str, body: dict) -> tuple[int, float, float]:
    ratio_model, ratio_group = model_ratio(model, channel_type), group_ratio(group)
    size_ratio = image_size_ratio(model, body.get("size") or "1024x1024", str(body.get("quality") or ""))
    per_image = int(ratio_model * ratio_group * size_ratio * 1000)
    return per_image * int(body.get("n", 1) or 1), ratio_model, ratio_group


async def relay_image(ctx: RelayContext, req: RelayRequest) -> RelayResult:
    chooser = await choose_first(ctx, req.model)
    first = chooser.first()
    quota, _, _ = image_quota(first.upstream_model(req.model), first.type, chooser.group, req.body or {})
    reservation = await reserve(ctx, quota)
    call = partial(_priced_attempt, ctx, req, reservation)
    return await relay_with_failover(ctx, chooser, reservation, call, first)


async def _priced_attempt(
    ctx: RelayContext, req: RelayRequest, reservation: Reservation, channel: ChannelSnapshot
) -> RelayResult:
    """One upstream call whose price was fixed up front (images, speech)."""
    adaptor = adaptor_for(channel)
    await adaptor.prepare(upstream_client())
    upstream_model = channel.upstream_model(req.model)
    response = await send_upstream(ctx, adaptor.build_request(req, upstream_model), stream=False)
    response = await adaptor.follow_up(upstream_client(), req, response)
    if response.status_code not in (200, 201):
        raise adaptor.map_error(response.status_code, response.content)
    if req.mode == "images":
        body, _ = adaptor.parse_response(req, response.status_code, response.content)
        headers = [(b"content-type", b"application/json")]
        quota, ratio_model, ratio_group = image_quota(
            upstream_model, channel.type, reservation.group, req.body or {}
        )
    else:
        body = response.content
        headers = [(b"content-type", response.headers.get("content-type", "audio/mpeg").encode())]
        quota, ratio_model, ratio_group = speech_quota(
            upstream_model, channel.type, reservation.group, req.body or {}
        )
    charge = Charge(upstream_model, quota, ratio_model, ratio_group, 1.0)

    async def settle() -> None:
        quota_settle(
            reservation=reservation,
            charge=charge,
            usage=Usage(),
            channel_id=channel.id,
            elapsed_ms=ctx.elapsed_ms(),
            is_stream=False,
            content=f"倍率：{ratio_model:.2f} × {ratio_group:.2f}",
        )

    return RelayResult(response.status_code, headers, body, after_send=settle)


# --- text to speech ------------------------------------------------------------------------------------


def parse_speech_request(path: str, raw: bytes) -> RelayRequest:
    body = parse_json_body(raw)
    model, text = body.get("model"), body.get("input")
    if not isinstance(model, str) or not model:
        raise invalid_request("model is required", code="invalid_json", param="model")
    if not isinstance(text, str) or not text:
        raise invalid_request("input is required", code="invalid_json", param="input")
    if len(text) > SPEECH_MAX_CHARS:
        raise invalid_request(f"input is longer than {SPEECH_MAX_CHARS} characters", code="text_too_long")
    return RelayRequest(mode="audio_speech", path=path, model=model, raw=raw, body=body)


def speech_quota(model: str, channel_type: int, group: str, body: dict) -> tuple[int, float, float]:
    ratio_model, ratio_group = model_ratio(model, channel_type), group_ratio(group)
    return int(len(body.get("input") or "") * ratio_model * ratio_group), ratio_model, ratio_group


async def relay_speech(ctx: RelayContext, req: RelayRequest) -> RelayResult:
    chooser = await choose_first(ctx, req.model)
    first = chooser.first()
    quota, _, _ = speech_quota(first.upstream_model(req.model), first.type, chooser.group, req.body or {})
    reservation = await reserve(ctx, quota)
    call = partial(_priced_attempt, ctx, req, reservation)
    return await relay_with_failover(ctx, chooser, reservation, call, first)


# --- speech to text ------------------------------------------------------------------------------------


def parse_transcription_request(mode: str, path: str, raw: bytes, content_type: str) -> RelayRequest:
    if not content_type.startswith("multipart/form-data"):
        raise invalid_request("expected a multipart/form-data body", code="invalid_json")
    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(raw))}
    try:
        from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

        handlers = [MemoryFileUploadHandler(), TemporaryFileUploadHandler()]
        fields, files = MultiPartParser(meta, io.BytesIO(raw), handlers, "utf-8").parse()
    except MultiPartParserError as exc:
        raise invalid_request(f"malformed multipart body: {exc}", code="invalid_json") from None
    if "file" not in files:
        raise invalid_request("file is required", code="invalid_json", param="file")
    model = fields.get("model") or DEFAULT_MODELS[mode]
    form = {key: fields.get(key) for key in fields}
    return RelayRequest(mode=mode, path=path, model=model, raw=raw, content_type=content_type, form=form)


def transcript_text(body: bytes, response_format: str) -> str:
    if response_format in ("", "json", "verbose_json"):
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            return ""
        return str(payload.get("text", "")) if isinstance(payload, dict) else ""
    text = body.decode("utf-8", "replace")
    if response_format in ("srt", "vtt"):
        lines = (line.strip() for line in text.splitlines())
        return " ".join(
            line
            for line in lines
            if line and line != "WEBVTT" and not line.isdigit() and not _CUE_TIME.search(line)
        )
    return text


_CUE_TIME = re.compile(r"\d{2}:\d{2}[:.,\d]*\s+-->\s+")


async def relay_transcription(ctx: RelayContext, req: RelayRequest) -> RelayResult:
    chooser = await choose_first(ctx, req.model)
    first = chooser.first()
    ratio = model_ratio(first.upstream_model(req.model), first.type) * group_ratio(chooser.group)
    reservation = await reserve(ctx, int(pre_consumed_quota() * ratio))
    call = partial(_transcription_attempt, ctx, req, reservation)
    return await relay_with_failover(ctx, chooser, reservation, call, first)


async def _transcription_attempt(
    ctx: RelayContext, req: RelayRequest, reservation: Reservation, channel: ChannelSnapshot
) -> RelayResult:
    adaptor = adaptor_for(channel)
    upstream_model = channel.upstream_model(req.model)
    upstream = adaptor.build_request(_with_model(req, upstream_model), upstream_model)
    response = await send_upstream(ctx, upstream, stream=False)
    if response.status_code not in (200, 201):
        raise adaptor.map_error(response.status_code, response.content)
    text = transcript_text(response.content, req.form.get("response_format") or "")
    usage = Usage(prompt_tokens=tokens.count_text(text, upstream_model))
    ratio_model, ratio_group = model_ratio(upstream_model, channel.type), group_ratio(reservation.group)
    quota = text_quota(usage, model_ratio=ratio_model, group_ratio=ratio_group, completion_ratio=1.0)
    charge = Charge(upstream_model, quota, ratio_model, ratio_group, 1.0)
    settle = partial(
        settle_async,
        reservation=reservation,
        charge=charge,
        usage=usage,
        channel_id=channel.id,
        elapsed_ms=ctx.elapsed_ms(),
        is_stream=False,
    )
    content_type = response.headers.get("content-type", "application/json").encode()
    return RelayResult(
        response.status_code, [(b"content-type", content_type)], response.content, after_send=settle
    )


def _with_model(req: RelayRequest, model: str) -> RelayRequest:
    """The multipart body with its ``model`` field replaced (re-encoded only when the model changes)."""
    if model == req.model:
        return req
    import httpx

    meta = {"CONTENT_TYPE": req.content_type, "CONTENT_LENGTH": str(len(req.raw))}
    from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

    fields, files = MultiPartParser(
        meta, io.BytesIO(req.raw), [MemoryFileUploadHandler(), TemporaryFileUploadHandler()], "utf-8"
    ).parse()
    data = {key: fields.getlist(key) for key in fields}
    data["model"] = [model]
    upload = files["file"]
    encoded = httpx.Request(
        "POST",
        "http://upstream/",
        data=data,
        files={"file": (upload.name, upload.read(), upload.content_type)},
    )
    raw = encoded.read()
    return RelayRequest(
        mode=req.mode,
        path=req.path,
        model=model,
        raw=raw,
        content_type=encoded.headers["content-type"],
        form=req.form,
    )
