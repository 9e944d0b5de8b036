"""``/api/channel/...`` (admin), ``/api/models`` and ``/api/user/available_models`` (user).

Testing a channel and reading its balance need the relay's adaptors; those views import them when called and
answer ``success: false`` if the relay is not installed, so the rest of the API works without it.
"""

from __future__ import annotations

import logging

from django.http import JsonResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers

from accounts.permissions import AdminAuth, RootAuth
from channels_app import services
from channels_app.models import Ability, Channel
from channels_app.serializers import (
    ChannelBalanceResultSerializer,
    ChannelCreateSerializer,
    ChannelKeySerializer,
    ChannelSerializer,
    ChannelTestResultSerializer,
    ChannelUpdateSerializer,
    config_merge,
)
from config.api import PAGE_PARAMETERS, ApiError, ApiView, page_bounds
from config.serializers import envelope_of, id_or_prefix_search
from config.views import envelope

logger = logging.getLogger(__name__)

MSG_TEST_UNAVAILABLE = "channel testing is not available"
_ONE = envelope_of("ChannelResponse", ChannelSerializer())
_MANY = envelope_of("ChannelListResponse", ChannelSerializer(many=True))
# Non-pointer fields of the original's struct: a zero value there means "not sent" on update.
_ZERO_MEANS_UNCHANGED = ("type", "key", "status", "name", "model_names", "group", "config")


def _channel(pk: int) -> Channel:
    channel = Channel.objects.filter(pk=pk).first()
    if channel is None:
        raise ApiError("渠道不存在")
    return channel


class ChannelListApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=PAGE_PARAMETERS, responses=_MANY)
    def get(self, request):
        offset, limit = page_bounds(request)
        page = Channel.objects.order_by("-id")[offset : offset + limit]
        return envelope(ChannelSerializer(page, many=True).data)

    @extend_schema(
        request=ChannelCreateSerializer,
        responses=envelope_of(
            "ChannelCreateResponse", serializers.ListField(child=serializers.IntegerField())
        ),
    )
    def post(self, request):
        """Add channels: a multi-line ``key`` makes one channel per line. data = the new channels' ids."""
        data = self.validated(ChannelCreateSerializer)
        keys = [line.strip() for line in data.pop("key").split("\n") if line.strip()]
        created = services.channels_create(actor=request.user, keys=keys, **data)
        return envelope([channel.pk for channel in created])

    @extend_schema(request=ChannelUpdateSerializer, responses=_ONE)
    def put(self, request):
        """Update a channel; empty ``key``/``name``/``models``… and 0 ``type``/``status`` leave those unchanged."""
        data = self.validated(ChannelUpdateSerializer)
        channel = _channel(data.pop("id"))
        fields = {k: v for k, v in data.items() if v or k not in _ZERO_MEANS_UNCHANGED}
        if "config" in fields:
            fields["config"] = config_merge(channel.config, fields["config"])
        services.channel_update(actor=request.user, channel=channel, **fields)
        return envelope(ChannelSerializer(channel).data)


class ChannelSearchApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=[OpenApiParameter("keyword", str)], responses=_MANY)
    def get(self, request):
        """Channels whose id is ``keyword`` or whose name starts with it."""
        found = id_or_prefix_search(Channel.objects.all(), request.query_params.get("keyword", ""), "name")
        return envelope(ChannelSerializer(found, many=True).data)


class ChannelDetailApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(responses=_ONE)
    def get(self, request, id: int):
        return envelope(ChannelSerializer(_channel(id)).data)

    @extend_schema(responses=envelope_of("ChannelDeleteResponse"))
    def delete(self, request, id: int):
        services.channel_remove(actor=request.user, channel=_channel(id))
        return envelope()


class ChannelKeyApi(ApiView):
    """New in this edition (the original never shows a stored key): root reads a channel's key and config
    credentials on an explicit request, and the read is written to the audit log."""

    permission_classes = [RootAuth]

    @extend_schema(responses=envelope_of("ChannelKeyResponse", ChannelKeySerializer()))
    def get(self, request, id: int):
        key, config = services.channel_key_reveal(actor=request.user, channel=_channel(id))
        return envelope({"key": key, "config": config})


class ChannelDisabledApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(responses=envelope_of("ChannelDeleteDisabledResponse", serializers.IntegerField()))
    def delete(self, request):
        """Delete every disabled channel; data = how many."""
        return envelope(services.channels_delete_disabled(actor=request.user))


class ChannelModelsApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(
        responses=inline_serializer(
            "ChannelModelsResponse",
            {"object": serializers.CharField(), "data": serializers.ListField(child=serializers.DictField())},
        )
    )
    def get(self, request):
        """Every built-in model as OpenAI model objects; **not enveloped**: ``{object: "list", data: [...]}``."""
        return JsonResponse({"object": "list", "data": _builtin_model_objects()})


def _builtin_model_objects() -> list[dict]:
    try:
        from relay.channel_types import CHANNEL_TYPES
        from relay.selectors import model_object
    except ImportError:
        return []
    seen: dict[str, dict] = {}
    for info in CHANNEL_TYPES.values():
        for model in info.models:
            seen.setdefault(model, model_object(model, info.name))
    return list(seen.values())


class ModelsByTypeApi(ApiView):
    @extend_schema(
        responses=envelope_of(
            "ModelsByTypeResponse",
            serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
        )
    )
    def get(self, request):
        """Channel type id → its built-in model names (for the channel form)."""
        try:
            from relay.channel_types import models_by_type
        except ImportError:
            return envelope({})
        return envelope({str(type_id): models for type_id, models in models_by_type().items()})


class AvailableModelsApi(ApiView):
    @extend_schema(
        responses=envelope_of("AvailableModelsResponse", serializers.ListField(child=serializers.CharField()))
    )
    def get(self, request):
        """Models the caller's group can use now (enabled abilities), sorted."""
        models = (
            Ability.objects.filter(group=request.user.group, enabled=True)
            .values_list("model", flat=True)
            .distinct()
            .order_by("model")
        )
        return envelope(list(models))


# --- tests and balances (the relay's adaptors) --------------------------------------------------------------
class ChannelTestApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(
        parameters=[
            OpenApiParameter("model", str, description="model to test with (default: the channel's)")
        ],
        responses=ChannelTestResultSerializer,
    )
    def get(self, request, id: int):
        """Send one small chat request through the channel: ``{success, message, time, modelName}``."""
        channel = _channel(id)
        model = request.query_params.get("model", "")
        try:
            from relay.services import channel_test
        except ImportError:
            raise ApiError(MSG_TEST_UNAVAILABLE) from None
        try:
            result = channel_test(channel, model)
        except Exception:  # a bug in an adaptor must not turn the console's test button into a 500
            logger.exception("testing channel #%s failed", channel.pk)
            return JsonResponse(
                {"success": False, "message": "channel test failed", "time": 0, "modelName": model}
            )
        return JsonResponse(
            {
                "success": bool(result.success),
                "message": result.message,
                "time": round(result.time_s, 3) if result.success else 0.0,
                "modelName": result.model,
            },
            json_dumps_params={"ensure_ascii": False},
        )


class ChannelTestAllApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(
        parameters=[OpenApiParameter("scope", str, enum=["all", "disabled"])],
        responses=envelope_of("ChannelTestAllResponse"),
    )
    def get(self, request):
        """Start testing every channel (or only disabled ones) in the background."""
        scope = request.query_params.get("scope") or "all"
        if scope not in ("all", "disabled"):
            raise ApiError("scope must be 'all' or 'disabled'")
        try:
            from relay.tasks import channel_test_all as channel_test_all_task
        except ImportError:
            raise ApiError(MSG_TEST_UNAVAILABLE) from None
        channel_test_all_task.delay(scope=scope)
        return envelope()


class ChannelBalanceApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(responses=ChannelBalanceResultSerializer)
    def get(self, request, id: int):
        """Ask the provider for the channel's remaining balance: ``{success, message, balance}``."""
        channel = _channel(id)
        try:
            from channels_app.balance import channel_balance_update
        except ImportError:
            raise ApiError(MSG_TEST_UNAVAILABLE) from None
        try:
            balance = channel_balance_update(channel)
        except Exception as exc:  # provider errors are the message the admin needs to see
            payload = {"success": False, "message": str(exc), "balance": 0}
            return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
        return JsonResponse({"success": True, "message": "", "balance": balance})


class ChannelBalanceAllApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(responses=envelope_of("ChannelBalanceAllResponse"))
    def get(self, request):
        """A no-op that answers success, as in the original (balances are refreshed one by one)."""
        return envelope()
