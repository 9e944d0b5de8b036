from django.contrib import admin

from channels_app.models import Ability, Channel
from channels_app.services import ability_sync_for_channel, channel_delete


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "type", "status", "group", "priority", "weight", "response_time", "balance")
    list_filter = ("type", "status", "group")
    list_editable = ("priority", "weight")
    search_fields = ("name", "model_names")

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        ability_sync_for_channel(obj)

    def delete_model(self, request, obj) -> None:
        channel_delete(obj)


@admin.register(Ability)
class AbilityAdmin(admin.ModelAdmin):
    """Read-only: abilities are derived from channels."""

    list_display = ("group", "model", "channel", "enabled", "priority")
    list_filter = ("enabled", "group")
    search_fields = ("model",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
