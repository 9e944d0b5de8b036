"""The channel-type table: ids match the original, URL rules build the upstream URL the original builds."""

from __future__ import annotations

import json

import pytest

from relay import channel_models
from relay.channel_types import (
    CHANNEL_TYPES,
    RELAY_MODES,
    ChannelType,
    UnsupportedMode,
    channel_type_info,
    models_by_type,
    upstream_url,
)

CHAT = "/v1/chat/completions"


def url(type_id: int, path: str = CHAT, mode: str = "chat", base: str = "") -> str:
    return upstream_url(channel_type_info(type_id), base, path, mode)


def test_every_channel_type_has_a_row():
    assert set(CHANNEL_TYPES) == set(ChannelType)
    assert len(CHANNEL_TYPES) == 52
    for type_id, info in CHANNEL_TYPES.items():
        assert info.id == type_id
        assert type(info.id) is int
        assert info.name


@pytest.mark.parametrize(
    ("type_id", "number"),
    [
        (ChannelType.UNKNOWN, 0),
        (ChannelType.OPENAI, 1),
        (ChannelType.AZURE, 3),
        (ChannelType.ANTHROPIC, 14),
        (ChannelType.OPENROUTER, 20),
        (ChannelType.GEMINI, 24),
        (ChannelType.MINIMAX, 27),
        (ChannelType.AWS, 33),
        (ChannelType.DEEPSEEK, 36),
        (ChannelType.DOUBAO, 40),
        (ChannelType.NOVITA, 41),
        (ChannelType.BAIDU_V2, 47),
        (ChannelType.ALI_BAILIAN, 49),
        (ChannelType.OPENAI_COMPATIBLE, 50),
        (ChannelType.GEMINI_OPENAI, 51),
    ],
)
def test_ids_match_the_original(type_id, number):
    assert type_id == number


@pytest.mark.parametrize(
    ("type_id", "base_url"),
    [
        (1, "https://api.openai.com"),
        (3, ""),
        (8, ""),
        (18, ""),
        (20, "https://openrouter.ai/api"),
        (29, "https://api.groq.com/openai"),
        (30, "http://localhost:11434"),
        (33, ""),
        (41, "https://api.novita.ai/v3/openai"),
        (42, ""),
        (43, ""),
        (46, "https://api.replicate.com/v1/models/"),
        (50, ""),
        (51, "https://generativelanguage.googleapis.com/v1beta/openai/"),
    ],
)
def test_default_base_urls(type_id, base_url):
    assert channel_type_info(type_id).base_url == base_url


def test_adaptor_slugs():
    assert channel_type_info(ChannelType.AZURE).adaptor == "azure"
    assert channel_type_info(ChannelType.OLLAMA).adaptor == "ollama"
    assert channel_type_info(ChannelType.ANTHROPIC).adaptor == "anthropic"
    assert channel_type_info(ChannelType.AIPROXY_LIBRARY).adaptor == "aiproxy_library"
    openai_shaped = [1, 2, 4, 5, 6, 7, 8, 9, 10, 12, 13, 19, 20, 22, 25, 26, 27, 28, 29, 31, 32, 36, 39]
    openai_shaped += [40, 41, 44, 45, 47, 48, 49, 50, 51]
    for type_id in openai_shaped:
        assert channel_type_info(type_id).adaptor == "openai", type_id


def test_unknown_ids_fall_back_to_the_unknown_row():
    row = channel_type_info(999)
    assert row is CHANNEL_TYPES[ChannelType.UNKNOWN]
    assert (row.adaptor, row.base_url) == ("openai", "")


def test_openai_appends_the_original_path():
    assert url(1) == "https://api.openai.com/v1/chat/completions"
    assert url(1, "/v1/embeddings", "embeddings") == "https://api.openai.com/v1/embeddings"
    assert url(29) == "https://api.groq.com/openai/v1/chat/completions"
    assert url(20) == "https://openrouter.ai/api/v1/chat/completions"


def test_channel_base_url_overrides_default_and_loses_trailing_slash():
    assert url(1, base="https://proxy.example.com/") == "https://proxy.example.com/v1/chat/completions"
    assert url(36, base="https://my-deepseek.example") == "https://my-deepseek.example/v1/chat/completions"
    assert url(27, base="https://api.minimax.io/") == "https://api.minimax.io/v1/text/chatcompletion_v2"


def test_openai_compatible_strips_v1():
    base = "https://llm.example.com/api/v3/"
    assert url(50, base=base) == "https://llm.example.com/api/v3/chat/completions"
    assert url(50, "/v1/embeddings", "embeddings", base) == "https://llm.example.com/api/v3/embeddings"
    assert url(50, "/v1/models", "chat", base) == "https://llm.example.com/api/v3/models"


def test_gemini_openai_strips_v1_under_its_versioned_base():
    expected = "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions"
    assert url(51) == expected
    assert url(51, "/v1/embeddings", "embeddings").endswith("/v1beta/openai/embeddings")


def test_novita_serves_chat_only_under_its_versioned_base():
    assert url(41) == "https://api.novita.ai/v3/openai/chat/completions"
    with pytest.raises(UnsupportedMode):
        url(41, "/v1/embeddings", "embeddings")


