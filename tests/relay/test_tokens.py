"""Offline token counting: counts match OpenAI's, encodings load from shipped, hash-verified files."""

from __future__ import annotations

import base64
import shutil
import socket
import struct
import zlib
from pathlib import Path

import pytest

from relay import tokens
from relay.tokens import (
    EncodingFileError,
    count_completion,
    count_input,
    count_messages,
    count_prompt,
    count_text,
    encoding_for_model,
    image_size_from_data_url,
)

# Token counting reads the ApproximateTokenEnabled option (cached; loaded from the database once).
pytestmark = pytest.mark.django_db

SHIPPED = Path(tokens.__file__).parent / "encodings"
CL100K_CACHE_KEY = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"


@pytest.fixture
def fresh_encodings():
    """Forget loaded encodings so the test sees a cold start; later tests reload them."""
    tokens.get_encoding.cache_clear()
    yield
    tokens.get_encoding.cache_clear()


def png_data_url(width: int, height: int) -> str:
    """A real (1-bit grayscale, all black) PNG of the given size, as a data URL."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = (b"\x00" + bytes((width + 7) // 8)) * height
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def data_url(kind: str, data: bytes) -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


def image_message(url: str, detail: str | None = None, text: str | None = None) -> list[dict]:
    image: dict = {"url": url} if detail is None else {"url": url, "detail": detail}
    parts: list[dict] = [{"type": "text", "text": text}] if text else []
    return [{"role": "user", "content": [*parts, {"type": "image_url", "image_url": image}]}]


# --- text ---------------------------------------------------------------------------------------------------
# Expected numbers computed once with tiktoken's own get_encoding() on the same files.
@pytest.mark.parametrize(
    ("text", "cl100k", "o200k"),
    [
        ("hello world", 2, 2),
        ("你好，世界！今天天气很好。", 16, 9),
        ("😀🎉👍🏽 emoji test", 13, 8),
        ("The quick brown fox jumps over the lazy dog.\n\n  x=1+2; y = [1,2,3]", 26, 26),
        ("", 0, 0),
    ],
)
def test_it_counts_text_like_openai_on_both_encodings(text, cl100k, o200k):
    assert count_text(text, "gpt-4") == cl100k
    assert count_text(text, "gpt-4o") == o200k
    assert count_completion(text, "gpt-3.5-turbo") == cl100k


def test_special_tokens_in_user_text_are_plain_text():
    # As a special token "<|endoftext|>" would be 1 token (and tiktoken raises by default); as text it is 6.
    assert count_text("<|endoftext|> hi", "gpt-4") == 8
    assert count_text("<|endoftext|> hi", "o3-mini") == 8


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o",
        "gpt-4o-mini-2024-07-18",
        "chatgpt-4o-latest",
        "gpt-4.1-nano",
        "gpt-4.5-preview",
        "gpt-5",
        "o1-mini",
        "o3",
        "o4-mini",
    ],
)
def test_new_openai_families_use_o200k(model):
    assert encoding_for_model(model).name == "o200k_base"


@pytest.mark.parametrize(
    "model",
    ["gpt-3.5-turbo", "gpt-4", "gpt-4-turbo", "text-embedding-3-small", "claude-3-5-sonnet", "qwen-max", ""],
)
def test_older_unknown_and_other_vendors_models_use_cl100k(model):
    assert encoding_for_model(model).name == "cl100k_base"
    assert count_text("你好，世界！今天天气很好。", model) == 16


def test_approximate_counting_when_the_option_is_on(db):
    from config.options import option_set

    assert count_text("hello world", "gpt-4o") == 2
    option_set("ApproximateTokenEnabled", "true")
    # 18 UTF-8 bytes x 0.38 = 6.84 -> 6; "hello world": 11 x 0.38 = 4.18 -> 4 (exact count would be 2).
    assert count_text("你好，世界！", "gpt-4") == 6
    assert count_text("hello world", "gpt-4o") == 4
    assert count_messages([{"role": "user", "content": "hello world"}], "gpt-4") == 3 + 1 + 4 + 3


def test_prompt_and_input_forms():
    assert count_prompt("hello world", "gpt-3.5-turbo-instruct") == 2
    assert count_prompt(["hello", " world"], "gpt-3.5-turbo-instruct") == 2  # concatenated, not 1 + 1 + ...
    assert count_input("hello world", "text-embedding-3-small") == 2
    assert count_input(["hello", " world"], "text-moderation-latest") == 2
    assert count_input([15339, 1917, 0], "text-embedding-3-small") == 3  # token ids are counted as given
    assert count_input([[15339, 1917], [0]], "text-embedding-3-small") == 3
    assert count_input([], "text-embedding-3-small") == 0


# --- chat messages ------------------------------------------------------------------------------------------
def test_plain_chat_messages():
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "hello world"},
    ]
    # (3 + system 1 + 6) + (3 + user 1 + 2) + 3 priming
    assert count_messages(messages, "gpt-3.5-turbo") == 19
    assert count_messages(messages, "gpt-4o") == 19
    # gpt-3.5-turbo-0301 spends 4 tokens per message
    assert count_messages(messages, "gpt-3.5-turbo-0301") == 21


def test_a_name_costs_its_tokens_plus_one_or_minus_one_on_0301():
    messages = [{"role": "user", "name": "alice", "content": "hello world"}]
    assert count_messages(messages, "gpt-4") == 3 + 1 + 2 + (1 + 1) + 3
    assert count_messages(messages, "gpt-3.5-turbo-0301") == 4 + 1 + 2 + (1 - 1) + 3


def test_it_matches_the_openai_cookbook_example():
    # https://cookbook.openai.com/examples/how_to_count_tokens_with_tiktoken (section 6): the numbers there
    # were confirmed against the API's prompt_tokens.
    jargon = [
        (
            "system",
            None,
            "You are a helpful, pattern-following assistant that translates corporate jargon "
            "into plain English.",
        ),
        ("system", "example_user", "New synergies will help drive top-line growth."),
        ("system", "example_assistant", "Things working well together will increase revenue."),
        (
            "system",
            "example_user",
            "Let's circle back when we have more bandwidth to touch base on "
            "opportunities for increased leverage.",
        ),
        ("system", "example_assistant", "Let's talk later when we're less busy about how to do better."),
        (
            "user",
            None,
            "This late pivot means we don't have time to boil the ocean for the client deliverable.",
        ),
    ]
    messages = [{"role": r, "content": c, **({"name": n} if n else {})} for r, n, c in jargon]
    assert count_messages(messages, "gpt-3.5-turbo-0301") == 127
    assert count_messages(messages, "gpt-3.5-turbo-0613") == 129
    assert count_messages(messages, "gpt-4") == 129
    assert count_messages(messages, "gpt-4o") == 124
    assert count_messages(messages, "gpt-4o-mini") == 124


def test_tool_calls_and_tool_results_are_counted():
    messages = [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ]
    # (3 + assistant 1 + get_weather 2 + arguments 6) + (3 + tool 1 + call_1 3 + sunny 2) + 3
    assert count_messages(messages, "gpt-4o") == 12 + 9 + 3


# --- images -------------------------------------------------------------------------------------------------
def test_text_plus_low_detail_image():
    messages = image_message("https://example.com/cat.png", "low", text="What is in this image?")
    # 3 + user 1 + text 6 + low image 85 + 3; the URL is never fetched for low detail
    assert count_messages(messages, "gpt-4o") == 98
    assert count_messages(messages, "gpt-4o-mini") == 3 + 1 + 6 + 2833 + 3


@pytest.mark.parametrize(
    ("width", "height", "detail", "image_tokens"),
    [
        (1024, 1024, "high", 765),  # both > 768: 768x768 -> 2x2 tiles -> 170*4 + 85
        (4096, 2048, "high", 1105),  # fit 2048x1024, short side to 768: 1536x768 -> 3x2 tiles
        (4096, 2048, "auto", 1105),  # "auto" is high
        (4096, 2048, None, 1105),  # no detail is high
        (500, 300, "high", 255),  # small: 1x1 tile
        (300, 1000, "", 425),  # only one side > 768: no shrink, 1x2 tiles
    ],
)
def test_high_detail_data_url_png_uses_the_tile_rule(width, height, detail, image_tokens):
    messages = image_message(png_data_url(width, height), detail)
    assert count_messages(messages, "gpt-4o") == 3 + 1 + image_tokens + 3


def test_gpt_4o_mini_high_detail_costs_more():
    messages = image_message(png_data_url(1024, 1024), "high")
    assert count_messages(messages, "gpt-4o-mini-2024-07-18") == 3 + 1 + (5667 * 4 + 2833) + 3


def test_image_url_as_a_plain_string_and_a_custom_size_resolver():
    messages = [
        {"role": "user", "content": [{"type": "image_url", "image_url": "https://example.com/a.png"}]}
    ]
    seen: list[str] = []

    def sizer(url: str) -> tuple[int, int]:
        seen.append(url)
        return (2048, 4096)

    # 2048x4096 -> fit 1024x2048 -> short side 768: 768x1536 -> 2x3 tiles
    assert count_messages(messages, "gpt-4-turbo", image_size=sizer) == 3 + 1 + 1105 + 3
    assert seen == ["https://example.com/a.png"]


@pytest.mark.parametrize(
    "url",
    ["https://example.com/cat.png", "data:image/png;base64,!!!!", "data:image/png;base64,aGVsbG8=", "junk"],
)
def test_an_image_whose_size_is_unknown_counts_zero(url):
    assert count_messages(image_message(url, "high"), "gpt-4o") == 3 + 1 + 3


def test_an_invalid_detail_counts_zero():
    assert count_messages(image_message(png_data_url(100, 100), "ultra"), "gpt-4o") == 3 + 1 + 3


def test_image_sizes_from_gif_jpeg_and_webp_headers():
    # Headers checked with file(1) where it reads the dimensions (GIF, JPEG, lossy WebP).
    gif = b"GIF89a" + struct.pack("<HH", 300, 200) + b"\x00\x00\x00;"
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dht = b"\xff\xc4" + struct.pack(">H", 4) + b"\x00\x00"  # C4 is not a frame header: must be skipped
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, 200, 300, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    jpeg = b"\xff\xd8" + app0 + dht + sof0 + b"\xff\xd9"

    def webp(chunk: bytes, payload: bytes) -> bytes:
        body = b"WEBP" + chunk + struct.pack("<I", len(payload)) + payload
        return b"RIFF" + struct.pack("<I", len(body)) + body

    lossy = webp(b"VP8 ", b"\x00\x00\x00\x9d\x01\x2a" + struct.pack("<HH", 300, 200))
    lossless = webp(b"VP8L", b"\x2f" + struct.pack("<I", (300 - 1) | (200 - 1) << 14))
    extended = webp(b"VP8X", b"\x00" * 4 + (300 - 1).to_bytes(3, "little") + (200 - 1).to_bytes(3, "little"))

    assert image_size_from_data_url(data_url("gif", gif)) == (300, 200)
    assert image_size_from_data_url(data_url("jpeg", jpeg)) == (300, 200)
    for data in (lossy, lossless, extended):
        assert image_size_from_data_url(data_url("webp", data)) == (300, 200)
    assert image_size_from_data_url(data_url("jpeg", b"\xff\xd8\xff")) is None  # truncated


# --- loading the encodings ----------------------------------------------------------------------------------
def test_the_shipped_files_load_without_any_network(fresh_encodings, monkeypatch, settings, tmp_path):
    def no_network(*args, **kwargs):
        raise AssertionError("token counting tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    # An empty cache dir is what makes plain tiktoken download: we must fall back to our copies instead.
    settings.TIKTOKEN_CACHE_DIR = str(tmp_path)
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))

    assert count_text("你好，世界！今天天气很好。", "gpt-4") == 16
    assert count_text("你好，世界！今天天气很好。", "gpt-4o") == 9
    assert list(tmp_path.iterdir()) == []  # and nothing was written into the operator's cache dir


@pytest.mark.parametrize("file_name", ["cl100k_base.tiktoken", CL100K_CACHE_KEY])
def test_a_valid_copy_in_the_cache_dir_is_used(fresh_encodings, monkeypatch, settings, tmp_path, file_name):
    shutil.copy(SHIPPED / "cl100k_base.tiktoken", tmp_path / file_name)
    settings.TIKTOKEN_CACHE_DIR = str(tmp_path)
    monkeypatch.setattr(tokens, "ENCODINGS_DIR", tmp_path / "missing")  # prove the shipped copy is not read

    assert tokens.encoding_path("cl100k_base") == tmp_path / file_name
    assert count_text("hello world", "gpt-4") == 2


@pytest.mark.parametrize("file_name", ["cl100k_base.tiktoken", CL100K_CACHE_KEY])
def test_a_corrupted_file_in_the_cache_dir_is_a_clear_error(fresh_encodings, settings, tmp_path, file_name):
    corrupted = tmp_path / file_name
    corrupted.write_bytes((SHIPPED / "cl100k_base.tiktoken").read_bytes()[:-100])
    settings.TIKTOKEN_CACHE_DIR = str(tmp_path)

    with pytest.raises(EncodingFileError, match="corrupted") as excinfo:
        count_text("hello world", "gpt-4")
    assert str(corrupted) in str(excinfo.value)


def test_without_a_cache_dir_the_shipped_copy_is_used(settings):
    settings.TIKTOKEN_CACHE_DIR = ""
    assert tokens.encoding_path("o200k_base") == SHIPPED / "o200k_base.tiktoken"
