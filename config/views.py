"""Public, site-wide endpoints: status, notice/about/home content, the home page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import root_uses_default_password
from config.options import option_str
from config.selectors import public_status


def envelope(data=None, *, success: bool = True, message: str = "", status: int = 200) -> JsonResponse:
    """The original's ``{success, message, data}`` response."""
    return JsonResponse(
        {"success": success, "message": message, "data": data},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def status_api(request: HttpRequest) -> JsonResponse:
    return envelope(public_status())


def _option_api(key: str):
    @require_GET
    def view(request: HttpRequest) -> JsonResponse:
        return envelope(option_str(key))

    view.__name__ = f"{key[0].lower()}{key[1:]}_api"
    return view


notice_api = _option_api("Notice")
about_api = _option_api("About")
home_page_content_api = _option_api("HomePageContent")


@require_GET
def home_page(request: HttpRequest) -> HttpResponse:
    content = option_str("HomePageContent")
    return render(
        request,
        "home.html",
        {
            "home_content": content,
            "home_is_url": content.startswith(("http://", "https://")),
            "default_password_warning": root_uses_default_password(),
        },
    )
