"""``/api/redemption/...`` (admin), ``POST /api/user/topup`` (redeem a code) and ``POST /api/topup`` (admin)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from accounts.permissions import AdminAuth
from config.api import PAGE_PARAMETERS, ApiError, ApiView, page_bounds
from config.ratelimit import CriticalThrottle, GlobalApiThrottle
from config.serializers import envelope_of, id_or_prefix_search
from config.views import envelope
from redeem import services
from redeem.models import Redemption
from redeem.serializers import (
    RedeemSerializer,
    RedemptionCreateSerializer,
    RedemptionSerializer,
    RedemptionUpdateSerializer,
    TopupSerializer,
)

_ONE = envelope_of("RedemptionResponse", RedemptionSerializer())
_MANY = envelope_of("RedemptionListResponse", RedemptionSerializer(many=True))


def _redemption(pk: int) -> Redemption:
    redemption = Redemption.objects.filter(pk=pk).first()
    if redemption is None:
        raise ApiError("兑换码不存在")
    return redemption


class RedemptionListApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=PAGE_PARAMETERS, responses=_MANY)
    def get(self, request):
        offset, limit = page_bounds(request)
        page = Redemption.objects.order_by("-id")[offset : offset + limit]
        return envelope(RedemptionSerializer(page, many=True).data)

    @extend_schema(
        request=RedemptionCreateSerializer,
        responses=envelope_of("RedemptionKeysResponse", serializers.ListField(child=serializers.CharField())),
    )
    def post(self, request):
        """Create ``count`` (1–100) codes; data = their keys."""
        data = self.validated(RedemptionCreateSerializer)
        keys = services.redemption_create_batch(actor=request.user, **data)
        return envelope(keys)

    @extend_schema(
        request=RedemptionUpdateSerializer,
        parameters=[OpenApiParameter("status_only", str, description="non-empty: change only the status")],
        responses=_ONE,
    )
    def put(self, request):
        data = self.validated(RedemptionUpdateSerializer)
        redemption = _redemption(data.pop("id"))
        if request.query_params.get("status_only"):
            if "status" not in data:
                raise ApiError("status: This field is required.")
            data = {"status": data["status"]}
        else:
            data.pop("status", None)  # as the original: a full update keeps the status
        services.redemption_update(actor=request.user, redemption=redemption, **data)
        return envelope(RedemptionSerializer(redemption).data)


class RedemptionSearchApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=[OpenApiParameter("keyword", str)], responses=_MANY)
    def get(self, request):
        """Codes whose id is ``keyword`` or whose name starts with it."""
        found = id_or_prefix_search(Redemption.objects.all(), request.query_params.get("keyword", ""), "name")
        return envelope(RedemptionSerializer(found, many=True).data)


class RedemptionDetailApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(responses=_ONE)
    def get(self, request, id: int):
        return envelope(RedemptionSerializer(_redemption(id)).data)

    @extend_schema(responses=envelope_of("RedemptionDeleteResponse"))
    def delete(self, request, id: int):
        services.redemption_delete(actor=request.user, redemption=_redemption(id))
        return envelope()


class UserTopupApi(ApiView):
    throttle_classes = [GlobalApiThrottle, CriticalThrottle]

    @extend_schema(
        request=RedeemSerializer, responses=envelope_of("RedeemResponse", serializers.IntegerField())
    )
    def post(self, request):
        """Redeem a code for the caller; data = the quota added."""
        key = self.validated(RedeemSerializer)["key"]
        try:
            quota = services.redemption_redeem(user=request.user, key=key, request_id=_request_id(request))
        except services.RedeemError as exc:
            raise ApiError(str(exc)) from None
        return envelope(quota)


class AdminTopupApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(request=TopupSerializer, responses=envelope_of("TopupResponse"))
    def post(self, request):
        """Add quota to a user (for payment systems, with an admin's access token); writes a top-up log."""
        data = self.validated(TopupSerializer)
        try:
            services.quota_topup(actor=request.user, request_id=_request_id(request), **data)
        except services.RedeemError as exc:
            raise ApiError(str(exc)) from None
        return envelope()


def _request_id(request) -> str:
    return getattr(request._request, "request_id", "")
