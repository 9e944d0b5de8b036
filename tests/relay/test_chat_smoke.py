from __future__ import annotations

from logs_app.models import Log


def test_non_stream_chat_bills_upstream_usage(relay):
    relay.channel("upstream-key-1")
    relay.upstream.plan(
        "upstream-key-1",
        content="one two three",
        usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13},
    )
    answer = relay.client().chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content == "one two three"
    relay.refresh()
    # gpt-3.5-turbo: ratio 0.25, completion ratio 3 → ceil((10 + 3*3) * 0.25) = 5
    assert relay.user.quota == 10_000_000 - 5
    assert relay.token.remain_quota == 5_000_000 - 5
    log = Log.objects.get()
    assert (log.quota, log.prompt_tokens, log.completion_tokens, log.model_name) == (
        5,
        10,
        3,
        "gpt-3.5-turbo",
    )


def test_stream_chat_arrives_in_chunks(relay):
    relay.channel("upstream-key-2")
    relay.upstream.plan("upstream-key-2", content="a b c d e")
    stream = relay.client().chat.completions.create(
        model="gpt-3.5-turbo", messages=[{"role": "user", "content": "hi"}], stream=True
    )
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "a b c d e "
    relay.refresh()
    assert relay.user.used_quota > 0
