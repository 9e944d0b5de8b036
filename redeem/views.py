"""Top-up page for users, and the admin's redemption-code pages (``/redemption``)."""

from __future__ import annotations

import csv
import uuid
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.console import admin_required, paginate, user_required
from accounts.models import User
from config.options import option_str
from config.templatetags.console import quota_amount
from redeem.models import Redemption, RedemptionStatus
from redeem.services import (
    RedeemError,
    redemption_create_batch,
    redemption_delete,
    redemption_redeem,
    redemption_update,
)


class RedeemForm(forms.Form):
    key = forms.CharField(label=gettext_lazy("Redemption code"), max_length=64)


def _top_up_link(request: HttpRequest) -> str:
    """TopUpLink with the original's query parameters: username, user_id and a fresh transaction_id."""
    link = option_str("TopUpLink")
    if not link:
        return ""
    params = urlencode(
        {"username": request.user.username, "user_id": request.user.pk, "transaction_id": uuid.uuid4().hex}
    )
    return f"{link}{'&' if '?' in link else '?'}{params}"


@require_http_methods(["GET", "POST"])
@user_required
def topup_page(request: HttpRequest) -> HttpResponse:
    form = RedeemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            # The service wants the model instance, not request.user's lazy wrapper.
            user = User.objects.get(pk=request.user.pk)
            added = redemption_redeem(
                user=user, key=form.cleaned_data["key"], request_id=getattr(request, "request_id", "")
            )
        except RedeemError as refused:
            form.add_error("key", str(refused))
        else:
            messages.success(
                request, _("Redeemed: %(amount)s added to your balance.") % {"amount": quota_amount(added)}
            )
            return redirect("/topup")
    request.user.refresh_from_db(fields=["quota", "used_quota"])
    return render(request, "redeem/topup.html", {"form": form, "top_up_link": _top_up_link(request)})


# --- admin: redemption codes ---------------------------------------------------------------------------------


class RedemptionCreateForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=20)
    quota = forms.IntegerField(
        label=gettext_lazy("Quota per code"),
        min_value=1,
        initial=100_000,
        help_text=gettext_lazy("In quota units."),
    )
    count = forms.IntegerField(label=gettext_lazy("Number of codes"), min_value=1, max_value=100, initial=1)


@require_GET
@admin_required
def redemption_list_page(request: HttpRequest) -> HttpResponse:
    keyword = request.GET.get("keyword", "").strip()
    codes = Redemption.objects.order_by("-id")
    if keyword:
        codes = codes.filter(pk=int(keyword)) if keyword.isdigit() else codes.filter(name__startswith=keyword)
    return render(
        request,
        "redeem/redemption_list.html",
        {
            "page": paginate(request, codes),
            "keyword": keyword,
            "form": RedemptionCreateForm(),
            "new_keys": None,
        },
    )


@require_POST
@admin_required
def redemption_create_view(request: HttpRequest) -> HttpResponse:
    form = RedemptionCreateForm(request.POST)
    if not form.is_valid():
        codes = Redemption.objects.order_by("-id")
        return render(
            request,
            "redeem/redemption_list.html",
            {"page": paginate(request, codes), "keyword": "", "form": form, "new_keys": None},
            status=400,
        )
    keys = redemption_create_batch(actor=request.user, **form.cleaned_data)
    messages.success(request, _("%(count)d codes created.") % {"count": len(keys)})
    return render(
        request,
        "redeem/redemption_list.html",
        {
            "page": paginate(request, Redemption.objects.order_by("-id")),
            "keyword": "",
            "form": RedemptionCreateForm(),
            "new_keys": keys,
            "new_name": form.cleaned_data["name"],
        },
    )


@require_GET
@admin_required
def redemption_export_view(request: HttpRequest) -> HttpResponse:
    """CSV of codes (all, or one name's batch with ``?name=``), still-usable ones unless ``?all=1``."""
    codes = Redemption.objects.order_by("id")
    if name := request.GET.get("name", "").strip():
        codes = codes.filter(name=name)
    if not request.GET.get("all"):
        codes = codes.filter(status=RedemptionStatus.ENABLED)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="redemption-codes.csv"'
    writer = csv.writer(response)
    writer.writerow(["id", "name", "key", "quota", "status", "created_time", "redeemed_time"])
    for code in codes.iterator():
        writer.writerow(
            [
                code.pk,
                _csv_safe(code.name),
                code.key,
                code.quota,
                code.status,
                code.created_time,
                code.redeemed_time,
            ]
        )
    return response


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@require_POST
@admin_required
def redemption_status_view(request: HttpRequest, code_id: int) -> HttpResponse:
    code = get_object_or_404(Redemption, pk=code_id)
    if code.status == RedemptionStatus.USED:
        messages.error(request, _("A used code cannot be changed."))
    else:
        enable = request.POST.get("enable") == "1"
        status = RedemptionStatus.ENABLED if enable else RedemptionStatus.DISABLED
        redemption_update(actor=request.user, redemption=code, status=status)
    return redirect(request.POST.get("back") or "/redemption")


@require_POST
@admin_required
def redemption_delete_view(request: HttpRequest, code_id: int) -> HttpResponse:
    code = get_object_or_404(Redemption, pk=code_id)
    redemption_delete(actor=request.user, redemption=code)
    messages.success(request, _("Code #%(id)d deleted.") % {"id": code_id})
    return redirect("/redemption")
