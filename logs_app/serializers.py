"""OpenAPI shapes of log rows (the views emit plain dicts from ``logs_app.selectors``)."""

from __future__ import annotations

from rest_framework import serializers


class LogSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="0 in a user's own view")
    user_id = serializers.IntegerField()
    created_at = serializers.IntegerField()
    type = serializers.IntegerField(help_text="0 unknown, 1 top-up, 2 consume, 3 manage, 4 system, 5 test")
    content = serializers.CharField()
    username = serializers.CharField()
    token_name = serializers.CharField()
    model_name = serializers.CharField()
    quota = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    channel = serializers.IntegerField(help_text="the channel's id")
    request_id = serializers.CharField()
    elapsed_time = serializers.IntegerField(help_text="milliseconds")
    is_stream = serializers.BooleanField()
    system_prompt_reset = serializers.BooleanField()


class LogStatSerializer(serializers.Serializer):
    quota = serializers.IntegerField()


class DashboardRowSerializer(serializers.Serializer):
    Day = serializers.CharField()
    ModelName = serializers.CharField()
    RequestCount = serializers.IntegerField()
    Quota = serializers.IntegerField()
    PromptTokens = serializers.IntegerField()
    CompletionTokens = serializers.IntegerField()
