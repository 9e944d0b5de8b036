"""Admin pages for users (``/user``) with the original's role rules (spec §2.3).

An admin acts only on users with a lower role; root acts on anyone but can't be disabled, deleted or demoted;
only root promotes. The rules live in ``accounts.services`` (shared with the management API); these views
only show what the signed-in admin may do and report refusals.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.console import admin_required, paginate
from accounts.forms import ROLE_NAMES, UserCreateForm, UserEditForm
from accounts.models import User, UserStatus
from accounts.services import UserActionError, can_manage, user_admin_create, user_admin_update, user_manage
from config.options import option_json

ACTION_DONE = {
    "enable": gettext_lazy("“%(name)s” enabled."),
    "disable": gettext_lazy("“%(name)s” disabled."),
    "delete": gettext_lazy("“%(name)s” deleted."),
    "promote": gettext_lazy("“%(name)s” is now an admin."),
    "demote": gettext_lazy("“%(name)s” is now a common user."),
}
ORDERINGS = {"quota": "-quota", "used_quota": "-used_quota", "request_count": "-request_count"}


def _groups() -> list[str]:
    ratios = option_json("GroupRatio")
    return sorted(ratios) if isinstance(ratios, dict) else ["default"]


def _actor(request: HttpRequest) -> User:
    # Services compare and log the actor; give them the model instance rather than the lazy wrapper.
    return User.objects.get(pk=request.user.pk)


@require_GET
@admin_required
def user_list_page(request: HttpRequest) -> HttpResponse:
    keyword = request.GET.get("keyword", "").strip()
    order = request.GET.get("order", "")
    users = User.objects.exclude(status=UserStatus.DELETED).order_by(ORDERINGS.get(order, "-id"))
    if keyword:
        match = (
            Q(username__startswith=keyword)
            | Q(email__startswith=keyword)
            | Q(display_name__startswith=keyword)
        )
        users = users.filter(match | Q(pk=int(keyword)) if keyword.isdigit() else match)
    page = paginate(request, users)
    for user in page:
        user.manageable = can_manage(request.user, user)
        user.role_name = ROLE_NAMES.get(user.role, user.role)
    return render(
        request,
        "accounts/user_list.html",
        {"page": page, "keyword": keyword, "order": order, "form": UserCreateForm()},
    )


@require_POST
@admin_required
def user_create_view(request: HttpRequest) -> HttpResponse:
    form = UserCreateForm(request.POST)
    if form.is_valid():
        user = user_admin_create(actor=_actor(request), **form.cleaned_data)
        messages.success(request, _("User “%(name)s” created.") % {"name": user.username})
        return redirect("/user")
    users = User.objects.exclude(status=UserStatus.DELETED).order_by("-id")
    page = paginate(request, users)
    for user in page:
        user.manageable = can_manage(request.user, user)
        user.role_name = ROLE_NAMES.get(user.role, user.role)
    context = {"page": page, "keyword": "", "order": "", "form": form, "open_create": True}
    return render(request, "accounts/user_list.html", context, status=400)


@require_http_methods(["GET", "POST"])
@admin_required
def user_edit_page(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User.objects.exclude(status=UserStatus.DELETED), pk=user_id)
    if not can_manage(request.user, user):
        return render(request, "console/forbidden.html", status=403)
    initial = {
        "username": user.username,
        "display_name": user.display_name,
        "group": user.group,
        "quota": user.quota,
        "email": user.email,
    }
    form = UserEditForm(request.POST or None, initial=initial, user=user, group_choices=_groups())
    if request.method == "POST" and form.is_valid():
        try:
            user_admin_update(actor=_actor(request), user=user, **form.cleaned_data)
        except UserActionError as refused:
            form.add_error(None, str(refused))
        else:
            messages.success(request, _("User “%(name)s” saved.") % {"name": user.username})
            return redirect("/user")
    return render(request, "accounts/user_form.html", {"form": form, "subject": user})


@require_POST
@admin_required
def user_manage_view(request: HttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User, pk=user_id)
    action, name = request.POST.get("action", ""), user.username
    try:
        user_manage(actor=_actor(request), user=user, action=action)
    except UserActionError as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, str(ACTION_DONE.get(action, "")) % {"name": name})
    back = request.POST.get("back", "")
    return redirect(back if back.startswith("/user") else "/user")
