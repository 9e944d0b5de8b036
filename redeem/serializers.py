"""Request and response shapes of ``/api/redemption/``, ``/api/user/topup`` and ``/api/topup``."""

from __future__ import annotations

from rest_framework import serializers

from config.serializers import StrictCharField, StrictIntegerField
from redeem.models import Redemption, RedemptionStatus

MAX_BATCH = 100


class RedemptionSerializer(serializers.ModelSerializer):
    status = serializers.IntegerField(help_text="1 enabled, 2 disabled, 3 used")

    class Meta:
        model = Redemption
        fields = [
            "id",
            "user_id",
            "key",
            "status",
            "name",
            "quota",
            "created_time",
            "redeemed_time",
            "used_user_id",
        ]


def _check_name(name: str) -> None:
    if not 1 <= len(name) <= 20:
        raise serializers.ValidationError("兑换码名称长度必须在1-20之间")


class RedemptionCreateSerializer(serializers.Serializer):
    name = StrictCharField()
    quota = StrictIntegerField(min_value=0)
    count = StrictIntegerField(required=False, default=0)

    def validate(self, attrs: dict) -> dict:
        _check_name(attrs["name"])
        if attrs["count"] <= 0:
            raise serializers.ValidationError("兑换码个数必须大于0")
        if attrs["count"] > MAX_BATCH:
            raise serializers.ValidationError(f"一次兑换码批量生成的个数不能大于 {MAX_BATCH}")
        return attrs


class RedemptionUpdateSerializer(serializers.Serializer):
    id = StrictIntegerField(min_value=1)
    name = StrictCharField(required=False)
    quota = StrictIntegerField(min_value=0, required=False)
    status = StrictIntegerField(required=False)

    def validate_status(self, status: int) -> int:
        if status not in RedemptionStatus.values:
            raise serializers.ValidationError("status must be 1 (enabled), 2 (disabled) or 3 (used)")
        return status

    def validate_name(self, name: str) -> str:
        _check_name(name)
        return name


class RedeemSerializer(serializers.Serializer):
    key = StrictCharField(max_length=64)


class TopupSerializer(serializers.Serializer):
    user_id = StrictIntegerField(min_value=1)
    quota = StrictIntegerField(min_value=0)
    remark = StrictCharField(required=False, default="", max_length=1000)
