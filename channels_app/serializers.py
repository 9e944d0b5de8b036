"""Request and response shapes of ``/api/channel/...``.

A channel never leaves the server with its ``key``, nor with the credential fields of ``config`` (AWS ``ak``/
``sk``, Vertex ``vertex_ai_adc``); root can read them through ``GET /api/channel/:id/key``. On update an empty
``key`` or a missing/empty credential field keeps the stored one, which is what the original's UI sends back.
"""

from __future__ import annotations

import json

from rest_framework import serializers

from channels_app.models import Channel, ChannelStatus
from config.serializers import StrictBooleanField, StrictCharField, StrictIntegerField

CONFIG_SECRETS = ("ak", "sk", "vertex_ai_adc")
MAX_KEYS_PER_REQUEST = 1000


def config_public(config: str) -> str:
    """``config`` without its credential fields."""
    try:
        parsed = json.loads(config) if config else {}
    except ValueError:
        return ""
    if not isinstance(parsed, dict):
        return ""
    return json.dumps({k: v for k, v in parsed.items() if k not in CONFIG_SECRETS}, ensure_ascii=False)


def config_merge(stored: str, incoming: str) -> str:
    """``incoming`` config, keeping stored credentials the client did not send (it never saw them)."""
    new = json.loads(incoming) if incoming else {}
    try:
        old = json.loads(stored) if stored else {}
    except ValueError:
        old = {}
    for name in CONFIG_SECRETS:
        if not new.get(name) and isinstance(old, dict) and old.get(name):
            new[name] = old[name]
    return json.dumps(new, ensure_ascii=False) if new else ""


class ChannelSerializer(serializers.ModelSerializer):
    models = serializers.CharField(source="model_names")
    config = serializers.SerializerMethodField()
    status = serializers.IntegerField(help_text="0 unknown, 1 enabled, 2 manually disabled, 3 auto-disabled")

    class Meta:
        model = Channel
        fields = [
            "id",
            "type",
            "status",
            "name",
            "weight",
            "created_time",
            "test_time",
            "response_time",
            "base_url",
            "other",
            "balance",
            "balance_updated_time",
            "models",
            "group",
            "used_quota",
            "model_mapping",
            "priority",
            "config",
            "system_prompt",
            "auto_test_enabled",
        ]

    def get_config(self, channel: Channel) -> str:
        return config_public(channel.config)


def _json_object(text: str, what: str, *, string_values: bool) -> None:
    if not text.strip():
        return
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise serializers.ValidationError(f"{what} must be JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise serializers.ValidationError(f"{what} must be a JSON object")
    if string_values and not all(isinstance(v, str) for v in parsed.values()):
        raise serializers.ValidationError(f"{what} must map model names to model names (strings)")


def _check_type(value: int) -> int:
    try:
        from relay.channel_types import CHANNEL_TYPES
    except ImportError:  # relay not installed: accept any id the column holds
        return value
    if value not in CHANNEL_TYPES:
        raise serializers.ValidationError(f"unknown channel type {value}")
    return value


class ChannelWriteSerializer(serializers.Serializer):
    """Fields a client may write. ``models``/``group`` are comma lists; ``model_mapping`` a JSON object."""

    type = StrictIntegerField(required=False, min_value=0, max_value=10_000)
    key = StrictCharField(required=False, max_length=1_000_000)
    status = StrictIntegerField(required=False)
    name = StrictCharField(required=False, max_length=128)
    weight = StrictIntegerField(required=False, allow_null=True, min_value=0, max_value=2**31 - 1)
    base_url = StrictCharField(required=False, allow_null=True, max_length=512)
    other = StrictCharField(required=False, allow_null=True, max_length=65535)
    models = StrictCharField(required=False, max_length=1_000_000)
    group = StrictCharField(required=False, max_length=32)
    model_mapping = StrictCharField(required=False, allow_null=True, max_length=1024)
    priority = StrictIntegerField(required=False, allow_null=True)
    config = StrictCharField(required=False, max_length=65535)
    system_prompt = StrictCharField(required=False, allow_null=True, max_length=1_000_000)
    auto_test_enabled = StrictBooleanField(required=False)

    def validate_type(self, value: int) -> int:
        return _check_type(value)

    def validate_status(self, value: int) -> int:
        if value not in ChannelStatus.values:
            raise serializers.ValidationError(
                "status must be 0, 1 (enabled), 2 (disabled) or 3 (auto-disabled)"
            )
        return value

    def validate_model_mapping(self, value: str) -> str:
        _json_object(value, "model_mapping", string_values=True)
        return value

    def validate_config(self, value: str) -> str:
        _json_object(value, "config", string_values=False)
        return value

    def validate_group(self, value: str) -> str:
        return ",".join(g.strip() for g in value.split(",") if g.strip())

    def validate_models(self, value: str) -> str:
        return ",".join(m.strip() for m in value.split(",") if m.strip())

    def validate(self, attrs: dict) -> dict:
        for nullable in ("weight", "priority"):
            if nullable in attrs and attrs[nullable] is None:
                attrs[nullable] = 0
        if "models" in attrs:
            attrs["model_names"] = attrs.pop("models")
        return attrs


class ChannelCreateSerializer(ChannelWriteSerializer):
    type = StrictIntegerField(min_value=0, max_value=10_000)
    key = StrictCharField(allow_blank=False, max_length=1_000_000)

    def validate_key(self, value: str) -> str:
        keys = [line.strip() for line in value.split("\n") if line.strip()]
        if not keys:
            raise serializers.ValidationError("at least one key is needed")
        if len(keys) > MAX_KEYS_PER_REQUEST:
            raise serializers.ValidationError(
                f"at most {MAX_KEYS_PER_REQUEST} keys (one channel each) at once"
            )
        return value


class ChannelUpdateSerializer(ChannelWriteSerializer):
    id = StrictIntegerField(min_value=1)


class ChannelKeySerializer(serializers.Serializer):
    key = serializers.CharField()
    config = serializers.CharField()


class ChannelTestResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    time = serializers.FloatField(help_text="seconds")
    modelName = serializers.CharField()


class ChannelBalanceResultSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()
    balance = serializers.FloatField()
