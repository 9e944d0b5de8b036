"""Offline token counting with tiktoken (spec 3.6).

tiktoken downloads its BPE files on first use; gateways often have no internet, so we ship both encodings in
``relay/encodings/`` and build the ``tiktoken.Encoding`` objects ourselves. An operator may point
``TIKTOKEN_CACHE_DIR`` (or ``DATA_GYM_CACHE_DIR``) at their own copies. Every file is sha256-verified.

Loading an encoding is slow (about a second), so it happens lazily, once per process; counting is fast.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import tiktoken
from django.conf import settings

ImageSizer = Callable[[str], tuple[int, int] | None]

ENCODINGS_DIR = Path(__file__).resolve().parent / "encodings"


@dataclass(frozen=True)
class _Spec:
    sha256: str
    cache_key: str  # tiktoken's cache file name: sha1 of the blob URL the file is downloaded from
    pat_str: str
    special_tokens: dict[str, int]


# Patterns, special tokens and hashes copied from tiktoken 0.14 tiktoken_ext/openai_public.py, which exposes
# them only inside functions that would download the files.
_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_SPECS: dict[str, _Spec] = {
    "cl100k_base": _Spec(
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        cache_key="9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
        pat_str=r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",  # noqa: E501
        special_tokens={
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
    "o200k_base": _Spec(
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        cache_key="fb374d419588a4632f3f557e76b4b70aebbca790",
        pat_str=_O200K_PAT,
        special_tokens={"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
}

# https://platform.openai.com/docs/models — families tokenized with o200k_base (tiktoken/model.py agrees).
_O200K_PREFIXES = ("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")


class EncodingFileError(RuntimeError):
    """An encoding file exists but is not the file tiktoken expects (truncated, edited, wrong encoding)."""


def encoding_path(name: str) -> Path:
    """The file to load for ``name``: the operator's cache dir first (either file name), else our copy."""
    spec = _SPECS[name]
    cache_dir = getattr(settings, "TIKTOKEN_CACHE_DIR", "")
    if cache_dir:
        for candidate in (Path(cache_dir) / f"{name}.tiktoken", Path(cache_dir) / spec.cache_key):
            if candidate.is_file():
                return candidate
    return ENCODINGS_DIR / f"{name}.tiktoken"


def _read_ranks(path: Path, expected_sha256: str) -> dict[bytes, int]:
    # Same format and check as tiktoken.load.load_tiktoken_bpe, which we do not call: it also copies every
    # local file it reads into tiktoken's cache dir (and raises if that dir is read-only).
    data = path.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise EncodingFileError(
            f"tiktoken encoding file {path} is corrupted: sha256 {actual}, expected {expected_sha256}. "
            "Delete or replace it (check TIKTOKEN_CACHE_DIR)."
        )
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@cache
def get_encoding(name: str) -> tiktoken.Encoding:
    spec = _SPECS[name]
    return tiktoken.Encoding(
        name=name,
        pat_str=spec.pat_str,
        mergeable_ranks=_read_ranks(encoding_path(name), spec.sha256),
        special_tokens=spec.special_tokens,
    )


def encoding_for_model(model: str) -> tiktoken.Encoding:
    """o200k_base for the gpt-4o generation onwards; cl100k_base for everything else, a fair estimate."""
    if model.lower().startswith(_O200K_PREFIXES):
        return get_encoding("o200k_base")
    return get_encoding("cl100k_base")


def option_bool(key: str) -> bool:
    from config.options import option_bool as _option_bool  # lazy: keeps this module free of the ORM

    return _option_bool(key)


def count_text(text: str, model: str) -> int:
    if not text:
        return 0
    if option_bool("ApproximateTokenEnabled"):
        return int(len(text.encode()) * 0.38)
    # User text that looks like "<|endoftext|>" is ordinary text, never a special token (nor an error).
    return len(encoding_for_model(model).encode(text, disallowed_special=()))


def count_completion(text: str, model: str) -> int:
    """Completion tokens when the upstream reported no usage."""
    return count_text(text, model)


