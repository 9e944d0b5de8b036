"""The openai SDK → the gateway → a fake Replicate whose predictions take a few polls to finish."""

from __future__ import annotations

import base64

import openai
import pytest

from billing.usage import Usage
from channels_app.models import Channel
from config.options import option_set
from logs_app.models import Log
from relay.media import image_quota
from relay.providers import replicate
from relay.services import channel_test, text_charge
from tests.fakes.replicate import PNG, FakeReplicate
from tests.fakes.server import ServerThread

LLAMA = "meta/meta-llama-3-8b-instruct"
FLUX = "black-forest-labs/flux-schnell"


@pytest.fixture(scope="module")
def replicate_server():
    fake = FakeReplicate()
    server = ServerThread(fake).start()
    fake.url = server.url
    yield fake, server
    server.stop()


@pytest.fixture
def fake(relay, replicate_server, monkeypatch):
    monkeypatch.setattr(replicate, "POLL_INTERVAL_S", 0.01)
    upstream, server = replicate_server
    upstream.reset()

    def channel(key: str, **fields) -> Channel:
        fields.setdefault("model_names", f"{LLAMA},{FLUX}")
        return relay.channel(key, type=46, base_url=f"{server.url}/v1/models/", **fields)

    upstream.channel = channel
    yield upstream
    upstream.reset()


def test_a_chat_is_a_polled_prediction_billed_by_its_metrics(relay, fake):
    channel = fake.channel("r8_one")
    fake.plan("r8_one", polls=3, metrics={"input_token_count": 15, "output_token_count": 3})
    answer = relay.client().chat.completions.create(
        model=LLAMA,
        messages=[{"role": "system", "content": "Be nice."}, {"role": "user", "content": "Hi"}],
        max_tokens=32,
    )
    assert answer.choices[0].message.content == "Hello from Replicate."
    assert answer.choices[0].finish_reason == "stop"
    assert fake.created[0]["path"] == f"/v1/models/{LLAMA}/predictions"
    assert fake.created[0]["body"] == {
        "input": {"prompt": "Hi", "system_prompt": "Be nice.", "max_tokens": 32}
    }
    assert len(fake.gets) == 3  # polled on the channel's base URL until it succeeded
    relay.refresh()
    assert relay.user.used_quota == text_charge(LLAMA, channel, relay.user.group, Usage(15, 3)).quota > 0


def test_a_stream_reads_the_predictions_stream_url(relay, fake):
    fake.channel("r8_two")
    fake.plan("r8_two", output=["Once", " upon", "\n", "a time."])
    stream = relay.client().chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "story"}], stream=True
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Once upon\na time."
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert fake.created[0]["body"]["stream"] is True and fake.gets == []
    relay.refresh()
    assert Log.objects.get().completion_tokens > 0


def test_without_a_stream_url_the_finished_answer_arrives_as_one_chunk(relay, fake):
    fake.channel("r8_three")
    fake.plan("r8_three", stream_url=False)
    stream = relay.client().chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    contents = [c.choices[0].delta.content for c in stream if c.choices[0].delta.content]
    assert contents == ["Hello from Replicate."]


def test_a_stream_error_event_ends_the_stream_and_bills_what_was_delivered(relay, fake):
    fake.channel("r8_four")
    fake.plan("r8_four", output=["alpha", " beta", " gamma"], stream_error_after=2)
    stream = relay.client().chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "go"}], stream=True
    )
    received = []
    with pytest.raises(openai.APIError, match="CUDA out of memory"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "alpha beta"
    relay.refresh()
    assert Log.objects.get().completion_tokens == 2


def test_a_failed_prediction_is_an_error_for_the_client(relay, fake):
    fake.channel("r8_five")
    fake.plan(
        "r8_five", final_status="failed", error_message="Prediction interrupted; please retry (code: PA)"
    )
    with pytest.raises(openai.APIStatusError, match="Prediction interrupted") as caught:
        relay.client().chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.status_code == 502
    relay.refresh()
    assert relay.user.used_quota == 0


def test_a_bad_token_disables_the_channel_and_bad_input_is_a_400(relay, fake):
    option_set("AutomaticDisableChannelEnabled", "true")
    channel = fake.channel("r8_unknown")  # the fake answers 401 for tokens it has no plan for
    with pytest.raises(openai.AuthenticationError, match="valid authentication token"):
        relay.client().chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
    relay.refresh()
    channel.refresh_from_db()
    assert channel.status != 1

    fake.channel("r8_six")
    fake.plan("r8_six")
    with pytest.raises(openai.BadRequestError, match="prompt is required"):
        relay.client().chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": ""}])


def test_images_come_back_as_urls_or_base64_and_are_priced_per_image(relay, fake):
    channel = fake.channel("r8_seven")
    fake.plan("r8_seven", output=["/files/out-0.webp", "/files/out-1.webp"], metrics={"image_count": 2})
    result = relay.client().images.generate(model=FLUX, prompt="a watercolor fox", n=2, size="1024x1024")
    assert [d.url for d in result.data] == [f"{fake.url}/files/out-0.webp", f"{fake.url}/files/out-1.webp"]
    assert fake.created[0]["body"] == {
        "input": {"prompt": "a watercolor fox", "aspect_ratio": "1:1", "num_outputs": 2}
    }
    result = relay.client().images.generate(model=FLUX, prompt="a fox", n=2, response_format="b64_json")
    assert [base64.b64decode(d.b64_json) for d in result.data] == [PNG, PNG]
    relay.refresh()
    quota, _, _ = image_quota(FLUX, channel.type, relay.user.group, {"n": 2, "size": "1024x1024"})
    assert relay.user.used_quota == 2 * quota > 0


def test_the_channel_test_works_through_the_adaptor(relay, fake):
    channel = fake.channel("r8_eight", model_names=LLAMA)
    fake.plan("r8_eight", output=["pong"])
    result = channel_test(channel)
    assert result.success, result.message
    assert fake.created[0]["body"]["input"]["max_tokens"] == 64 and len(fake.gets) == 2
