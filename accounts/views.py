"""Sign-in, sign-up and sign-out pages (spec §7), with throttling and Turnstile."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import throttle
from accounts.console import client_ip, safe_next
from accounts.forms import LoginForm, RegisterForm
from accounts.models import User, UserStatus
from accounts.services import user_register
from accounts.verification import (
    PURPOSE_VERIFY,
    code_check,
    email_domain_allowed,
    turnstile_required,
    turnstile_verify,
)
from config.options import option_bool, option_str

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def auth_context(request: HttpRequest) -> dict:
    """What the sign-in and sign-up pages show besides the form: other ways in, and Turnstile."""
    return {
        "password_login": option_bool("PasswordLoginEnabled"),
        "register_open": option_bool("RegisterEnabled") and option_bool("PasswordRegisterEnabled"),
        "github_login": option_bool("GitHubOAuthEnabled") and bool(option_str("GitHubClientId")),
        "lark_login": bool(option_str("LarkClientId")),
        "oidc_login": option_bool("OidcEnabled") and bool(option_str("OidcClientId")),
        "wechat_login": option_bool("WeChatAuthEnabled"),
        "wechat_qrcode": option_str("WeChatAccountQRCodeImageURL"),
        "turnstile_site_key": option_str("TurnstileSiteKey") if turnstile_required(request) else "",
        "next": safe_next(request, ""),
    }


def _authenticate(request: HttpRequest, name: str, password: str) -> User | None:
    """Username or e-mail, as the original. Disabled and deleted accounts never authenticate."""
    user = authenticate(request, username=name, password=password)
    if user is None and "@" in name:
        by_email = User.objects.filter(email__iexact=name, status=UserStatus.ENABLED).order_by("id").first()
        if by_email is not None:
            user = authenticate(request, username=by_email.username, password=password)
    return user


@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request))
    form = LoginForm(request.POST or None)
    context = auth_context(request)
    if request.method == "POST" and form.is_valid():
        if not context["password_login"]:
            form.add_error(None, _("Password sign-in is switched off; use another way to sign in."))
        elif not turnstile_verify(request, request.POST.get("cf-turnstile-response", "")):
            form.add_error(None, _("Please complete the human check."))
        else:
            response = _password_login(request, form)
            if response is not None:
                return response
    return render(request, "accounts/login.html", {"form": form, **context})


def _password_login(request: HttpRequest, form: LoginForm) -> HttpResponse | None:
    ip, name = client_ip(request), form.cleaned_data["username"].strip()
    if throttle.login_blocked(ip=ip, username=name):
        form.add_error(None, _("Too many failed attempts. Wait 20 minutes and try again."))
        return None
    user = _authenticate(request, name, form.cleaned_data["password"])
    if user is None:
        throttle.login_failed(ip=ip, username=name)
        form.add_error(None, _("Wrong username or password, or the account is disabled."))
        return None
    throttle.login_succeeded(username=name)
    login(request, user, backend=MODEL_BACKEND)
    return redirect(safe_next(request))


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("/login")


@require_http_methods(["GET", "POST"])
def register_page(request: HttpRequest) -> HttpResponse:
    context = auth_context(request)
    email_required = option_bool("EmailVerificationEnabled")
    initial = {"aff_code": request.GET.get("aff", "")[:32]}
    form = RegisterForm(request.POST or None, initial=initial, email_required=email_required)
    context.update(form=form, email_required=email_required)
    if not context["register_open"]:
        return render(request, "accounts/register.html", {**context, "closed": True})
    if request.method == "POST" and form.is_valid() and _registration_checks(request, form):
        data = form.cleaned_data
        user = user_register(
            username=data["username"],
            password=data["password"],
            email=data.get("email", "") if email_required else "",
            aff_code=data.get("aff_code", ""),
        )
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, _("Welcome, %(name)s! Your account is ready.") % {"name": user.username})
        return redirect("/dashboard")
    return render(request, "accounts/register.html", context)


def _registration_checks(request: HttpRequest, form: RegisterForm) -> bool:
    """E-mail whitelist, verification code and Turnstile; errors are attached to the form."""
    if form.email_required:
        email = form.cleaned_data["email"]
        if not email_domain_allowed(email):
            form.add_error("email", _("Registration with this e-mail domain is not allowed."))
        elif User.objects.filter(email__iexact=email).exists():
            form.add_error("email", _("This e-mail address is already registered."))
        elif not code_check(email=email, code=form.cleaned_data["verification_code"], purpose=PURPOSE_VERIFY):
            form.add_error("verification_code", _("The code is wrong or has expired."))
    if not turnstile_verify(request, request.POST.get("cf-turnstile-response", "")):
        form.add_error(None, _("Please complete the human check."))
    return not form.errors
