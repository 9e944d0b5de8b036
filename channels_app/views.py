"""Admin pages for channels (``/channel``): list with inline priority/weight, editor, tests and balances.

Tests and balances use the relay's adaptors, imported when a button is pressed; if that part is not
installed the page says so instead of failing.
"""

from __future__ import annotations

import logging

import httpx
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.console import admin_required, paginate
from channels_app.forms import KEY_HINTS, NEEDS_BASE_URL, ChannelForm, ChannelInlineForm, channel_type_rows
from channels_app.models import Channel, ChannelStatus
from channels_app.services import (
    channel_remove,
    channel_status_set,
    channel_update,
    channels_create,
    channels_delete_disabled,
)
from config.options import option_json

logger = logging.getLogger(__name__)
NOT_AVAILABLE = gettext_lazy("not available")


def _groups() -> list[str]:
    ratios = option_json("GroupRatio")
    return sorted(ratios) if isinstance(ratios, dict) else ["default"]


def _back(request: HttpRequest) -> HttpResponse:
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/channel") else "/channel")


@require_GET
@admin_required
def channel_list_page(request: HttpRequest) -> HttpResponse:
    keyword = request.GET.get("keyword", "").strip()
    status = request.GET.get("status", "")
    channels = Channel.objects.defer("key", "config").order_by("-priority", "-id")
    if keyword:
        match = Q(name__startswith=keyword)
        channels = channels.filter(match | Q(pk=int(keyword)) if keyword.isdigit() else match)
    if status.isdigit():
        channels = channels.filter(status=int(status))
    types = {row["id"]: row["name"] for row in channel_type_rows()}
    page = paginate(request, channels)
    for channel in page:
        channel.type_name = types.get(channel.type, f"#{channel.type}")
    return render(
        request,
        "channels/channel_list.html",
        {"page": page, "keyword": keyword, "status": status, "statuses": ChannelStatus},
    )


@require_http_methods(["GET", "POST"])
@admin_required
def channel_edit_page(request: HttpRequest, channel_id: int | None = None) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id) if channel_id else None
    initial = ChannelForm.initial_for(channel) if channel else {"groups": ["default"]}
    form = ChannelForm(request.POST or None, initial=initial, channel=channel, group_choices=_groups())
    if request.method == "POST" and form.is_valid():
        fields = form.channel_fields()
        if channel is None:
            created = channels_create(actor=request.user, keys=form.keys(), **fields)
            messages.success(request, _("%(count)d channel(s) created.") % {"count": len(created)})
        else:
            if key := form.cleaned_data["key"].strip():
                fields["key"] = key
            channel_update(actor=request.user, channel=channel, **fields)
            messages.success(request, _("Channel “%(name)s” saved.") % {"name": channel.name})
        return redirect("/channel")
    context = {
        "form": form,
        "channel": channel,
        "types": channel_type_rows(),
        "key_hints": {str(k): v for k, v in KEY_HINTS.items()},
        "needs_base_url": sorted(NEEDS_BASE_URL),
    }
    return render(request, "channels/channel_form.html", context)


@require_POST
@admin_required
def channel_inline_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    form = ChannelInlineForm(request.POST)
    if form.is_valid():
        channel_update(actor=request.user, channel=channel, **form.cleaned_data)
        messages.success(request, _("Channel “%(name)s” saved.") % {"name": channel.name})
    else:
        errors = "; ".join(f"{form.fields[f].label}: {e[0]}" for f, e in form.errors.items())
        messages.error(
            request, _("Channel “%(name)s” not saved: %(errors)s") % {"name": channel.name, "errors": errors}
        )
    return _back(request)


@require_POST
@admin_required
def channel_status_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    enable = request.POST.get("enable") == "1"
    channel_status_set(channel, ChannelStatus.ENABLED if enable else ChannelStatus.MANUALLY_DISABLED)
    return _back(request)


