"""billing.ratios: default tables (spec §5 rows) and the pure look-up rules."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from billing import ratios
from billing.ratios import (
    DEFAULT_COMPLETION_RATIO,
    DEFAULT_GROUP_RATIO,
    DEFAULT_MODEL_RATIO,
    completion_ratio_lookup,
    default_ratio_json,
    group_ratio_lookup,
    image_size_ratio,
    is_valid_image_size,
    model_ratio_lookup,
)

ROOT = Path(__file__).resolve().parents[2]

OPENAI = 1
ANTHROPIC = 14
ALI = 17
GROQ = 29
AWS = 33
COHERE = 35

# (model, channel type, model ratio, completion ratio) — every row of the spec §5 table
SPEC_ROWS = [
    ("gpt-3.5-turbo", OPENAI, 0.25, 3),
    ("gpt-3.5-turbo-0125", OPENAI, 0.25, 3),
    ("gpt-3.5-turbo-1106", OPENAI, 0.5, 2),
    ("gpt-3.5-turbo-16k", OPENAI, 1.5, 4 / 3),
    ("gpt-3.5-turbo-instruct", OPENAI, 0.75, 4 / 3),
    ("gpt-4", OPENAI, 15, 2),
    ("gpt-4-0613", OPENAI, 15, 2),
    ("gpt-4-32k", OPENAI, 30, 2),
    ("gpt-4-turbo", OPENAI, 5, 3),
    ("gpt-4-1106-preview", OPENAI, 5, 3),
    ("gpt-4-0125-preview", OPENAI, 5, 3),
    ("gpt-4-turbo-preview", OPENAI, 5, 3),
    ("gpt-4-vision-preview", OPENAI, 5, 3),
    ("gpt-4o", OPENAI, 2.5, 4),
    ("gpt-4o-2024-05-13", OPENAI, 2.5, 3),
    ("gpt-4o-2024-08-06", OPENAI, 1.25, 4),
    ("gpt-4o-2024-11-20", OPENAI, 1.25, 4),
    ("gpt-4o-mini", OPENAI, 0.075, 4),
    ("chatgpt-4o-latest", OPENAI, 2.5, 3),
    ("o1", OPENAI, 7.5, 4),
    ("o1-preview", OPENAI, 7.5, 4),
    ("o1-mini", OPENAI, 1.5, 4),
    ("o3-mini", OPENAI, 1.5, 4),  # spec says 1 (no o3 rule) — fixed on purpose
    ("text-embedding-ada-002", OPENAI, 0.05, 1),
    ("text-embedding-3-small", OPENAI, 0.01, 1),
    ("text-embedding-3-large", OPENAI, 0.065, 1),
    ("text-moderation-latest", OPENAI, 0.1, 1),
    ("whisper-1", OPENAI, 15, 0),
    ("claude-instant-1.2", ANTHROPIC, 0.4, 3),
    ("claude-2.0", ANTHROPIC, 4, 3),
    ("claude-2.1", ANTHROPIC, 4, 3),
    ("claude-3-haiku-20240307", ANTHROPIC, 0.125, 5),
    ("claude-3-5-haiku-20241022", ANTHROPIC, 0.5, 5),
    ("claude-3-sonnet-20240229", ANTHROPIC, 1.5, 5),
    ("claude-3-5-sonnet-20240620", ANTHROPIC, 1.5, 5),
    ("claude-3-5-sonnet-20241022", ANTHROPIC, 1.5, 5),
    ("claude-3-opus-20240229", ANTHROPIC, 7.5, 5),
    ("gemini-pro", 24, 0.125, 3),
    ("gemini-1.0-pro", 24, 0.0625, 3),
    ("gemini-1.5-pro", 24, 0.625, 3),
    ("gemini-1.5-flash", 24, 0.0375, 3),
    ("gemini-2.0-flash", 24, 0.075, 3),
    ("gemini-2.0-flash-exp", 24, 0.0375, 3),
    ("gemini-2.0-pro-exp-02-05", 24, 0.625, 3),
    ("deepseek-chat", 36, 0.07, 2),
    ("deepseek-reasoner", 36, 0.275, 2.19 / 0.55),
    ("ERNIE-4.0-8K", 15, 8.52, 1),
    ("glm-4", 16, 7.1, 1),
    ("qwen-turbo", ALI, 0.0213, 1),
    ("qwen-max", ALI, 0.1704, 1),
    ("moonshot-v1-8k", 25, 0.852, 1),
    ("llama3-8b-8192", AWS, 0.15, 2),
    ("llama3-70b-8192", AWS, 1.325, 0.0035 / 0.00265),
]


@pytest.mark.parametrize(("model", "channel_type", "ratio", "completion"), SPEC_ROWS)
def test_spec_rows(model, channel_type, ratio, completion):
    assert model_ratio_lookup(model, channel_type, {}) == pytest.approx(ratio, rel=1e-9)
    assert completion_ratio_lookup(model, channel_type, {}) == pytest.approx(completion, rel=1e-6)


def test_spec_rows_are_stored_exactly():
    assert DEFAULT_MODEL_RATIO["ERNIE-4.0-8K"] == 8.52
    assert DEFAULT_MODEL_RATIO["glm-4"] == 7.1
    assert DEFAULT_MODEL_RATIO["qwen-turbo"] == 0.0213
    assert DEFAULT_MODEL_RATIO["qwen-max"] == 0.1704
    assert DEFAULT_MODEL_RATIO["moonshot-v1-8k"] == 0.852
    assert DEFAULT_MODEL_RATIO["llama3-8b-8192(33)"] == 0.15
    assert DEFAULT_MODEL_RATIO["llama3-70b-8192(33)"] == 1.325
    assert DEFAULT_MODEL_RATIO["dall-e-2"] == 10
    assert DEFAULT_MODEL_RATIO["dall-e-3"] == 20
    assert DEFAULT_MODEL_RATIO["tts-1"] == 7.5
    assert DEFAULT_MODEL_RATIO["tts-1-hd"] == 15
    assert DEFAULT_MODEL_RATIO["deepseek-chat"] == 0.07
    assert DEFAULT_MODEL_RATIO["deepseek-reasoner"] == 0.275
    assert DEFAULT_COMPLETION_RATIO["deepseek-reasoner"] == pytest.approx(3.98, abs=0.005)
    assert DEFAULT_COMPLETION_RATIO["whisper-1"] == 0


def test_constants():
    assert ratios.QUOTA_PER_UNIT_DEFAULT == 500_000
    assert ratios.USD == 500
    assert ratios.RMB == 71
    assert isinstance(ratios.RMB, int)


def test_current_models_are_priced_from_list_prices():
    # ratio = USD per 1M input tokens / 2
    assert model_ratio_lookup("gpt-4.1", OPENAI, {}) == 1.0
    assert model_ratio_lookup("gpt-4.1-mini", OPENAI, {}) == 0.2
    assert model_ratio_lookup("gpt-4.1-nano", OPENAI, {}) == 0.05
    assert model_ratio_lookup("o3", OPENAI, {}) == 1.0
    assert model_ratio_lookup("o4-mini", OPENAI, {}) == 0.55
    assert model_ratio_lookup("gpt-5", OPENAI, {}) == 0.625
    assert model_ratio_lookup("claude-sonnet-4-20250514", ANTHROPIC, {}) == 1.5
    assert model_ratio_lookup("claude-opus-4-1-20250805", ANTHROPIC, {}) == 7.5
    assert model_ratio_lookup("gemini-2.5-pro", 24, {}) == 0.625
    assert model_ratio_lookup("gemini-2.5-flash", 24, {}) == 0.15
    assert model_ratio_lookup("grok-3", 45, {}) == 1.5
    assert model_ratio_lookup("llama-3.1-8b-instant", GROQ, {}) == 0.025
    assert model_ratio_lookup("glm-4-plus", 16, {}) == pytest.approx(0.355)
    assert completion_ratio_lookup("claude-opus-4-1-20250805", ANTHROPIC, {}) == 5
    assert completion_ratio_lookup("gemini-2.5-pro", 24, {}) == 8
    assert completion_ratio_lookup("gpt-5-mini", OPENAI, {}) == 8


def test_every_default_is_a_non_negative_number():
    for table in (DEFAULT_MODEL_RATIO, DEFAULT_COMPLETION_RATIO, DEFAULT_GROUP_RATIO):
        for name, value in table.items():
            assert isinstance(value, int | float) and not isinstance(value, bool), name
            assert value >= 0, name


# ---- model ratio look-up order ---------------------------------------------------------------


def test_typed_default_key_beats_plain_default():
    assert model_ratio_lookup("llama3-8b-8192", AWS, {}) == 0.15
    assert model_ratio_lookup("llama3-8b-8192", GROQ, {}) == DEFAULT_MODEL_RATIO["llama3-8b-8192"]
    assert DEFAULT_MODEL_RATIO["llama3-8b-8192"] != 0.15


def test_override_typed_key_comes_first():
    overrides = {"gpt-4(3)": 9.0, "gpt-4": 7.0}
    assert model_ratio_lookup("gpt-4", 3, overrides) == 9.0
    assert model_ratio_lookup("gpt-4", OPENAI, overrides) == 7.0


def test_default_typed_key_beats_plain_override():
    assert model_ratio_lookup("llama3-8b-8192", AWS, {"llama3-8b-8192": 42.0}) == 0.15
    assert model_ratio_lookup("llama3-8b-8192", AWS, {"llama3-8b-8192(33)": 42.0}) == 42.0


def test_plain_override_beats_plain_default():
    assert model_ratio_lookup("gpt-4", OPENAI, {"gpt-4": 1.0}) == 1.0
    assert model_ratio_lookup("gpt-4", OPENAI, {"gpt-4": 0}) == 0.0  # 0 is a real price (free)


def test_unknown_model_costs_30():
    assert model_ratio_lookup("no-such-model", OPENAI, {}) == 30.0
    assert model_ratio_lookup("no-such-model", OPENAI, None) == 30.0
    assert model_ratio_lookup("no-such-model", OPENAI, {"other": 1}) == 30.0


def test_override_can_price_an_unknown_model():
    assert model_ratio_lookup("my-model", 8, {"my-model": 0.5}) == 0.5
    assert model_ratio_lookup("my-model", 8, {"my-model(8)": 0.7, "my-model": 0.5}) == 0.7


@pytest.mark.parametrize(
    ("model", "channel_type", "billed_as"),
    [
        ("qwen-turbo-internet", ALI, "qwen-turbo"),
        ("qwen-max-internet", ALI, "qwen-max"),
        ("command-r-internet", COHERE, "command-r"),
        ("command-r-plus-internet", COHERE, "command-r-plus"),
    ],
)
def test_internet_suffix_is_stripped(model, channel_type, billed_as):
    assert model_ratio_lookup(model, channel_type, {}) == DEFAULT_MODEL_RATIO[billed_as]
    assert completion_ratio_lookup(model, channel_type, {}) == completion_ratio_lookup(
        billed_as, channel_type, {}
    )


def test_internet_suffix_kept_for_other_models():
    assert model_ratio_lookup("gpt-4-internet", OPENAI, {}) == 30.0
    assert model_ratio_lookup("gpt-4-internet", OPENAI, {"gpt-4-internet": 2}) == 2.0


def test_internet_strip_applies_before_override_lookup():
    assert model_ratio_lookup("qwen-plus-internet", ALI, {"qwen-plus": 3.0}) == 3.0


# ---- completion ratio ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("gpt-3.5-turbo-0613", 4 / 3),
        ("gpt-3.5-turbo-0125", 3),
        ("gpt-3.5-turbo-1106", 2),
        ("gpt-4o-mini-2024-07-18", 4),
        ("gpt-4o-2024-05-13", 3),
        ("gpt-4-turbo-2024-04-09", 3),
        ("gpt-4-32k-0613", 2),
        ("gpt-4.1", 4),
        ("gpt-4.1-2099-01-01", 4),  # rule, not only the explicit entries
        ("o1-2024-12-17", 4),
        ("o3", 4),
        ("o3-mini", 4),
        ("o3-mini-2099-01-01", 4),
        ("o4-mini", 4),
        ("chatgpt-4o-latest", 3),
        ("claude-3-haiku-20240307", 5),
        ("claude-2.1", 3),
        ("mistral-large-latest", 3),
        ("mistral-medium-latest", 5),
        ("gemini-1.5-pro-001", 3),
        ("deepseek-coder", 2),
        ("llama2-70b-4096", 1.25),
        ("llama3-8b-8192", 2),
        ("llama3-70b-8192", 0.79 / 0.59),
        ("command", 2),
        ("command-light-nightly", 2),
        ("command-r", 3),
        ("command-r-plus", 5),
        ("grok-beta", 3),
        ("mistralai/mixtral-8x7b-instruct-v0.1", 1 / 0.3),
        ("meta/meta-llama-3-70b-instruct", 2.75 / 0.65),
        ("ERNIE-3.5-8K", 1),
        ("something-else", 1),
    ],
)
def test_completion_rules(model, expected):
    assert completion_ratio_lookup(model, OPENAI, {}) == pytest.approx(expected, rel=1e-6)


def test_completion_explicit_order():
    assert completion_ratio_lookup("gpt-4", OPENAI, {"gpt-4": 7}) == 7.0
    assert completion_ratio_lookup("gpt-4", 3, {"gpt-4(3)": 9, "gpt-4": 7}) == 9.0
    # a typed default beats a plain override, as for the model ratio
    assert completion_ratio_lookup("llama3-8b-8192", AWS, {"llama3-8b-8192": 11}) == 2.0
    # an explicit 0 is honoured (whisper bills only input)
    assert completion_ratio_lookup("whisper-1", OPENAI, {}) == 0.0
    assert completion_ratio_lookup("gpt-4o", OPENAI, {"gpt-4o": 0}) == 0.0
    assert completion_ratio_lookup("gpt-4o", OPENAI, None) == 4.0


# ---- group ratio -----------------------------------------------------------------------------


def test_group_ratio():
    assert DEFAULT_GROUP_RATIO == {"default": 1, "vip": 1, "svip": 1}
    assert group_ratio_lookup("default", {}) == 1.0
    assert group_ratio_lookup("vip", {"vip": 0.5}) == 0.5
    assert group_ratio_lookup("vip", {"default": 2}) == 1.0
    assert group_ratio_lookup("nobody", {"default": 2}) == 1.0
    assert group_ratio_lookup("nobody", None) == 1.0
    assert group_ratio_lookup("free", {"free": 0}) == 0.0


# ---- option defaults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "table"),
    [
        ("ModelRatio", DEFAULT_MODEL_RATIO),
        ("CompletionRatio", DEFAULT_COMPLETION_RATIO),
        ("GroupRatio", DEFAULT_GROUP_RATIO),
    ],
)
def test_default_ratio_json_round_trips(key, table):
    text = default_ratio_json(key)
    assert json.loads(text) == table
    assert " " not in text.replace("stable diffusion", "")  # compact separators
    assert list(json.loads(text)) == sorted(table)


def test_default_ratio_json_writes_integral_values_without_fraction():
    assert default_ratio_json("GroupRatio") == '{"default":1,"svip":1,"vip":1}'
    parsed = json.loads(default_ratio_json("ModelRatio"))
    assert parsed["gpt-4"] == 15 and isinstance(parsed["gpt-4"], int)
    assert '"gpt-4o":2.5' in default_ratio_json("ModelRatio")


def test_default_ratio_json_unknown_key():
    with pytest.raises(KeyError):
        default_ratio_json("TopUpRatio")


def test_default_overrides_reproduce_defaults():
    # the option text fed back as overrides changes nothing
    model_overrides = json.loads(default_ratio_json("ModelRatio"))
    completion_overrides = json.loads(default_ratio_json("CompletionRatio"))
    for model in ("gpt-4o", "claude-3-opus-20240229", "llama3-70b-8192", "qwen-max"):
        for channel_type in (OPENAI, AWS):
            assert model_ratio_lookup(model, channel_type, model_overrides) == model_ratio_lookup(
                model, channel_type, {}
            )
            assert completion_ratio_lookup(
                model, channel_type, completion_overrides
            ) == completion_ratio_lookup(model, channel_type, {})


# ---- images ----------------------------------------------------------------------------------


def test_image_tables():
    assert ratios.IMAGE_SIZE_RATIOS["dall-e-2"] == {"256x256": 1, "512x512": 1.125, "1024x1024": 1.25}
    assert ratios.IMAGE_SIZE_RATIOS["dall-e-3"] == {"1024x1024": 1, "1024x1792": 2, "1792x1024": 2}
    assert ratios.IMAGE_N_RANGE["dall-e-2"] == (1, 10)
    assert ratios.IMAGE_N_RANGE["dall-e-3"] == (1, 1)
    assert ratios.IMAGE_PROMPT_MAX_LENGTH["dall-e-2"] == 1000
    assert ratios.IMAGE_PROMPT_MAX_LENGTH["dall-e-3"] == 4000
    assert ratios.IMAGE_PROMPT_MAX_LENGTH["cogview-3"] == 833


def test_image_size_validation_and_ratio():
    assert is_valid_image_size("dall-e-2", "512x512")
    assert not is_valid_image_size("dall-e-3", "512x512")
    assert is_valid_image_size("cogview-3", "999x999")
    assert is_valid_image_size("unknown-image-model", "1x1")
    assert image_size_ratio("dall-e-2", "512x512") == 1.125
    assert image_size_ratio("dall-e-3", "1024x1024", "hd") == 2
    assert image_size_ratio("dall-e-3", "1792x1024", "hd") == 3
    assert image_size_ratio("dall-e-2", "1024x1024", "hd") == 1.25
    assert image_size_ratio("cogview-3", "1024x1024") == 1


def test_module_does_not_import_django():
    code = "import sys, billing.ratios; sys.exit('django' in sys.modules)"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=60)
    assert done.returncode == 0
