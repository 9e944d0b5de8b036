"""``/ratio``: the model, completion and group ratio editors, and the effective prices they produce.

Ratio 1 is US$0.002 per 1K prompt tokens (spec §3.5); completion tokens cost ``completion ratio`` times that,
and the user's group multiplies both. Admins may read; only root saves (the ratios are options).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.console import admin_required
from billing.ratios import DEFAULT_MODEL_RATIO
from billing.selectors import completion_ratio, group_ratio, model_ratio
from config.options import option_json, option_str

USD_PER_RATIO_PER_1K = 0.002
RATIO_OPTIONS = ("ModelRatio", "CompletionRatio", "GroupRatio")
PRICE_ROWS_SHOWN = 60


def _ratio_map(text: str) -> dict[str, float]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise forms.ValidationError(
            gettext_lazy("Not valid JSON: %(error)s"), params={"error": exc}
        ) from None
    if not isinstance(value, dict):
        raise forms.ValidationError(gettext_lazy('Use a JSON object like {"gpt-4o": 2.5}.'))
    for name, ratio in value.items():
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or ratio < 0:
            raise forms.ValidationError(
                gettext_lazy("%(name)s: the ratio must be a number ≥ 0."), params={"name": name}
            )
    return value


class RatioForm(forms.Form):
    ModelRatio = forms.CharField(
        label=gettext_lazy("Model ratios"), widget=forms.Textarea(attrs={"rows": 12})
    )
    CompletionRatio = forms.CharField(
        label=gettext_lazy("Completion ratios"), widget=forms.Textarea(attrs={"rows": 6})
    )
    GroupRatio = forms.CharField(label=gettext_lazy("Group ratios"), widget=forms.Textarea(attrs={"rows": 4}))

    def clean(self):
        data = super().clean()
        for key in RATIO_OPTIONS:
            if key in data:
                try:
                    _ratio_map(data[key])
                except forms.ValidationError as error:
                    self.add_error(key, error)
        return data


def _pretty(key: str) -> str:
    try:
        return json.dumps(json.loads(option_str(key)), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return option_str(key)


def price_rows(*, group: str, query: str) -> list[dict]:
    """Effective US$ per 1K prompt / completion tokens for every priced model matching ``query``."""
    try:
        stored = json.loads(option_str("ModelRatio"))
    except ValueError:
        stored = {}
    names = sorted(set(DEFAULT_MODEL_RATIO) | set(stored if isinstance(stored, dict) else {}), key=str.lower)
    g = group_ratio(group)
    rows = []
    for name in names:
        if query and query.lower() not in name.lower():
            continue
        ratio, completion = model_ratio(name), completion_ratio(name)
        prompt_usd = ratio * g * USD_PER_RATIO_PER_1K
        rows.append(
            {
                "model": name,
                "ratio": ratio,
                "completion": completion,
                "prompt_usd": prompt_usd,
                "completion_usd": prompt_usd * completion,
            }
        )
    return rows


@require_http_methods(["GET", "POST"])
@admin_required
def ratio_page(request: HttpRequest) -> HttpResponse:
    initial = {key: _pretty(key) for key in RATIO_OPTIONS}
    form = RatioForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not request.user.is_root:
            return render(request, "console/forbidden.html", status=403)
        if form.is_valid():
            return _save(request, form)
    group = request.GET.get("group", "default")
    query = request.GET.get("q", "").strip()
    rows = price_rows(group=group, query=query)
    stored_groups = option_json("GroupRatio")
    groups = sorted(stored_groups) if isinstance(stored_groups, dict) else ["default"]
    context = {
        "form": form,
        "rows": rows[:PRICE_ROWS_SHOWN],
        "row_count": len(rows),
        "shown": PRICE_ROWS_SHOWN,
        "group": group,
        "group_ratio": group_ratio(group),
        "groups": groups,
        "q": query,
    }
    return render(request, "billing/ratio.html", context)


def _save(request: HttpRequest, form: RatioForm) -> HttpResponse:
    from accounts.models import User
    from config.api import option_update

    actor = User.objects.get(pk=request.user.pk)
    saved = 0
    for key in RATIO_OPTIONS:
        table = _ratio_map(form.cleaned_data[key])
        if table != option_json(key):
            compact = json.dumps(table, ensure_ascii=False, separators=(",", ":"))
            option_update(actor=actor, key=key, value=compact)
            saved += 1
    messages.success(request, _("%(count)d ratio table(s) saved.") % {"count": saved})
    return redirect("/ratio")
