"""The dashboard and the usage-log pages."""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from accounts.console import user_required
from config.options import option_bool, option_int
from config.templatetags.console import LOG_TYPE_NAMES
from logs_app.console_queries import LogFilter, log_page, log_totals, usage_by_day

CHART_DAYS = (7, 30)
_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


@require_GET
@user_required
def dashboard_page(request: HttpRequest) -> HttpResponse:
    days = 30 if request.GET.get("days") == "30" else 7
    usage = usage_by_day(user_id=request.user.pk, days=days)
    totals = {"requests": 0, "tokens": 0, "quota": 0}
    by_model = []
    for name, series in usage["series"].items():
        row = {"model": name, **{metric: sum(values) for metric, values in series.items()}}
        by_model.append(row)
        for metric in totals:
            totals[metric] += row[metric]
    by_model.sort(key=lambda row: row["quota"], reverse=True)
    chart = {
        **usage,
        "currency": option_bool("DisplayInCurrencyEnabled"),
        "quota_per_unit": option_int("QuotaPerUnit") or 500_000,
    }
    return render(
        request,
        "logs/dashboard.html",
        {"days": days, "day_choices": CHART_DAYS, "chart": chart, "totals": totals, "by_model": by_model},
    )


class LogFilterForm(forms.Form):
    start = forms.DateTimeField(label=_("From"), required=False, input_formats=_TIME_FORMATS)
    end = forms.DateTimeField(label=_("To"), required=False, input_formats=_TIME_FORMATS)
    type = forms.TypedChoiceField(
        label=_("Type"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("All types"))] + [(value, label) for value, label in LOG_TYPE_NAMES.items()],
    )
    model_name = forms.CharField(label=_("Model"), required=False, max_length=255)
    token_name = forms.CharField(label=_("Key name"), required=False, max_length=64)
    username = forms.CharField(label=_("User"), required=False, max_length=64)
    channel = forms.IntegerField(label=_("Channel ID"), required=False, min_value=0)

    def __init__(self, *args, admin: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("start", "end"):
            self.fields[name].widget = forms.DateTimeInput(attrs={"type": "datetime-local"})
        if not admin:
            del self.fields["username"], self.fields["channel"]

    def to_filter(self, *, user_id: int | None) -> LogFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return LogFilter(
            user_id=user_id,
            start=int(data["start"].timestamp()) if data.get("start") else None,
            end=int(data["end"].timestamp()) if data.get("end") else None,
            type=data.get("type"),
            model_name=(data.get("model_name") or "").strip(),
            token_name=(data.get("token_name") or "").strip(),
            username=(data.get("username") or "").strip(),
            channel_id=data.get("channel"),
        )


@require_GET
@user_required
def log_list_page(request: HttpRequest) -> HttpResponse:
    admin = request.user.is_admin
    form = LogFilterForm(request.GET or None, admin=admin)
    flt = form.to_filter(user_id=None if admin else request.user.pk)
    page = log_page(flt, before=request.GET.get("before", ""), after=request.GET.get("after", ""))
    totals = log_totals(flt) if request.GET.get("stat") else None
    return render(
        request,
        "logs/log_list.html",
        {"form": form, "page": page, "totals": totals, "admin": admin, "filtered": bool(request.GET)},
    )
