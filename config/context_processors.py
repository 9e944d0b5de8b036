from __future__ import annotations

from django.conf import settings

from config.options import option_str


def site(request) -> dict:
    return {
        "system_name": option_str("SystemName"),
        "logo": option_str("Logo"),
        "footer_html": option_str("Footer"),
        "notice": option_str("Notice"),
        "theme": settings.THEME,
        "version": settings.VERSION,
    }