@pytest.mark.parametrize(
    ("type_id", "mode", "expected"),
    [
        (27, "chat", "https://api.minimax.chat/v1/text/chatcompletion_v2"),
        (40, "chat", "https://ark.cn-beijing.volces.com/api/v3/chat/completions"),
        (40, "embeddings", "https://ark.cn-beijing.volces.com/api/v3/embeddings"),
        (47, "chat", "https://qianfan.baidubce.com/v2/chat/completions"),
        (49, "chat", "https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions"),
        (49, "embeddings", "https://dashscope.aliyuncs.com/compatible-mode/v1/embeddings"),
    ],
)
def test_fixed_url_types_ignore_the_request_path(type_id, mode, expected):
    assert url(type_id, "/v1/whatever", mode) == expected


@pytest.mark.parametrize(
    ("type_id", "mode"),
    [(27, "embeddings"), (27, "images"), (40, "completions"), (47, "embeddings"), (49, "audio_speech")],
)
def test_fixed_url_types_refuse_other_modes(type_id, mode):
    info = channel_type_info(type_id)
    with pytest.raises(UnsupportedMode) as caught:
        upstream_url(info, "", "/v1/x", mode)
    assert (caught.value.channel_name, caught.value.mode) == (info.name, mode)
    assert info.name in str(caught.value) and mode in str(caught.value)


def test_fixed_url_types_match_the_spec_list():
    fixed = {t for t, info in CHANNEL_TYPES.items() if info.url_rule == "fixed"}
    assert fixed == {27, 40, 41, 47, 49}


def test_cloudflare_gateway_drops_v1_for_openai_shaped_types():
    gateway = "https://gateway.ai.cloudflare.com/v1/acct/gw/openai"
    assert url(1, base=gateway) == gateway + "/chat/completions"
    assert url(1, "/v1/embeddings", "embeddings", gateway + "/") == gateway + "/embeddings"
    groq = "https://gateway.ai.cloudflare.com/v1/acct/gw/groq"
    assert url(29, base=groq) == groq + "/chat/completions"


def test_cloudflare_rule_needs_the_gateway_prefix():
    assert url(1, base="https://example.com/gateway.ai.cloudflare.com") == (
        "https://example.com/gateway.ai.cloudflare.com/v1/chat/completions"
    )


def test_strip_v1_removes_only_a_whole_segment():
    assert url(50, "/v1beta/models", "chat", "https://x.example") == "https://x.example/v1beta/models"


def test_unknown_mode_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown relay mode"):
        url(1, mode="chat_completions")


def test_openrouter_sends_attribution_headers():
    headers = dict(channel_type_info(ChannelType.OPENROUTER).extra_headers)
    assert headers == {"HTTP-Referer": "https://github.com/songquanpeng/one-api", "X-Title": "One API"}
    assert not channel_type_info(ChannelType.OPENAI).extra_headers


def test_rows_are_read_only():
    info = channel_type_info(ChannelType.OPENROUTER)
    with pytest.raises(TypeError):
        info.extra_headers["X-Title"] = "mine"  # type: ignore[index]
    with pytest.raises(AttributeError):
        info.base_url = "https://evil.example"  # type: ignore[misc]
    assert hash(info) == hash(channel_type_info(ChannelType.OPENROUTER))


def test_stream_usage_is_withheld_only_where_it_breaks():
    refusing = {t for t, info in CHANNEL_TYPES.items() if not info.supports_stream_usage}
    assert refusing == {ChannelType.MISTRAL, ChannelType.AZURE}


def test_balance_types_match_spec():
    with_balance = {t for t, info in CHANNEL_TYPES.items() if info.balance}
    assert with_balance == {1, 4, 5, 8, 10, 12, 13, 20, 25, 36, 44}


def test_fixed_paths_use_known_modes():
    for info in CHANNEL_TYPES.values():
        assert set(info.fixed_paths) <= set(RELAY_MODES)


def test_default_models_offer_current_models():
    openai = channel_type_info(ChannelType.OPENAI).models
    assert {"gpt-4.1", "gpt-4o", "o3", "o4-mini", "gpt-3.5-turbo"} <= set(openai)
    anthropic = channel_type_info(ChannelType.ANTHROPIC).models
    assert {"claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219", "claude-3-5-haiku-20241022"} <= set(
        anthropic
    )
    assert "gemini-2.5-pro" in channel_type_info(ChannelType.GEMINI).models
    assert channel_type_info(ChannelType.DEEPSEEK).models == ("deepseek-chat", "deepseek-reasoner")
    assert channel_type_info(ChannelType.API2D).models == channel_models.OPENAI


def test_model_lists_are_short_and_unique():
    for info in CHANNEL_TYPES.values():
        assert len(info.models) == len(set(info.models)), info.name
        assert len(info.models) <= 25, info.name
        assert all(name and name == name.strip() for name in info.models), info.name


def test_models_by_type_serves_api_models():
    by_type = models_by_type()
    assert set(by_type) == set(range(1, 52))
    assert by_type[ChannelType.DEEPSEEK] == ["deepseek-chat", "deepseek-reasoner"]
    assert all(type(k) is int for k in by_type)
    by_type[1].append("mutated")
    assert "mutated" not in models_by_type()[1]
    assert json.loads(json.dumps(by_type))["36"] == ["deepseek-chat", "deepseek-reasoner"]
