"""Reads of site-wide state: the public status document."""

from __future__ import annotations

import time

from django.conf import settings

from config.options import option_bool, option_int, option_str

START_TIME = int(time.time())


def public_status() -> dict:
    """``GET /api/status`` data, field for field as the original."""
    return {
        "version": settings.VERSION,
        "start_time": START_TIME,
        "email_verification": option_bool("EmailVerificationEnabled"),
        "github_oauth": option_bool("GitHubOAuthEnabled"),
        "github_client_id": option_str("GitHubClientId"),
        "lark_client_id": option_str("LarkClientId"),
        "system_name": option_str("SystemName"),
        "logo": option_str("Logo"),
        "footer_html": option_str("Footer"),
        "wechat_qrcode": option_str("WeChatAccountQRCodeImageURL"),
        "wechat_login": option_bool("WeChatAuthEnabled"),
        "server_address": option_str("ServerAddress"),
        "turnstile_check": option_bool("TurnstileCheckEnabled"),
        "turnstile_site_key": option_str("TurnstileSiteKey"),
        "top_up_link": option_str("TopUpLink"),
        "chat_link": option_str("ChatLink"),
        "quota_per_unit": option_int("QuotaPerUnit"),
        "display_in_currency": option_bool("DisplayInCurrencyEnabled"),
        "oidc": option_bool("OidcEnabled"),
        "oidc_client_id": option_str("OidcClientId"),
        "oidc_well_known": option_str("OidcWellKnown"),
        "oidc_authorization_endpoint": option_str("OidcAuthorizationEndpoint"),
        "oidc_token_endpoint": option_str("OidcTokenEndpoint"),
        "oidc_userinfo_endpoint": option_str("OidcUserinfoEndpoint"),
    }
