"""What every console page shares: role gates, the client IP, small-table pagination, form error messages.

The console is server-rendered and session-authenticated (Django's auth). Role gates redirect anonymous
visitors to ``/login?next=…`` and answer 403 to signed-in users without the role, so a bookmark of an admin
page never leaks that the page exists to a common user beyond the status code.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.models import Role

LOGIN_PATH = "/login"
PAGE_SIZE = 20


def _gate(minimum_role: int):
    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect(f"{LOGIN_PATH}?{urlencode({'next': request.get_full_path()})}")
            if user.role < minimum_role:
                return render(request, "console/forbidden.html", status=403)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


user_required = _gate(Role.COMMON)
admin_required = _gate(Role.ADMIN)
root_required = _gate(Role.ROOT)


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def safe_next(request: HttpRequest, default: str = "/dashboard") -> str:
    """The ``next`` parameter if it points back into this site, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def paginate(request: HttpRequest, queryset, per_page: int = PAGE_SIZE) -> Page:
    """Page ``?p=`` (1-based) of a small table (keys, channels, users, codes). Logs use keyset paging."""
    return Paginator(queryset, per_page).get_page(request.GET.get("p"))


def first_error(form) -> str:
    """One readable message for a form that failed validation (for redirects that flash it)."""
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        return f"{label}: {errors[0]}" if label else str(errors[0])
    return ""
