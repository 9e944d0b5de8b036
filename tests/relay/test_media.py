"""Images and audio: priced as the original, with the speech-to-text quirk fixed (ratios apply)."""

from __future__ import annotations

import math

from config.options import option_set
from logs_app.models import Log
from relay.tokens import count_text


def test_image_generation_charges_size_ratio_times_n(relay):
    relay.channel("img", model_names="dall-e-2,dall-e-3")
    result = relay.client().images.generate(model="dall-e-2", prompt="a cat", size="512x512", n=2)
    assert len(result.data) == 2
    relay.refresh()
    # dall-e-2 ratio 10 × group 1 × size 1.125 × 1000 = 11250 per image
    assert relay.user.used_quota == 22500
    assert relay.user.quota == 10_000_000 - 22500
    log = Log.objects.get()
    assert log.model_name == "dall-e-2" and log.quota == 22500 and log.content.startswith("倍率：")


def test_image_requests_are_validated_before_anything_is_charged(relay):
    relay.channel("img", model_names="dall-e-2,dall-e-3")
    with relay.http() as http:
        bad_size = http.post("/v1/images/generations", json={"model": "dall-e-3", "prompt": "x", "size": "64x64"})
        too_many = http.post("/v1/images/generations", json={"model": "dall-e-3", "prompt": "x", "n": 2})
        no_prompt = http.post("/v1/images/generations", json={"model": "dall-e-2"})
    assert (bad_size.status_code, bad_size.json()["error"]["code"]) == (400, "size_not_supported")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, "n_not_within_range")
    assert (no_prompt.status_code, no_prompt.json()["error"]["code"]) == (400, "prompt_missing")
    relay.refresh()
    assert relay.user.quota == 10_000_000 and not relay.upstream.requests


def test_speech_is_charged_per_character(relay):
    relay.channel("tts", model_names="tts-1")
    audio = relay.client().audio.speech.create(model="tts-1", voice="alloy", input="hello there")
    assert audio.read() == b"ID3-fake-mp3-bytes"
    relay.refresh()
    assert relay.user.used_quota == int(len("hello there") * 7.5)


def test_transcription_bills_transcript_tokens_with_ratios(relay, tmp_path):
    relay.channel("stt", model_names="whisper-1")
    relay.upstream.plan("stt", content="the quick brown fox jumps over the lazy dog")
    option_set("GroupRatio", '{"default": 2}')
    audio = tmp_path / "a.mp3"
    audio.write_bytes(b"fake audio")
    with audio.open("rb") as fh:
        result = relay.client().audio.transcriptions.create(model="whisper-1", file=fh)
    assert result.text == "the quick brown fox jumps over the lazy dog"
    sent = relay.upstream.requests_for("stt")[0]
    assert sent.headers["content-type"].startswith("multipart/form-data") and b"fake audio" in sent.raw
    relay.refresh()
    tokens = count_text(result.text, "whisper-1")
    assert relay.user.used_quota == math.ceil(tokens * 15 * 2)
    assert Log.objects.get().prompt_tokens == tokens