def count_prompt(prompt: str | list, model: str) -> int:
    """/v1/completions ``prompt``: a string or a list of strings, counted concatenated."""
    if isinstance(prompt, list):
        prompt = "".join(p for p in prompt if isinstance(p, str))
    return count_text(prompt, model)


def count_input(input: str | list, model: str) -> int:  # "input" shadows the builtin: it is the OpenAI field
    """Moderations/embeddings ``input``: a string, a list of strings, or token ids (counted as they are)."""
    if isinstance(input, str):
        return count_text(input, model)
    if input and all(isinstance(i, int) for i in input):
        return len(input)
    if input and all(isinstance(i, list) for i in input):  # a batch of token-id lists
        return sum(len(ids) for ids in input)
    return count_text("".join(i for i in input if isinstance(i, str)), model)


def count_messages(messages: list[dict], model: str, image_size: ImageSizer | None = None) -> int:
    """Prompt tokens of a chat request, the way OpenAI's cookbook and one-api count them (spec 3.6)."""
    per_message, per_name = (4, -1) if model == "gpt-3.5-turbo-0301" else (3, 1)
    sizer = image_size or image_size_from_data_url
    total = 0
    for message in messages:
        total += per_message
        for key, value in message.items():
            if isinstance(value, str):
                total += count_text(value, model)
                if key == "name":
                    total += per_name
            elif key == "content" and isinstance(value, list):
                total += _count_parts(value, model, sizer)
            elif key == "tool_calls" and isinstance(value, list):
                total += _count_tool_calls(value, model)
    return total + 3  # every reply is primed with <|start|>assistant<|message|>


def _count_parts(parts: list, model: str, sizer: ImageSizer) -> int:
    total = 0
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            total += count_text(part["text"], model)
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url, detail = (image.get("url"), image.get("detail")) if isinstance(image, dict) else (image, "")
            if isinstance(url, str):
                total += image_tokens(url, detail or "", model, sizer)
    return total


def _count_tool_calls(calls: list, model: str) -> int:
    total = 0
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            for field in ("name", "arguments"):
                if isinstance(function.get(field), str):
                    total += count_text(function[field], model)
    return total


# https://platform.openai.com/docs/guides/vision (image costs); gpt-4o-mini bills ~33x the tokens.
def image_tokens(url: str, detail: str, model: str, sizer: ImageSizer | None = None) -> int:
    """Tokens for one image part; 0 when its size cannot be known (spec: fetch error -> 0)."""
    mini = model.startswith("gpt-4o-mini")
    base, per_tile = (2833, 5667) if mini else (85, 170)
    detail = detail or "auto"
    if detail == "low":
        return base
    if detail not in ("high", "auto"):
        return 0
    size = (sizer or image_size_from_data_url)(url)
    if not size:
        return 0
    width, height = size
    if width > 2048 or height > 2048:
        ratio = 2048 / max(width, height)
        width, height = int(width * ratio), int(height * ratio)
    if width > 768 and height > 768:
        ratio = 768 / min(width, height)
        width, height = int(width * ratio), int(height * ratio)
    return per_tile * math.ceil(width / 512) * math.ceil(height / 512) + base


def image_size_from_data_url(url: str) -> tuple[int, int] | None:
    """(width, height) of a ``data:image/...;base64,`` URL; None for http(s) URLs (not fetched) or junk."""
    if not url.startswith("data:image/"):
        return None
    header, _, payload = url.partition(",")
    if not header.endswith(";base64"):
        return None
    try:
        data = base64.b64decode(payload)
    except (binascii.Error, ValueError):
        return None
    try:
        return _image_size(data)
    except struct.error:
        return None


def _image_size(data: bytes) -> tuple[int, int] | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return struct.unpack("<HH", data[6:10])
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_size(data)
    if data[:2] == b"\xff\xd8":
        return _jpeg_size(data)
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 ":  # lossy: 14-bit dimensions after the 3-byte frame tag and start code
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L":  # lossless: 14 bits each, minus one, after the 0x2f signature
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":  # extended: 24-bit canvas size minus one
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    # Walk the marker segments to the first SOFn frame header; C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
        pos += 2 + length
    return None
