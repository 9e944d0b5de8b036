"""Serializer building blocks for the management API, and the options serializers.

The original binds JSON into Go structs, so a string where a number belongs is an error, not a conversion.
DRF's stock fields coerce (``"12"`` → 12, ``12`` → ``"12"``, ``"yes"`` → True); the strict fields below refuse
wrong types instead, so a script's mistake is reported rather than silently stored.
"""

from __future__ import annotations

import json
import math

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from config.options import BOOL_DEFAULTS, INT_DEFAULTS, JSON_OPTIONS, known_keys

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1


class StrictIntegerField(serializers.IntegerField):
    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("max_value", INT64_MAX)
        kwargs.setdefault("min_value", -INT64_MAX)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictCharField(serializers.CharField):
    """A string, never a number; ``null`` becomes ``""`` when ``allow_null`` (Go's ``*string`` fields)."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def validate_empty_values(self, data):
        if data is None and self.allow_null:
            return True, ""
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def keyword_id(keyword: str) -> int | None:
    """``keyword`` as a row id when it is one (ASCII digits that fit a 64-bit column), else None."""
    keyword = keyword.strip()
    if keyword.isascii() and keyword.isdigit() and len(keyword) <= 18:
        return int(keyword)
    return None


def id_or_prefix_search(queryset, keyword: str, *fields: str, limit: int = 100):
    """Rows whose id is ``keyword`` or whose ``fields`` start with it, newest first (the original's search)."""
    from django.db.models import Q

    keyword = keyword.strip()
    query = Q()
    for name in fields:
        query |= Q(**{f"{name}__startswith": keyword})
    if keyword_id(keyword) is not None:
        query |= Q(pk=keyword_id(keyword))
    return queryset.filter(query).order_by("-id")[:limit]


def query_int(params, name: str, default: int = 0) -> int:
    """An integer query parameter; junk means ``default`` (Go's Atoi) and values are kept within 64 bits."""
    try:
        value = int(params.get(name, default))
    except (TypeError, ValueError):
        return default
    return max(-INT64_MAX, min(value, INT64_MAX))


def envelope_of(name: str, data: serializers.Field | None = None) -> serializers.Serializer:
    """The OpenAPI shape of ``{success, message, data}`` around ``data``."""
    fields = {"success": serializers.BooleanField(), "message": serializers.CharField()}
    fields["data"] = data if data is not None else serializers.JSONField(allow_null=True, required=False)
    return inline_serializer(name=name, fields=fields)


def error_message(errors) -> str:
    """Flatten DRF's error tree into one line: ``field: problem; other: problem``."""
    parts: list[str] = []

    def walk(prefix: str, node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else ("" if key == "non_field_errors" else str(key)), value)
        elif isinstance(node, list):
            for item in node:
                walk(prefix, item)
        else:
            parts.append(f"{prefix}: {node}" if prefix else str(node))

    walk("", errors)
    return "; ".join(parts) or "invalid input"


# --- options -----------------------------------------------------------------------------------------------
class OptionSerializer(serializers.Serializer):
    key = serializers.CharField()
    value = serializers.CharField(allow_blank=True)


_INT_BOUNDS = {"SMTPPort": (1, 65535), "RetryTimes": (0, 10), "QuotaPerUnit": (1, INT64_MAX)}
THEMES = ("default", "berry", "air")


def _check_json_ratio(key: str, value: str) -> None:
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise serializers.ValidationError(f"{key} must be JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise serializers.ValidationError(f"{key} must be a JSON object of name → number")
    for name, ratio in parsed.items():
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not math.isfinite(ratio):
            raise serializers.ValidationError(f"{key}[{name!r}] must be a number")
        if ratio < 0:
            raise serializers.ValidationError(f"{key}[{name!r}] must not be negative")


def _check_int(key: str, value: str) -> None:
    low, high = _INT_BOUNDS.get(key, (0, INT64_MAX))
    try:
        number = int(value.strip())
    except ValueError:
        raise serializers.ValidationError(f"{key} must be a whole number") from None
    if not low <= number <= high:
        raise serializers.ValidationError(f"{key} must be between {low} and {high}")


class OptionUpdateSerializer(serializers.Serializer):
    """``PUT /api/option/ {key, value}``: the value is checked against what the key holds."""

    key = StrictCharField(allow_blank=False, max_length=64)
    value = StrictCharField(max_length=1_000_000)

    def validate_key(self, key: str) -> str:
        if key not in known_keys():
            raise serializers.ValidationError(f"unknown option {key!r}")
        return key

    def validate(self, attrs: dict) -> dict:
        key, value = attrs["key"], attrs["value"]
        if key in BOOL_DEFAULTS and value not in ("true", "false"):
            raise serializers.ValidationError(f"{key} must be 'true' or 'false'")
        if key in INT_DEFAULTS:
            _check_int(key, value)
        if key in JSON_OPTIONS:
            _check_json_ratio(key, value)
        if key == "Theme" and value not in THEMES:
            raise serializers.ValidationError("无效的主题")
        return attrs
