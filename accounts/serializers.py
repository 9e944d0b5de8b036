"""Request and response shapes of the user and API-key routes, with the original's JSON names and limits."""

from __future__ import annotations

import ipaddress

from rest_framework import serializers

from accounts.models import Role, Token, TokenStatus, User
from config.serializers import StrictBooleanField, StrictCharField, StrictIntegerField

USERNAME_MAX = 12
DISPLAY_NAME_MAX = 20
EMAIL_MAX = 50
GROUP_MAX = 32
TOKEN_NAME_MAX = 30


def _password(required: bool = True) -> StrictCharField:
    return StrictCharField(required=required, allow_blank=not required, max_length=20)


def _check_password(value: str) -> str:
    if value and not 8 <= len(value) <= 20:
        raise serializers.ValidationError("password must be 8 to 20 characters")
    return value


# --- users --------------------------------------------------------------------------------------------------
class UserSerializer(serializers.ModelSerializer):
    """A user as the original shows it, minus ``password`` and ``access_token`` (never returned)."""

    aff_code = serializers.SerializerMethodField()
    role = serializers.IntegerField(help_text="0 guest, 1 common, 10 admin, 100 root")
    status = serializers.IntegerField(help_text="1 enabled, 2 disabled, 3 deleted")

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "display_name",
            "role",
            "status",
            "email",
            "github_id",
            "wechat_id",
            "lark_id",
            "oidc_id",
            "quota",
            "used_quota",
            "request_count",
            "group",
            "aff_code",
            "inviter_id",
        ]

    def get_aff_code(self, user: User) -> str:
        return user.aff_code or ""


class LoginResultSerializer(serializers.ModelSerializer):
    role = serializers.IntegerField()
    status = serializers.IntegerField()

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "role", "status"]


class LoginSerializer(serializers.Serializer):
    username = StrictCharField(max_length=64)
    password = StrictCharField(max_length=128)


class RegisterSerializer(serializers.Serializer):
    username = StrictCharField(allow_blank=False, max_length=USERNAME_MAX)
    password = _password()
    email = StrictCharField(required=False, default="", max_length=EMAIL_MAX)
    verification_code = StrictCharField(required=False, default="", max_length=64)
    aff_code = StrictCharField(required=False, default="", max_length=32)

    def validate_password(self, value: str) -> str:
        return _check_password(value)


class SelfUpdateSerializer(serializers.Serializer):
    username = StrictCharField(required=False, max_length=USERNAME_MAX)
    display_name = StrictCharField(required=False, max_length=DISPLAY_NAME_MAX)
    password = _password(required=False)

    def validate_password(self, value: str) -> str:
        return _check_password(value)


class UserCreateSerializer(serializers.Serializer):
    username = StrictCharField(allow_blank=False, max_length=USERNAME_MAX)
    password = _password()
    display_name = StrictCharField(required=False, default="", max_length=DISPLAY_NAME_MAX)
    role = StrictIntegerField(required=False, default=Role.COMMON)

    def validate_password(self, value: str) -> str:
        return _check_password(value)


class UserUpdateSerializer(serializers.Serializer):
    """Zero values ("" or 0) mean "leave as is", as in the original."""

    id = StrictIntegerField(min_value=1)
    username = StrictCharField(required=False, max_length=USERNAME_MAX)
    display_name = StrictCharField(required=False, max_length=DISPLAY_NAME_MAX)
    password = _password(required=False)
    email = StrictCharField(required=False, max_length=EMAIL_MAX)
    group = StrictCharField(required=False, max_length=GROUP_MAX)
    quota = StrictIntegerField(required=False, min_value=0)
    role = StrictIntegerField(required=False)

    def validate_password(self, value: str) -> str:
        return _check_password(value)

    def validate_role(self, value: int) -> int:
        if value and value not in (Role.COMMON, Role.ADMIN, Role.ROOT):
            raise serializers.ValidationError("role must be 1 (common), 10 (admin) or 100 (root)")
        return value


class ManageSerializer(serializers.Serializer):
    username = StrictCharField(max_length=64)
    action = serializers.ChoiceField(choices=["disable", "enable", "delete", "promote", "demote"])


class ManageResultSerializer(serializers.Serializer):
    role = serializers.IntegerField()
    status = serializers.IntegerField()


# --- API keys -----------------------------------------------------------------------------------------------
class TokenSerializer(serializers.ModelSerializer):
    """An API key; ``models`` is the allowlist (our ``allowed_models``), ``key`` has no ``sk-`` prefix."""

    models = serializers.CharField(source="allowed_models", allow_null=True)
    status = serializers.IntegerField(help_text="1 enabled, 2 disabled, 3 expired, 4 exhausted")

    class Meta:
        model = Token
        fields = [
            "id",
            "user_id",
            "key",
            "status",
            "name",
            "created_time",
            "accessed_time",
            "expired_time",
            "remain_quota",
            "unlimited_quota",
            "used_quota",
            "models",
            "subnet",
        ]


def subnets_check(text: str) -> str:
    """Comma-separated CIDRs (or single addresses); the original's message on the first bad one."""
    for part in (p.strip() for p in text.split(",")):
        try:
            ipaddress.ip_network(part, strict=False)
        except ValueError:
            raise serializers.ValidationError(f"参数错误：无效的网段：{part!r} is not a CIDR") from None
    return text


class TokenWriteSerializer(serializers.Serializer):
    name = StrictCharField(required=False, max_length=255)
    expired_time = StrictIntegerField(required=False, min_value=-1)
    remain_quota = StrictIntegerField(required=False)
    unlimited_quota = StrictBooleanField(required=False)
    models = StrictCharField(required=False, allow_null=True, max_length=65535)
    subnet = StrictCharField(required=False, allow_null=True, max_length=1024)

    def validate(self, attrs: dict) -> dict:
        if len(attrs.get("name", "")) > TOKEN_NAME_MAX:
            raise serializers.ValidationError("参数错误：令牌名称过长")
        if attrs.get("subnet", "").strip():
            subnets_check(attrs["subnet"])
        if attrs.get("remain_quota", 0) < 0 and not attrs.get("unlimited_quota", False):
            raise serializers.ValidationError("remain_quota must not be negative (unless unlimited_quota)")
        if "models" in attrs:
            attrs["allowed_models"] = attrs.pop("models")
        return attrs


class TokenCreateSerializer(TokenWriteSerializer):
    name = StrictCharField(required=False, default="", max_length=255)
    expired_time = StrictIntegerField(required=False, default=-1, min_value=-1)
    remain_quota = StrictIntegerField(required=False, default=0)
    unlimited_quota = StrictBooleanField(required=False, default=False)


class TokenUpdateSerializer(TokenWriteSerializer):
    id = StrictIntegerField(min_value=1)
    status = StrictIntegerField(required=False)

    def validate_status(self, value: int) -> int:
        if value not in (TokenStatus.ENABLED, TokenStatus.DISABLED):
            raise serializers.ValidationError("status must be 1 (enabled) or 2 (disabled)")
        return value
