"""WeChat sign-in and binding (through a WeChat Server), and unlinking sign-in methods from ``/setting``.

GitHub, Feishu/Lark and OIDC run through allauth's views (``accounts.oauth``); WeChat has no OAuth redirect:
the user sends "验证码" to the official account and types the code it answers with.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.console import safe_next, user_required
from accounts.models import User, UserStatus
from accounts.oauth import WeChatError, can_unlink, unlink, wechat_id_for_code, wechat_user
from config.ratelimit import CriticalThrottle, rate_limited
from config.views import envelope

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class WeChatRefused(Exception):
    pass


def _wechat_sign_in_or_bind(request: HttpRequest, code: str) -> User:
    """Bind the WeChat id to the signed-in user, or sign in (creating the account if registration is open)."""
    wechat_id = wechat_id_for_code(code.strip())
    if request.user.is_authenticated:
        if User.objects.filter(wechat_id=wechat_id).exclude(pk=request.user.pk).exists():
            raise WeChatRefused(_("This WeChat account is already linked to another user."))
        User.objects.filter(pk=request.user.pk).update(wechat_id=wechat_id)
        return request.user
    user = wechat_user(wechat_id)
    if user is None:
        raise WeChatRefused(_("New registrations are closed."))
    if user.status != UserStatus.ENABLED:
        raise WeChatRefused(_("This account is disabled."))
    login(request, user, backend=MODEL_BACKEND)
    return user


@require_POST
@rate_limited(CriticalThrottle)
def wechat_page(request: HttpRequest) -> HttpResponse:
    """The code form on the sign-in page and on ``/setting``."""
    bound = request.user.is_authenticated
    try:
        _wechat_sign_in_or_bind(request, request.POST.get("code", ""))
    except (WeChatError, WeChatRefused) as refused:
        messages.error(request, _("WeChat: %(reason)s") % {"reason": refused})
        return redirect("/setting#bindings" if bound else "/login")
    if bound:
        messages.success(request, _("WeChat is linked to your account."))
        return redirect("/setting#bindings")
    return redirect(safe_next(request))


@require_GET
@rate_limited(CriticalThrottle)
def wechat_api(request: HttpRequest) -> JsonResponse:
    """``GET /api/oauth/wechat?code=`` (sign in) and ``/api/oauth/wechat/bind?code=`` (signed in: bind)."""
    binding = request.path.rstrip("/").endswith("/bind")
    if binding and not request.user.is_authenticated:
        return envelope(success=False, message=_("Sign in first."), status=401)
    try:
        user = _wechat_sign_in_or_bind(request, request.GET.get("code", ""))
    except (WeChatError, WeChatRefused) as refused:
        return envelope(success=False, message=str(refused))
    if binding:
        return envelope()
    data = {"id": user.pk, "username": user.username, "display_name": user.display_name, "role": user.role}
    return envelope({**data, "status": user.status})


@require_POST
@user_required
def unlink_view(request: HttpRequest, provider: str) -> HttpResponse:
    if provider not in ("github", "lark", "oidc", "wechat"):
        return redirect("/setting")
    user = User.objects.get(pk=request.user.pk)
    if not can_unlink(user, provider):
        messages.error(request, _("Set a password first: this is your only way to sign in."))
    else:
        unlink(user=user, provider=provider)
        messages.success(request, _("Unlinked."))
    return redirect("/setting#bindings")
