"""Root's system settings (spec §5), one form per group, built from the option defaults.

Secrets (names ending Secret/SecretKey/Token) are write-only: the field is always empty, and leaving it empty
keeps the stored value. Switching a sign-in method on needs its settings first, as in the original.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from config.options import BOOL_DEFAULTS, INT_DEFAULTS, is_secret_option, option_str

# slug -> (tab title, keys). The page title is the tab title; labels below say what each key does.
OPTION_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "general": (
        _("Site"),
        ("SystemName", "Logo", "ServerAddress", "Theme", "Notice", "Footer", "About", "HomePageContent"),
    ),
    "login": (
        _("Sign-in"),
        (
            "PasswordLoginEnabled", "PasswordRegisterEnabled", "RegisterEnabled", "EmailVerificationEnabled",
            "EmailDomainRestrictionEnabled", "EmailDomainWhitelist", "TurnstileCheckEnabled", "TurnstileSiteKey",
            "TurnstileSecretKey",
        ),
    ),
    "oauth": (
        _("OAuth & WeChat"),
        (
            "GitHubOAuthEnabled", "GitHubClientId", "GitHubClientSecret", "LarkClientId", "LarkClientSecret",
            "OidcEnabled", "OidcClientId", "OidcClientSecret", "OidcWellKnown", "OidcAuthorizationEndpoint",
            "OidcTokenEndpoint", "OidcUserinfoEndpoint", "WeChatAuthEnabled", "WeChatServerAddress",
            "WeChatServerToken", "WeChatAccountQRCodeImageURL",
        ),
    ),
    "smtp": (_("E-mail"), ("SMTPServer", "SMTPPort", "SMTPAccount", "SMTPFrom", "SMTPToken")),
    "quota": (
        _("Quota"),
        (
            "QuotaPerUnit", "DisplayInCurrencyEnabled", "DisplayTokenStatEnabled", "QuotaForNewUser",
            "QuotaForInviter", "QuotaForInvitee", "PreConsumedQuota", "QuotaRemindThreshold", "TopUpLink",
            "ChatLink", "ApproximateTokenEnabled",
        ),
    ),
    "operation": (
        _("Operation"),
        (
            "RetryTimes", "ChannelDisableThreshold", "AutomaticDisableChannelEnabled",
            "AutomaticEnableChannelEnabled", "LogConsumeEnabled", "LogRetentionDays", "MessagePusherAddress",
            "MessagePusherToken", "MetricsToken",
        ),
    ),
}  # fmt: skip

LABELS = {
    "SystemName": _("System name"),
    "Logo": _("Logo URL"),
    "ServerAddress": _("Server address"),
    "Theme": _("Theme"),
    "Notice": _("Notice banner"),
    "Footer": _("Footer"),
    "About": _("About page"),
    "HomePageContent": _("Home page content"),
    "PasswordLoginEnabled": _("Allow password sign-in"),
    "PasswordRegisterEnabled": _("Allow registration with a password"),
    "RegisterEnabled": _("Allow new registrations"),
    "EmailVerificationEnabled": _("Require a verified e-mail to register"),
    "EmailDomainRestrictionEnabled": _("Only allow whitelisted e-mail domains"),
    "EmailDomainWhitelist": _("E-mail domain whitelist"),
    "TurnstileCheckEnabled": _("Cloudflare Turnstile check"),
    "TurnstileSiteKey": _("Turnstile site key"),
    "TurnstileSecretKey": _("Turnstile secret key"),
    "GitHubOAuthEnabled": _("GitHub sign-in"),
    "GitHubClientId": _("GitHub client ID"),
    "GitHubClientSecret": _("GitHub client secret"),
    "LarkClientId": _("Feishu / Lark app ID"),
    "LarkClientSecret": _("Feishu / Lark app secret"),
    "OidcEnabled": _("OpenID Connect sign-in"),
    "OidcClientId": _("OIDC client ID"),
    "OidcClientSecret": _("OIDC client secret"),
    "OidcWellKnown": _("OIDC discovery URL (.well-known)"),
    "OidcAuthorizationEndpoint": _("OIDC authorization endpoint"),
    "OidcTokenEndpoint": _("OIDC token endpoint"),
    "OidcUserinfoEndpoint": _("OIDC user-info endpoint"),
    "WeChatAuthEnabled": _("WeChat sign-in"),
    "WeChatServerAddress": _("WeChat Server address"),
    "WeChatServerToken": _("WeChat Server token"),
    "WeChatAccountQRCodeImageURL": _("WeChat account QR code image URL"),
    "SMTPServer": _("SMTP server"),
    "SMTPPort": _("SMTP port"),
    "SMTPAccount": _("SMTP account"),
    "SMTPFrom": _("Sender address"),
    "SMTPToken": _("SMTP password / token"),
    "QuotaPerUnit": _("Quota per US$1"),
    "DisplayInCurrencyEnabled": _("Show quotas in US dollars"),
    "DisplayTokenStatEnabled": _("Billing API reports the key's own quota"),
    "QuotaForNewUser": _("Quota for new users"),
    "QuotaForInviter": _("Reward for the inviter"),
    "QuotaForInvitee": _("Reward for the invited user"),
    "PreConsumedQuota": _("Quota reserved per request"),
    "QuotaRemindThreshold": _("Low-quota reminder threshold"),
    "TopUpLink": _("Top-up (payment) link"),
    "ChatLink": _("Chat page link"),
    "ApproximateTokenEnabled": _("Approximate token counting (faster)"),
    "RetryTimes": _("Retries on upstream failure"),
    "ChannelDisableThreshold": _("Slow-channel threshold (seconds)"),
    "AutomaticDisableChannelEnabled": _("Disable failing channels automatically"),
    "AutomaticEnableChannelEnabled": _("Re-enable channels that pass a test"),
    "LogConsumeEnabled": _("Record usage logs"),
    "LogRetentionDays": _("Keep logs for (days)"),
    "MessagePusherAddress": _("Message Pusher address"),
    "MessagePusherToken": _("Message Pusher token"),
    "MetricsToken": _("Metrics bearer token"),
}
LONG_TEXT = {"Notice", "About", "HomePageContent", "Footer", "EmailDomainWhitelist"}
HELP = {
    "HomePageContent": _("Markdown or HTML; a URL (https://…) shows that page in a frame."),
    "About": _("Markdown or HTML; a URL shows that page in a frame."),
    "Notice": _("Markdown; shown as a banner on every page."),
    "Footer": _("HTML shown at the bottom of every page."),
    "QuotaPerUnit": _("Quota units per US$1 (500000 = the original's rate)."),
    "ServerAddress": _("The address users reach this site at; used in e-mails and OAuth callbacks."),
    "LogRetentionDays": _("Delete logs older than this many days; 0 keeps them forever."),
}
# Switching these on needs the listed settings (submitted now or already stored).
ENABLE_NEEDS = {
    "GitHubOAuthEnabled": ("GitHubClientId", "GitHubClientSecret"),
    "OidcEnabled": ("OidcClientId", "OidcClientSecret"),
    "WeChatAuthEnabled": ("WeChatServerAddress",),
    "TurnstileCheckEnabled": ("TurnstileSiteKey", "TurnstileSecretKey"),
    "EmailDomainRestrictionEnabled": ("EmailDomainWhitelist",),
    "EmailVerificationEnabled": ("SMTPServer",),
}
THEMES = [("default", "default"), ("berry", "berry"), ("air", "air")]


def _field(key: str) -> forms.Field:
    field = _plain_field(key, LABELS.get(key, key), HELP.get(key, ""))
    field.option_key = key  # shown next to the label: the name the API and the original use
    return field


def _plain_field(key: str, label, help_text) -> forms.Field:
    if key in BOOL_DEFAULTS:
        return forms.BooleanField(label=label, required=False, help_text=help_text)
    if key in INT_DEFAULTS:
        return forms.IntegerField(label=label, min_value=0, help_text=help_text)
    if key == "Theme":
        return forms.ChoiceField(label=label, choices=THEMES)
    if is_secret_option(key):
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})
        help_text = _("Write-only: leave empty to keep the stored value.")
        return forms.CharField(label=label, required=False, widget=widget, help_text=help_text)
    widget = forms.Textarea(attrs={"rows": 4}) if key in LONG_TEXT else forms.TextInput
    return forms.CharField(label=label, required=False, widget=widget, help_text=help_text, strip=False)


def option_text(key: str, value) -> str:
    if key in BOOL_DEFAULTS:
        return "true" if value else "false"
    return str(value)


class OptionGroupForm(forms.Form):
    def __init__(self, group: str, *args, **kwargs) -> None:
        self.group = group
        self.title, keys = OPTION_GROUPS[group]
        initial = {}
        for key in keys:
            raw = option_str(key)
            if key in BOOL_DEFAULTS:
                initial[key] = raw.strip().lower() == "true"
            elif not is_secret_option(key):
                initial[key] = raw
        super().__init__(*args, initial=initial, prefix=group, **kwargs)
        for key in keys:
            self.fields[key] = _field(key)

    def clean(self):
        data = super().clean()
        for key, needs in ENABLE_NEEDS.items():
            if key in self.fields and data.get(key) and not option_str(key) == "true":
                missing = [n for n in needs if not (data.get(n) or option_str(n)).strip()]
                if missing:
                    self.add_error(key, _("Fill in %(names)s first.") % {"names": ", ".join(missing)})
        return data

    def changes(self) -> dict[str, str]:
        """Options whose text differs from what is stored; empty secrets are "no change"."""
        changed = {}
        for key, value in self.cleaned_data.items():
            if is_secret_option(key) and not value:
                continue
            text = option_text(key, value)
            if text != option_str(key):
                changed[key] = text
        return changed
