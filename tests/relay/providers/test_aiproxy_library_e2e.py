"""AIProxy Library end to end: the openai SDK → the gateway → a fake library checking the ask body."""

from __future__ import annotations

import openai
import pytest

from logs_app.models import Log
from relay.services import channel_test
from tests.fakes.aiproxy_library import FakeLibrary
from tests.fakes.native import fixture
from tests.fakes.server import ServerThread

QUESTION = [{"role": "user", "content": "支持哪些渠道？"}]


@pytest.fixture(scope="module")
def library_server():
    fake = FakeLibrary()
    server = ServerThread(fake).start()
    yield fake, server
    server.stop()


@pytest.fixture
def library(library_server):
    fake, server = library_server
    fake.reset()
    fake.key, fake.library_id, fake.url = "ak-library", "lib-42", server.url
    yield fake
    assert fake.problems == []


@pytest.fixture
def channel(relay, library):
    return relay.channel(
        "ak-library",
        type=21,
        base_url=library.url,
        model_names="gpt-3.5-turbo",
        config='{"library_id": "lib-42"}',
    )


def test_an_answer_with_references_is_billed_by_counting(relay, library, channel):
    answer = relay.client().chat.completions.create(model="gpt-3.5-turbo", messages=QUESTION)
    content = answer.choices[0].message.content
    assert (
        content.startswith("One API 支持")
        and "2. [部署指南](https://docs.aiproxy.io/library/deploy)" in content
    )
    relay.refresh()
    log = Log.objects.get()
    assert log.prompt_tokens > 0 and log.completion_tokens > 0 and log.quota == relay.user.used_quota > 0


def test_a_stream_request_gets_the_answer_as_one_chunk(relay, library, channel):
    chunks = list(
        relay.client().chat.completions.create(model="gpt-3.5-turbo", messages=QUESTION, stream=True)
    )
    contents = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(contents) == 1 and contents[0].startswith("One API 支持")
    assert chunks[-1].choices[0].finish_reason == "stop"


def test_a_library_error_is_an_error_not_an_empty_answer(relay, library, channel):
    library.fail_next(200, fixture("aiproxy_library", "error_library.json"))
    with pytest.raises(openai.InternalServerError) as caught:
        relay.client().chat.completions.create(model="gpt-3.5-turbo", messages=QUESTION)
    assert "知识库不存在" in caught.value.message


def test_the_channel_test_passes(relay, library, channel):
    result = channel_test(channel, "gpt-3.5-turbo")
    assert result.success, result.message
