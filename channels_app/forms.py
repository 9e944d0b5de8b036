"""The channel editor: one form whose extra fields follow the channel type (spec §4 adaptor notes).

Type-specific settings are stored in ``channels.config`` (JSON) under the original's names. The key is write-
only when editing: an empty key field keeps the stored one.
"""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from channels_app.models import Channel

# Which config fields each channel type shows (config JSON key -> (label, types)).
CONFIG_FIELDS: dict[str, tuple[str, tuple[int, ...]]] = {
    "api_version": (_("API version"), (3, 18, 24)),
    "region": (_("Region"), (33, 42)),
    "ak": (_("Access key ID"), (33,)),
    "sk": (_("Secret access key"), (33,)),
    "user_id": (_("Account / user ID"), (34, 37)),
    "library_id": (_("Knowledge library ID"), (21,)),
    "plugin": (_("Plugin parameter"), (17,)),
    "vertex_ai_project_id": (_("Project ID"), (42,)),
    "vertex_ai_adc": (_("Service account JSON"), (42,)),
}

# What goes in the key field, for the types whose key is not a single bearer token.
KEY_HINTS: dict[int, str] = {
    3: "Azure OpenAI resource key",
    14: "sk-ant-…",
    15: "APIKey|SecretKey",
    16: "id.secret",
    18: "APPID|APISecret|APIKey",
    23: "AppId|SecretId|SecretKey",
    24: "AIza…",
    33: "AK|SK|Region",
    34: "pat_… (Coze personal access token)",
    37: "Cloudflare API token",
    42: "Region|ProjectID|ADC JSON",
    43: "sent as-is in Authorization",
}
# Types whose upstream address the operator must give (no default).
NEEDS_BASE_URL = {3, 8, 43, 50}


def channel_type_rows() -> list[dict]:
    """[{id, name, base_url, models}] for the type picker; empty if the relay's table is unavailable."""
    try:
        from relay.channel_types import CHANNEL_TYPES
    except ImportError:  # pragma: no cover - the relay ships the table
        return [{"id": 1, "name": "OpenAI", "base_url": "https://api.openai.com", "models": []}]
    return [
        {"id": row.id, "name": row.name, "base_url": row.base_url, "models": list(row.models)}
        for row in sorted(CHANNEL_TYPES.values(), key=lambda row: row.id)
        if row.id != 0
    ]


def _names(text: str) -> list[str]:
    return list(dict.fromkeys(part.strip() for part in text.replace("\n", ",").split(",") if part.strip()))


