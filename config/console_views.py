"""Site pages of the console that belong to no app: About and the embedded chat (``ChatLink``)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.console import user_required
from config.options import option_str


def _is_url(text: str) -> bool:
    return text.startswith(("http://", "https://"))


@require_GET
def about_page(request: HttpRequest) -> HttpResponse:
    content = option_str("About").strip()
    return render(request, "about.html", {"about": content, "about_is_url": _is_url(content)})


@require_GET
@user_required
def chat_page(request: HttpRequest) -> HttpResponse:
    link = option_str("ChatLink").strip()
    return render(request, "chat.html", {"chat_url": link if _is_url(link) else ""})
