from __future__ import annotations

from django.conf import settings

from config.options import option_bool, option_int, option_str

THEMES = ("default", "berry", "air")


def site(request) -> dict:
    theme = option_str("Theme") or settings.THEME
    return {
        "system_name": option_str("SystemName"),
        "logo": option_str("Logo"),
        "footer_html": option_str("Footer"),
        "notice": option_str("Notice"),
        "chat_link": option_str("ChatLink"),
        "theme": theme if theme in THEMES else "default",
        "version": settings.VERSION,
        "quota_per_unit": option_int("QuotaPerUnit") or 500_000,
        "display_in_currency": option_bool("DisplayInCurrencyEnabled"),
    }