class ChannelForm(forms.Form):
    type = forms.TypedChoiceField(label=_("Type"), coerce=int, initial=1)
    name = forms.CharField(label=_("Name"), max_length=128)
    base_url = forms.URLField(label=_("Base URL"), required=False, max_length=512, assume_scheme="https")
    key = forms.CharField(label=_("Key"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    batch = forms.BooleanField(label=_("Batch: one channel per line of the key field"), required=False)
    models = forms.CharField(
        label=_("Models"), widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Comma- or line-separated.")
    )
    groups = forms.MultipleChoiceField(label=_("Groups"), widget=forms.CheckboxSelectMultiple)
    model_mapping = forms.CharField(
        label=_("Model mapping"),
        required=False,
        max_length=1024,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"gpt-3.5-turbo": "gpt-35-turbo"}'}),
        help_text=_('JSON object: requested model → upstream model, e.g. {"gpt-4": "gpt-4o"}.'),
    )
    system_prompt = forms.CharField(
        label=_("System prompt"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Replaces (or adds) the system message of every request sent to this channel."),
    )
    priority = forms.IntegerField(label=_("Priority"), initial=0, help_text=_("Higher is tried first."))
    weight = forms.IntegerField(label=_("Weight"), initial=0, min_value=0)
    auto_test_enabled = forms.BooleanField(
        label=_("Include in automatic tests"), required=False, initial=True
    )

    def __init__(self, *args, channel: Channel | None = None, group_choices: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.channel = channel
        self.fields["type"].choices = [
            (row["id"], f"{row['name']} ({row['id']})") for row in channel_type_rows()
        ]
        groups = list(dict.fromkeys([*group_choices, *(channel.groups_list if channel else [])])) or [
            "default"
        ]
        self.fields["groups"].choices = [(g, g) for g in groups]
        for name, (label, types) in CONFIG_FIELDS.items():
            widget = forms.Textarea(attrs={"rows": 3}) if name == "vertex_ai_adc" else forms.TextInput
            self.fields[f"config_{name}"] = forms.CharField(label=label, required=False, widget=widget)
            self.fields[f"config_{name}"].config_types = ",".join(map(str, types))
        if channel is not None:
            del self.fields["batch"]
            self.fields["key"].help_text = _("Leave empty to keep the stored key.")
        else:
            self.fields["key"].required = True

    def clean_models(self) -> str:
        names = _names(self.cleaned_data["models"])
        if not names:
            raise forms.ValidationError(_("List at least one model."))
        return ",".join(names)

    def clean_model_mapping(self) -> str:
        text = self.cleaned_data["model_mapping"].strip()
        if not text:
            return ""
        try:
            mapping = json.loads(text)
        except ValueError as exc:
            raise forms.ValidationError(_("Not valid JSON: %(error)s"), params={"error": exc}) from None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise forms.ValidationError(_('Use a JSON object of strings, like {"from": "to"}.'))
        return json.dumps(mapping, ensure_ascii=False)

    def clean_config_vertex_ai_adc(self) -> str:
        text = self.cleaned_data["config_vertex_ai_adc"].strip()
        if text:
            try:
                json.loads(text)
            except ValueError:
                raise forms.ValidationError(_("Paste the service account key file (JSON).")) from None
        return text

    def clean(self):
        data = super().clean()
        if data.get("type") in NEEDS_BASE_URL and not data.get("base_url"):
            self.add_error("base_url", _("This channel type needs the upstream address."))
        return data

    def keys(self) -> list[str]:
        """The keys to create channels for: one, or one per non-empty line in batch mode."""
        key = self.cleaned_data["key"].strip()
        if self.cleaned_data.get("batch"):
            return [line.strip() for line in key.splitlines() if line.strip()]
        return [key] if key else []

    def channel_fields(self) -> dict:
        data = self.cleaned_data
        config = {
            name: data[f"config_{name}"].strip() for name in CONFIG_FIELDS if data[f"config_{name}"].strip()
        }
        return {
            "type": data["type"],
            "name": data["name"].strip(),
            "base_url": data["base_url"].rstrip("/"),
            "model_names": data["models"],
            "group": ",".join(data["groups"]),
            "model_mapping": data["model_mapping"],
            "system_prompt": data["system_prompt"],
            "priority": data["priority"],
            "weight": data["weight"],
            "auto_test_enabled": data["auto_test_enabled"],
            "config": json.dumps(config, ensure_ascii=False) if config else "",
        }

    @staticmethod
    def initial_for(channel: Channel) -> dict:
        try:
            config = json.loads(channel.config or "{}")
        except ValueError:
            config = {}
        return {
            "type": channel.type,
            "name": channel.name,
            "base_url": channel.base_url or "",
            "models": channel.model_names,
            "groups": channel.groups_list,
            "model_mapping": channel.model_mapping or "",
            "system_prompt": channel.system_prompt or "",
            "priority": channel.priority,
            "weight": channel.weight,
            "auto_test_enabled": channel.auto_test_enabled,
            **{f"config_{name}": str(config.get(name, "")) for name in CONFIG_FIELDS},
            # Older rows keep the API version in the legacy ``other`` column.
            "config_api_version": str(config.get("api_version") or channel.other or ""),
        }


class ChannelInlineForm(forms.Form):
    """Priority and weight edited from the channel list."""

    priority = forms.IntegerField(label=_("Priority"))
    weight = forms.IntegerField(label=_("Weight"), min_value=0)
