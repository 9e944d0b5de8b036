"""``/setting``: everyone's personal settings, and root's system settings (one form per option group)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.console import root_required, user_required
from accounts.forms import ProfileForm
from accounts.forms_settings import OPTION_GROUPS, OptionGroupForm
from accounts.models import User
from accounts.services import user_access_token_regenerate, user_aff_code_ensure
from config.options import option_bool, option_str

ACCESS_TOKEN_SESSION_KEY = "fresh_access_token"


def _bindings(user: User) -> list[dict]:
    """Sign-in methods the site offers, and whether this account is linked to each."""
    rows = [
        ("github", "GitHub", user.github_id, option_bool("GitHubOAuthEnabled")),
        ("lark", _("Feishu / Lark"), user.lark_id, bool(option_str("LarkClientId"))),
        ("oidc", "OpenID Connect", user.oidc_id, option_bool("OidcEnabled")),
        ("wechat", _("WeChat"), user.wechat_id, option_bool("WeChatAuthEnabled")),
    ]
    return [
        {"provider": slug, "name": name, "linked": linked, "offered": offered}
        for slug, name, linked, offered in rows
        if offered or linked
    ]


def _personal_context(request: HttpRequest, profile_form: ProfileForm | None = None) -> dict:
    user = User.objects.get(pk=request.user.pk)
    return {
        "profile_form": profile_form or ProfileForm(initial={"display_name": user.display_name}),
        "subject": user,
        "aff_link": request.build_absolute_uri(f"/register?aff={user_aff_code_ensure(user=user)}"),
        "fresh_access_token": request.session.pop(ACCESS_TOKEN_SESSION_KEY, ""),
        "bindings": _bindings(user),
        "email_binding": option_bool("EmailVerificationEnabled") or bool(user.email),
        "wechat_qrcode": option_str("WeChatAccountQRCodeImageURL"),
        "groups": OPTION_GROUPS,
        "tab": "personal",
    }


@require_http_methods(["GET"])
@user_required
def setting_page(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/setting_personal.html", _personal_context(request))


@require_POST
@user_required
def profile_view(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST)
    if not form.is_valid():
        return render(request, "accounts/setting_personal.html", _personal_context(request, form), status=400)
    user = User.objects.get(pk=request.user.pk)
    user.display_name = form.cleaned_data["display_name"].strip() or user.display_name
    if form.cleaned_data["password"]:
        user.set_password(form.cleaned_data["password"])
    user.save(update_fields=["display_name", "password"])  # not quota: the relay changes it concurrently
    update_session_auth_hash(request, user)  # a new password must not sign this browser out
    messages.success(request, _("Your settings are saved."))
    return redirect("/setting")


@require_POST
@user_required
def access_token_view(request: HttpRequest) -> HttpResponse:
    """Generate (or replace) the management access token; it is shown once, on the next page."""
    user = User.objects.get(pk=request.user.pk)
    request.session[ACCESS_TOKEN_SESSION_KEY] = user_access_token_regenerate(user=user)
    messages.success(request, _("A new access token was generated; the old one no longer works."))
    return redirect("/setting#access-token")


@require_http_methods(["GET", "POST"])
@root_required
def system_setting_page(request: HttpRequest, group: str = "general") -> HttpResponse:
    if group not in OPTION_GROUPS:
        raise Http404
    form = OptionGroupForm(group, request.POST or None)
    if request.method == "POST" and form.is_valid():
        from config.api import option_update

        actor = User.objects.get(pk=request.user.pk)
        changes = form.changes()
        for key, value in changes.items():
            option_update(actor=actor, key=key, value=value)
        messages.success(request, _("%(count)d setting(s) saved.") % {"count": len(changes)})
        return redirect(f"/setting/system/{group}")
    return render(
        request, "accounts/setting_system.html", {"form": form, "groups": OPTION_GROUPS, "tab": group}
    )
