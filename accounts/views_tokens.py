"""API key pages (``/token``): a user only ever sees and changes their own keys (others' are a 404)."""

from __future__ import annotations

from datetime import datetime
from datetime import timezone as dt_timezone

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.console import paginate, user_required
from accounts.forms import TokenForm
from accounts.models import Token, TokenStatus, User
from accounts.services import TokenStateError, token_issue, token_revise, token_revoke
from channels_app.models import Ability


def group_models(group: str) -> list[str]:
    """Models the group may call (enabled abilities): the choices of a key's model allowlist."""
    rows = Ability.objects.filter(group=group, enabled=True).values_list("model", flat=True)
    return sorted(set(rows))


@require_http_methods(["GET"])
@user_required
def token_list_page(request: HttpRequest) -> HttpResponse:
    keyword = request.GET.get("keyword", "").strip()
    tokens = Token.objects.filter(user=request.user).order_by("-id")
    if keyword:
        tokens = tokens.filter(name__startswith=keyword)
    return render(
        request,
        "accounts/token_list.html",
        {"page": paginate(request, tokens), "keyword": keyword, "statuses": TokenStatus},
    )


def _form_initial(token: Token) -> dict:
    expires = token.expired_time
    return {
        "name": token.name,
        "never_expires": expires == -1,
        "expired_at": None if expires == -1 else datetime.fromtimestamp(expires, tz=dt_timezone.utc),
        "unlimited_quota": token.unlimited_quota,
        "remain_quota": max(token.remain_quota, 0),
        "allowed_models": [m for m in (token.allowed_models or "").split(",") if m],
        "subnet": token.subnet,
    }


def _fields(form: TokenForm) -> dict:
    data = form.cleaned_data
    return {
        "name": data["name"].strip(),
        "expired_time": form.expired_time(),
        "unlimited_quota": data["unlimited_quota"],
        "remain_quota": data["remain_quota"] or 0,
        "allowed_models": ",".join(data["allowed_models"]),
        "subnet": data["subnet"],
    }


def _model_choices(user: User, token: Token | None) -> list[str]:
    current = [m for m in ((token.allowed_models or "") if token else "").split(",") if m]
    return sorted(set(group_models(user.group)) | set(current))


@require_http_methods(["GET", "POST"])
@user_required
def token_edit_page(request: HttpRequest, token_id: int | None = None) -> HttpResponse:
    token = get_object_or_404(Token, pk=token_id, user=request.user) if token_id else None
    form = TokenForm(
        request.POST or None,
        initial=_form_initial(token) if token else None,
        model_choices=_model_choices(request.user, token),
    )
    if request.method == "POST" and form.is_valid():
        if token is None:
            token = token_issue(actor=request.user, **_fields(form))
            messages.success(request, _("Key “%(name)s” created.") % {"name": token.name})
        else:
            token_revise(actor=request.user, token=token, **_fields(form))
            messages.success(request, _("Key “%(name)s” saved.") % {"name": token.name})
        return redirect("/token")
    return render(request, "accounts/token_form.html", {"form": form, "token": token})


@require_POST
@user_required
def token_status_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(Token, pk=token_id, user=request.user)
    enable = request.POST.get("enable") == "1"
    try:
        token_revise(
            actor=request.user, token=token, status=TokenStatus.ENABLED if enable else TokenStatus.DISABLED
        )
    except TokenStateError as refused:
        reason = _("it has expired") if str(refused) == "expired" else _("its quota is used up")
        messages.error(
            request,
            _("Key “%(name)s” cannot be enabled: %(reason)s. Edit it first.")
            % {"name": token.name, "reason": reason},
        )
    return redirect(request.POST.get("back") or "/token")


@require_POST
@user_required
def token_delete_view(request: HttpRequest, token_id: int) -> HttpResponse:
    token = get_object_or_404(Token, pk=token_id, user=request.user)
    token_revoke(actor=request.user, token=token)
    messages.success(request, _("Key “%(name)s” deleted.") % {"name": token.name})
    return redirect("/token")
