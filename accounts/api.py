"""``/api/user/...`` and ``/api/token/...``: sign-up, sign-in, the caller's own account and keys, and the
admin's user management, with the original's role rules and messages."""

from __future__ import annotations

from django.contrib.auth import login, logout, update_session_auth_hash
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from accounts import selectors, services
from accounts.models import Role, Token, User
from accounts.permissions import AdminAuth
from accounts.serializers import (
    LoginResultSerializer,
    LoginSerializer,
    ManageResultSerializer,
    ManageSerializer,
    RegisterSerializer,
    SelfUpdateSerializer,
    TokenCreateSerializer,
    TokenSerializer,
    TokenUpdateSerializer,
    UserCreateSerializer,
    UserSerializer,
    UserUpdateSerializer,
)
from config.api import PAGE_PARAMETERS, ApiError, ApiView, PublicApiView, page_bounds
from config.options import option_bool
from config.ratelimit import CriticalThrottle, GlobalApiThrottle
from config.serializers import envelope_of
from config.views import envelope

MSG_LOGIN_FAILED = "用户名或密码错误，或用户已被封禁"
_BACKEND = "django.contrib.auth.backends.ModelBackend"
_USER = envelope_of("UserResponse", UserSerializer())
_USERS = envelope_of("UserListResponse", UserSerializer(many=True))
_TOKEN = envelope_of("TokenResponse", TokenSerializer())
_TOKENS = envelope_of("TokenListResponse", TokenSerializer(many=True))
_EMPTY = envelope_of("EmptyResponse")
_STRING = envelope_of("StringResponse", serializers.CharField())
_KEYWORD = [OpenApiParameter("keyword", str)]


def _user(pk: int) -> User:
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise ApiError("用户不存在")
    return user


def _refuse(exc: Exception) -> ApiError:
    return ApiError(str(exc))


# --- sign-up, sign-in ---------------------------------------------------------------------------------------
class RegisterApi(PublicApiView):
    throttle_classes = [GlobalApiThrottle, CriticalThrottle]

    @extend_schema(request=RegisterSerializer, responses=_EMPTY)
    def post(self, request):
        """Self-service sign-up (RegisterEnabled and PasswordRegisterEnabled); ``aff_code`` is the inviter's."""
        if not option_bool("RegisterEnabled"):
            raise ApiError("管理员关闭了新用户注册")
        if not option_bool("PasswordRegisterEnabled"):
            raise ApiError("管理员关闭了通过密码进行注册，请使用第三方账户验证的形式进行注册")
        _turnstile_check(request)
        data = self.validated(RegisterSerializer)
        email = _verified_email(data) if option_bool("EmailVerificationEnabled") else ""
        if selectors.username_taken(data["username"]):
            raise ApiError(f"username {data['username']!r} is already taken")
        services.user_register(
            username=data["username"], password=data["password"], email=email, aff_code=data["aff_code"]
        )
        return envelope()


def _turnstile_check(request) -> None:
    """The original's TurnstileCheck middleware: ``?turnstile=`` verified once per session when switched on."""
    if not option_bool("TurnstileCheckEnabled"):
        return
    from accounts.verification import turnstile_required, turnstile_verify

    if not turnstile_required(request._request):
        return
    token = request.query_params.get("turnstile", "")
    if not token:
        raise ApiError("Turnstile token 为空")
    if not turnstile_verify(request._request, token):
        raise ApiError("Turnstile 校验失败，请刷新重试！")


def _verified_email(data: dict) -> str:
    if not data["email"] or not data["verification_code"]:
        raise ApiError("管理员开启了邮箱验证，请输入邮箱地址和验证码")
    try:
        from accounts.verification import PURPOSE_VERIFY, code_check
    except ImportError:
        raise ApiError("e-mail verification is enabled but not available on this server") from None
    if not code_check(email=data["email"], code=data["verification_code"], purpose=PURPOSE_VERIFY):
        raise ApiError("验证码错误或已过期")
    return data["email"]


