"""Console forms for accounts: sign-in, registration, API keys, profile and the admin's user editor.

Limits follow the original (username ≤ 12 characters, password 8–20, key name ≤ 30) so accounts created here
also pass the original's API validation.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User

USERNAME_MAX = 12
PASSWORD_MIN, PASSWORD_MAX = 8, 20
TOKEN_NAME_MAX = 30


def _password_field(label=None, required: bool = True) -> forms.CharField:
    return forms.CharField(
        label=label or _("Password"),
        min_length=PASSWORD_MIN,
        max_length=PASSWORD_MAX,
        required=required,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username or e-mail"), max_length=64, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(label=_("Password"), max_length=128, strip=False, widget=forms.PasswordInput)


class RegisterForm(forms.Form):
    username = forms.CharField(
        label=_("Username"), max_length=USERNAME_MAX, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = _password_field()
    password2 = _password_field(_("Repeat password"))
    email = forms.EmailField(label=_("E-mail"), max_length=50, required=False)
    verification_code = forms.CharField(label=_("Verification code"), max_length=16, required=False)
    aff_code = forms.CharField(max_length=32, required=False, widget=forms.HiddenInput)

    def __init__(self, *args, email_required: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email_required = email_required
        if email_required:
            self.fields["email"].required = True
            self.fields["verification_code"].required = True
        else:
            del self.fields["email"], self.fields["verification_code"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise forms.ValidationError(_("Use letters, digits, '.', '-' and '_' only."))
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username

    def clean(self):
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("The two passwords differ."))
        return data


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=TOKEN_NAME_MAX)
    never_expires = forms.BooleanField(label=_("Never expires"), required=False, initial=True)
    expired_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    unlimited_quota = forms.BooleanField(label=_("Unlimited quota"), required=False)
    remain_quota = forms.IntegerField(label=_("Quota"), min_value=0, initial=500_000, required=False)
    allowed_models = forms.MultipleChoiceField(
        label=_("Allowed models"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every model your group may use."),
    )
    subnet = forms.CharField(
        label=_("Allowed IP ranges"),
        required=False,
        max_length=1024,
        help_text=_("Comma-separated CIDRs, e.g. 10.0.0.0/8,192.168.1.5/32. Empty: any address."),
    )

    def __init__(self, *args, model_choices: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["allowed_models"].choices = [(m, m) for m in model_choices]

    def clean_allowed_models(self) -> list[str]:
        return list(self.cleaned_data["allowed_models"])

    def clean_subnet(self) -> str:
        ranges = [part.strip() for part in self.cleaned_data["subnet"].split(",") if part.strip()]
        for part in ranges:
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise forms.ValidationError(
                    _("%(value)s is not an IP range (CIDR)."), params={"value": part}
                ) from None
        return ",".join(ranges)

    def clean(self):
        data = super().clean()
        if not data.get("never_expires"):
            moment: datetime | None = data.get("expired_at")
            if moment is None:
                self.add_error("expired_at", _("Pick an expiry time or tick “Never expires”."))
            elif moment <= timezone.now():
                self.add_error("expired_at", _("The expiry time must be in the future."))
        if not data.get("unlimited_quota") and data.get("remain_quota") is None:
            self.add_error("remain_quota", _("Enter a quota or tick “Unlimited quota”."))
        return data

    def expired_time(self) -> int:
        data = self.cleaned_data
        return -1 if data["never_expires"] else int(data["expired_at"].timestamp())


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=20, required=False)
    password = _password_field(_("New password"), required=False)
    password2 = _password_field(_("Repeat new password"), required=False)

    def clean(self):
        data = super().clean()
        if (data.get("password") or "") != (data.get("password2") or ""):
            self.add_error("password2", _("The two passwords differ."))
        return data


class UserCreateForm(forms.Form):
    username = RegisterForm.base_fields["username"]
    display_name = forms.CharField(label=_("Display name"), max_length=20, required=False)
    password = _password_field()

    clean_username = RegisterForm.clean_username


class UserEditForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=USERNAME_MAX)
    display_name = forms.CharField(label=_("Display name"), max_length=20, required=False)
    password = _password_field(_("New password"), required=False)
    group = forms.CharField(label=_("Group"), max_length=32)
    quota = forms.IntegerField(label=_("Quota"), help_text=_("In quota units (QuotaPerUnit per US$1)."))
    email = forms.EmailField(label=_("E-mail"), max_length=50, required=False)

    def __init__(self, *args, user: User, group_choices: list[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if group_choices:
            choices = dict.fromkeys([*group_choices, user.group])
            self.fields["group"] = forms.ChoiceField(label=_("Group"), choices=[(g, g) for g in choices])

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username=username).exclude(pk=self.user.pk).exists():
            raise forms.ValidationError(_("This username is taken."))
        return username


ROLE_NAMES = {Role.COMMON: _("Common user"), Role.ADMIN: _("Admin"), Role.ROOT: _("Root")}
