"""E-mail codes and password reset (spec §7): the original's JSON routes and the console's pages.

- ``GET /api/verification?email=&turnstile=``: e-mail a 6-character code (registration, e-mail binding).
- ``GET /api/reset_password?email=&turnstile=``: e-mail a link to ``/user/reset?email=…&token=…``.
- ``POST /api/user/reset {email, token}``: set and return a new 12-character password.
- ``/reset`` asks for the link; ``/user/reset`` (the link) confirms with a button, so a mail scanner that
  follows links cannot use the token up; ``/setting/email`` binds an address to the signed-in account.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import throttle
from accounts.console import client_ip, user_required
from accounts.emails import EmailNotConfigured, EmailSendError, send_email
from accounts.models import User, UserStatus
from accounts.verification import (
    CODE_TTL_S,
    PURPOSE_RESET,
    PURPOSE_VERIFY,
    code_check,
    code_issue,
    email_domain_allowed,
    new_password,
    turnstile_required,
    turnstile_verify,
)
from config.options import option_str
from config.ratelimit import CriticalThrottle, rate_limited
from config.views import envelope

logger = logging.getLogger(__name__)


class EmailError(Exception):
    """A refusal whose message is shown to the user."""


def _valid_email(email: str) -> str:
    email = (email or "").strip()
    try:
        forms.EmailField().clean(email)
    except forms.ValidationError:
        raise EmailError(_("Enter a valid e-mail address.")) from None
    return email


def _send(request: HttpRequest, *, to: str, subject: str, template: str, context: dict) -> None:
    if not throttle.email_allowed(ip=client_ip(request), address=to):
        raise EmailError(_("Too many e-mails requested. Wait 20 minutes and try again."))
    context = {"system_name": option_str("SystemName"), "minutes": CODE_TTL_S // 60, **context}
    try:
        send_email(to=to, subject=subject, template=template, context=context)
    except EmailNotConfigured:
        raise EmailError(_("E-mail is not set up on this server.")) from None
    except EmailSendError as exc:
        logger.warning("sending %s to %s failed: %s", template, to, exc)
        raise EmailError(_("The e-mail could not be sent: %(error)s") % {"error": exc}) from None


def verification_send(request: HttpRequest, email: str) -> None:
    """Check and e-mail a registration / binding code; raises EmailError with the reason."""
    email = _valid_email(email)
    if not email_domain_allowed(email):
        raise EmailError(_("Registration with this e-mail domain is not allowed."))
    if User.objects.filter(email__iexact=email).exists():
        raise EmailError(_("This e-mail address is already registered."))
    code = code_issue(email=email, purpose=PURPOSE_VERIFY)
    subject = _("%(site)s e-mail verification") % {"site": option_str("SystemName")}
    _send(request, to=email, subject=subject, template="verification_code", context={"code": code})


def reset_link_send(request: HttpRequest, email: str) -> None:
    email = _valid_email(email)
    if not User.objects.filter(email__iexact=email).exclude(status=UserStatus.DELETED).exists():
        raise EmailError(_("No account uses this e-mail address."))
    token = code_issue(email=email, purpose=PURPOSE_RESET)
    base = option_str("ServerAddress").rstrip("/") or request.build_absolute_uri("/").rstrip("/")
    link = f"{base}/user/reset?{urlencode({'email': email, 'token': token})}"
    subject = _("%(site)s password reset") % {"site": option_str("SystemName")}
    _send(request, to=email, subject=subject, template="password_reset", context={"link": link})


@transaction.atomic
def password_reset(*, email: str, token: str) -> str:
    """Use a reset token: the account gets a new random password, which is returned."""
    user = User.objects.filter(email__iexact=email.strip()).exclude(status=UserStatus.DELETED).first()
    if user is None or not code_check(email=email, code=token, purpose=PURPOSE_RESET):
        raise EmailError(_("The reset link is invalid or has expired."))
    password = new_password()
    user.set_password(password)
    user.save(update_fields=["password"])
    return password


# --- the original's JSON routes ------------------------------------------------------------------------------
def _turnstile_ok(request: HttpRequest) -> bool:
    return turnstile_verify(request, request.GET.get("turnstile", ""))


@require_GET
@rate_limited(CriticalThrottle)
def verification_api(request: HttpRequest) -> JsonResponse:
    if not _turnstile_ok(request):
        return envelope(success=False, message=_("Please complete the human check."))
    try:
        verification_send(request, request.GET.get("email", ""))
    except EmailError as refused:
        return envelope(success=False, message=str(refused))
    return envelope(message=_("The code is on its way; it is valid for 10 minutes."))


@require_GET
@rate_limited(CriticalThrottle)
def reset_password_api(request: HttpRequest) -> JsonResponse:
    if not _turnstile_ok(request):
        return envelope(success=False, message=_("Please complete the human check."))
    try:
        reset_link_send(request, request.GET.get("email", ""))
    except EmailError as refused:
        return envelope(success=False, message=str(refused))
    return envelope(message=_("The reset link is on its way; it is valid for 10 minutes."))


@csrf_exempt  # no session authority is used: the e-mailed token is the credential
@require_POST
@rate_limited(CriticalThrottle)
def user_reset_api(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"{}")
        email, token = str(body.get("email", "")), str(body.get("token", ""))
    except (ValueError, AttributeError):
        return envelope(success=False, message=_('Send JSON: {"email": …, "token": …}'))
    try:
        password = password_reset(email=email, token=token)
    except EmailError as refused:
        return envelope(success=False, message=str(refused))
    return envelope(password)


# --- console pages -------------------------------------------------------------------------------------------
class ResetRequestForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=50)


@require_http_methods(["GET", "POST"])
def reset_page(request: HttpRequest) -> HttpResponse:
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not request_ok(request):
            return HttpResponse(status=429)
        if not turnstile_verify(request, request.POST.get("cf-turnstile-response", "")):
            form.add_error(None, _("Please complete the human check."))
        else:
            try:
                reset_link_send(request, form.cleaned_data["email"])
            except EmailError as refused:
                form.add_error("email", str(refused))
            else:
                messages.success(request, _("Check your inbox: the reset link is valid for 10 minutes."))
                return redirect("/login")
    site_key = option_str("TurnstileSiteKey") if turnstile_required(request) else ""
    return render(request, "accounts/reset.html", {"form": form, "turnstile_site_key": site_key})


def request_ok(request: HttpRequest) -> bool:
    from config.ratelimit import request_allowed

    return request_allowed(request, CriticalThrottle)


@require_http_methods(["GET", "POST"])
def user_reset_page(request: HttpRequest) -> HttpResponse:
    email, token = request.GET.get("email", ""), request.GET.get("token", "")
    context = {"email": email, "token": token, "password": "", "error": ""}
    if request.method == "POST":
        if not request_ok(request):
            return HttpResponse(status=429)
        try:
            context["password"] = password_reset(email=email, token=token)
        except EmailError as refused:
            context["error"] = str(refused)
    return render(request, "accounts/user_reset.html", context)


class EmailBindForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("E-mail"), max_length=50)
    code = forms.CharField(label=gettext_lazy("Verification code"), max_length=16)


def email_bind(*, user: User, email: str, code: str) -> None:
    if not code_check(email=email, code=code, purpose=PURPOSE_VERIFY):
        raise EmailError(_("The code is wrong or has expired."))
    User.objects.filter(pk=user.pk).update(email=email)


@require_http_methods(["GET", "POST"])
@user_required
def email_bind_page(request: HttpRequest) -> HttpResponse:
    form = EmailBindForm(request.POST or None, initial={"email": request.user.email})
    if request.method == "POST" and form.is_valid():
        try:
            email_bind(user=request.user, **form.cleaned_data)
        except EmailError as refused:
            form.add_error("code", str(refused))
        else:
            messages.success(request, _("Your e-mail address is saved."))
            return redirect("/setting#bindings")
    return render(request, "accounts/email_bind.html", {"form": form})


@require_GET
@rate_limited(CriticalThrottle)
def email_bind_api(request: HttpRequest) -> JsonResponse:
    """``GET /api/oauth/email/bind?email=&code=`` for the signed-in user (the original's route)."""
    if not request.user.is_authenticated:
        return envelope(success=False, message=_("Sign in first."), status=401)
    try:
        email_bind(
            user=request.user,
            email=_valid_email(request.GET.get("email", "")),
            code=request.GET.get("code", ""),
        )
    except EmailError as refused:
        return envelope(success=False, message=str(refused))
    return envelope()