class LoginApi(PublicApiView):
    throttle_classes = [GlobalApiThrottle, CriticalThrottle]

    @extend_schema(request=LoginSerializer, responses=envelope_of("LoginResponse", LoginResultSerializer()))
    def post(self, request):
        """Password sign-in by username or e-mail; starts the session cookie."""
        if not option_bool("PasswordLoginEnabled"):
            raise ApiError("管理员关闭了密码登录")
        data = self.validated(LoginSerializer)
        if not data["username"] or not data["password"]:
            raise ApiError("用户名或密码为空")
        user = selectors.user_by_login(data["username"])
        if user is None:
            User().set_password(
                data["password"]
            )  # spend the hashing time anyway: no user enumeration by timing
            raise ApiError(MSG_LOGIN_FAILED)
        if not user.check_password(data["password"]) or not user.is_active:
            raise ApiError(MSG_LOGIN_FAILED)
        login(request._request, user, backend=_BACKEND)
        return envelope(LoginResultSerializer(user).data)


class LogoutApi(PublicApiView):
    @extend_schema(responses=_EMPTY)
    def get(self, request):
        logout(request._request)
        return envelope()


# --- the caller's own account -------------------------------------------------------------------------------
class SelfApi(ApiView):
    @extend_schema(responses=_USER)
    def get(self, request):
        return envelope(UserSerializer(request.user).data)

    @extend_schema(request=SelfUpdateSerializer, responses=_EMPTY)
    def put(self, request):
        """Change the caller's username, display name and/or password (empty = unchanged)."""
        data = self.validated(SelfUpdateSerializer)
        try:
            services.user_self_update(user=request.user, **data)
        except services.UserActionError as exc:
            raise _refuse(exc) from None
        if data.get("password") and request.auth is None:
            update_session_auth_hash(request._request, request.user)  # keep this session signed in
        return envelope()

    @extend_schema(responses=_EMPTY)
    def delete(self, request):
        if request.user.role == Role.ROOT:
            raise ApiError("不能删除超级管理员账户")
        services.user_soft_delete(user=request.user)
        logout(request._request)
        return envelope()


class AccessTokenApi(ApiView):
    @extend_schema(responses=_STRING)
    def get(self, request):
        """A new access token for the management API; the previous one stops working."""
        return envelope(services.access_token_rotate(user=request.user))


class AffCodeApi(ApiView):
    @extend_schema(responses=_STRING)
    def get(self, request):
        """The caller's invitation code (made on first request)."""
        return envelope(services.user_aff_code_ensure(user=request.user))


# --- user management (admin) --------------------------------------------------------------------------------
class UserListApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("order", str, enum=["quota", "used_quota", "request_count"]),
        ],
        responses=_USERS,
    )
    def get(self, request):
        offset, limit = page_bounds(request)
        page = selectors.user_page(offset=offset, limit=limit, order=request.query_params.get("order", ""))
        return envelope(UserSerializer(page, many=True).data)

    @extend_schema(request=UserCreateSerializer, responses=_EMPTY)
    def post(self, request):
        """Create a common user (whatever role is asked for, as the original)."""
        data = self.validated(UserCreateSerializer)
        if data.pop("role") >= request.user.role:
            raise ApiError("无法创建权限大于等于自己的用户")
        try:
            services.user_admin_create(actor=request.user, **data)
        except services.UserActionError as exc:
            raise _refuse(exc) from None
        return envelope()

    @extend_schema(request=UserUpdateSerializer, responses=_EMPTY)
    def put(self, request):
        """Update a lower-role user; zero values ("" or 0) leave a field unchanged."""
        data = self.validated(UserUpdateSerializer)
        user = _user(data.pop("id"))
        try:
            services.user_admin_update(actor=request.user, user=user, **data)
        except services.UserActionError as exc:
            raise _refuse(exc) from None
        return envelope()


class UserSearchApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(parameters=_KEYWORD, responses=_USERS)
    def get(self, request):
        found = selectors.user_search(request.query_params.get("keyword", ""))
        return envelope(UserSerializer(found, many=True).data)


class UserDetailApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(responses=_USER)
    def get(self, request, id: int):
        user = _user(id)
        if not services.can_manage(request.user, user):
            raise ApiError("无权获取同级或更高等级用户的信息")
        return envelope(UserSerializer(user).data)

    @extend_schema(responses={200: None})
    def delete(self, request, id: int):
        """Soft delete. Success answers HTTP 200 with an **empty body**, exactly as the original."""
        user = _user(id)
        if request.user.role <= user.role:  # no root exemption here in the original
            raise ApiError("无权删除同权限等级或更高权限等级的用户")
        services.user_soft_delete(user=user, actor=request.user)
        return HttpResponse(status=200)


class UserManageApi(ApiView):
    permission_classes = [AdminAuth]

    @extend_schema(
        request=ManageSerializer, responses=envelope_of("ManageResponse", ManageResultSerializer())
    )
    def post(self, request):
        """disable / enable / delete / promote (root only) / demote a lower-role user; root is immune."""
        data = self.validated(ManageSerializer)
        user = User.objects.filter(username=data["username"]).first() if data["username"] else None
        if user is None:
            raise ApiError("用户不存在")
        try:
            services.user_manage(actor=request.user, user=user, action=data["action"])
        except services.UserActionError as exc:
            raise _refuse(exc) from None
        return envelope({"role": user.role, "status": user.status})


# --- the caller's API keys ----------------------------------------------------------------------------------
def _own_token(request, pk: int) -> Token:
    token = Token.objects.filter(pk=pk, user=request.user).first()
    if token is None:
        raise ApiError("令牌不存在")
    return token


class TokenListApi(ApiView):
    @extend_schema(
        parameters=[*PAGE_PARAMETERS, OpenApiParameter("order", str, enum=["remain_quota", "used_quota"])],
        responses=_TOKENS,
    )
    def get(self, request):
        offset, limit = page_bounds(request)
        order = request.query_params.get("order", "")
        page = selectors.token_page(user=request.user, offset=offset, limit=limit, order=order)
        return envelope(TokenSerializer(page, many=True).data)

    @extend_schema(request=TokenCreateSerializer, responses=_TOKEN)
    def post(self, request):
        """A new API key for the caller; data = the key (with ``key``)."""
        token = services.token_issue(actor=request.user, **self.validated(TokenCreateSerializer))
        return envelope(TokenSerializer(token).data)

    @extend_schema(
        request=TokenUpdateSerializer,
        parameters=[OpenApiParameter("status_only", str, description="non-empty: change only the status")],
        responses=_TOKEN,
    )
    def put(self, request):
        data = self.validated(TokenUpdateSerializer)
        token = _own_token(request, data.pop("id"))
        status = data.pop("status", None)
        if request.query_params.get("status_only"):
            if status is None:
                raise ApiError("status: This field is required.")
            data = {}
        else:
            status = None  # a full edit keeps the status, as the original
        try:
            services.token_revise(actor=request.user, token=token, status=status, **data)
        except services.TokenStateError as exc:
            raise ApiError(_TOKEN_STATE_MESSAGES.get(str(exc), str(exc))) from None
        return envelope(TokenSerializer(token).data)


_TOKEN_STATE_MESSAGES = {
    "expired": "令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期",
    "exhausted": "令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度",
}


class TokenSearchApi(ApiView):
    @extend_schema(parameters=_KEYWORD, responses=_TOKENS)
    def get(self, request):
        found = selectors.token_search(user=request.user, keyword=request.query_params.get("keyword", ""))
        return envelope(TokenSerializer(found, many=True).data)


class TokenDetailApi(ApiView):
    @extend_schema(responses=_TOKEN)
    def get(self, request, id: int):
        return envelope(TokenSerializer(_own_token(request, id)).data)

    @extend_schema(responses=_EMPTY)
    def delete(self, request, id: int):
        services.token_revoke(actor=request.user, token=_own_token(request, id))
        return envelope()
