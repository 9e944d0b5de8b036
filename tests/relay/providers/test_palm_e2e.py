"""The official openai SDK → the gateway → a fake PaLM generateMessage endpoint on loopback."""

from __future__ import annotations

import openai
import pytest

from logs_app.models import Log
from relay import tokens
from relay.services import channel_test
from tests.fakes.palm import FakePalm
from tests.fakes.server import ServerThread

MODEL = "PaLM-2"


@pytest.fixture(scope="module")
def palm_server():
    fake = FakePalm()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def palm(relay, palm_server):
    fake, server = palm_server
    fake.reset()
    fake.channel = lambda key, **fields: relay.channel(
        key, type=11, base_url=server.url, model_names=MODEL, **fields
    )
    yield fake
    fake.reset()


def test_a_chat_with_two_candidates_billed_by_local_counts(relay, palm):
    palm.channel("AIza-p1")
    palm.answers["AIza-p1"] = "I am PaLM."
    answer = relay.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who?"}],
        n=2,
    )
    assert [c.message.content for c in answer.choices] == ["I am PaLM.", "I am PaLM. (1)"]
    body = palm.last().body
    assert body["prompt"]["context"] == "Be brief." and body["candidateCount"] == 2
    relay.refresh()
    log = Log.objects.get(type=2)
    assert log.completion_tokens == tokens.count_completion("I am PaLM.I am PaLM. (1)", MODEL)


def test_a_stream_request_gets_the_answer_as_one_chunk(relay, palm):
    palm.channel("AIza-p2")
    palm.answers["AIza-p2"] = "Streamed at once."
    stream = relay.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    chunks = [c for c in stream if c.choices]
    assert [c.choices[0].delta.content for c in chunks] == ["Streamed at once.", None]
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_filtered_answer(relay, palm):
    palm.channel("AIza-p3")
    palm.filtered.add("AIza-p3")
    answer = relay.client().chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert answer.choices[0].finish_reason == "content_filter" and answer.choices[0].message.content == ""


def test_stop_is_refused(relay, palm):
    palm.channel("AIza-p4")
    palm.answers["AIza-p4"] = "x"
    with pytest.raises(openai.BadRequestError) as raised:
        relay.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], stop="END"
        )
    assert "PaLM does not support stop" in raised.value.message and palm.received == []


def test_the_channel_test_works_through_the_adaptor(relay, palm):
    palm.answers["AIza-p5"] = "PaLM-2"
    assert channel_test(palm.channel("AIza-p5")).success
    result = channel_test(palm.channel("AIza-bad"))
    assert not result.success and "API key not valid" in result.message and result.error.disable_channel