@require_POST
@admin_required
def channel_delete_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    channel_remove(actor=request.user, channel=channel)
    messages.success(request, _("Channel “%(name)s” deleted.") % {"name": channel.name})
    return _back(request)


@require_POST
@admin_required
def channel_delete_disabled_view(request: HttpRequest) -> HttpResponse:
    count = channels_delete_disabled(actor=request.user)
    messages.success(request, _("%(count)d disabled channel(s) deleted.") % {"count": count})
    return _back(request)


@require_POST
@admin_required
def channel_test_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    try:
        from relay.services import channel_test
    except ImportError:
        messages.warning(request, _("Channel test is %(state)s on this server.") % {"state": NOT_AVAILABLE})
        return _back(request)
    try:
        result = channel_test(channel, request.POST.get("model", ""))
    except Exception:  # an adaptor bug must not turn the button into a 500
        logger.exception("testing channel #%s failed", channel.pk)
        messages.error(
            request, _("Testing “%(name)s” failed unexpectedly; see the server log.") % {"name": channel.name}
        )
        return _back(request)
    params = {
        "name": channel.name,
        "model": result.model,
        "time": f"{result.time_s:.2f}",
        "error": result.message,
    }
    if result.success:
        messages.success(request, _("“%(name)s” answered with %(model)s in %(time)s s.") % params)
    else:
        messages.error(request, _("“%(name)s” failed with %(model)s: %(error)s") % params)
    return _back(request)


@require_POST
@admin_required
def channel_test_all_view(request: HttpRequest) -> HttpResponse:
    scope = "disabled" if request.POST.get("scope") == "disabled" else "all"
    try:
        from relay.tasks import channel_test_all
    except ImportError:
        messages.warning(
            request, _("Testing all channels is %(state)s on this server.") % {"state": NOT_AVAILABLE}
        )
        return _back(request)
    channel_test_all.delay(scope=scope)
    messages.success(request, _("Testing channels in the background; reload to see the results."))
    return _back(request)


@require_POST
@admin_required
def channel_balance_view(request: HttpRequest, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=channel_id)
    try:
        from channels_app.balance import channel_balance_update
    except ImportError:
        messages.warning(request, _("Balance query is %(state)s on this server.") % {"state": NOT_AVAILABLE})
        return _back(request)
    try:
        balance = channel_balance_update(channel)
    except Exception as exc:  # the provider's refusal is what the admin needs to read
        messages.error(request, _("Balance of “%(name)s”: %(error)s") % {"name": channel.name, "error": exc})
    else:
        messages.success(
            request,
            _("Balance of “%(name)s”: $%(balance).2f") % {"name": channel.name, "balance": balance or 0.0},
        )
    return _back(request)


@require_POST
@admin_required
def channel_fetch_models_view(request: HttpRequest) -> JsonResponse:
    """``GET <base>/v1/models`` upstream with the typed (or stored) key, for the editor's button."""
    rows = {row["id"]: row for row in channel_type_rows()}
    try:
        type_id = int(request.POST.get("type", "1"))
    except ValueError:
        type_id = 1
    channel = Channel.objects.filter(pk=request.POST.get("channel_id") or 0).first()
    key = request.POST.get("key", "").strip().splitlines()[:1] or [channel.key if channel else ""]
    base = (request.POST.get("base_url", "").strip() or rows.get(type_id, {}).get("base_url", "")).rstrip("/")
    if not base:
        return JsonResponse({"success": False, "message": _("Enter the base URL first.")})
    url = base + ("/models" if base.endswith(("/v1", "/openai", "/v1beta/openai")) else "/v1/models")
    try:
        reply = httpx.get(url, headers={"Authorization": f"Bearer {key[0]}"}, timeout=15)
        reply.raise_for_status()
        names = sorted({item["id"] for item in reply.json()["data"] if isinstance(item.get("id"), str)})
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        return JsonResponse(
            {"success": False, "message": _("Upstream did not list models: %(e)s") % {"e": exc}}
        )
    return JsonResponse({"success": True, "message": "", "models": names})
