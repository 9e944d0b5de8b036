from django.contrib import admin

from config.models import Option
from config.options import is_secret_option, options_changed


@admin.register(Option)
class OptionAdmin(admin.ModelAdmin):
    list_display = ("key", "shown_value")
    search_fields = ("key",)

    @admin.display(description="value")
    def shown_value(self, obj: Option) -> str:
        return "••••••" if is_secret_option(obj.key) else obj.value[:120]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        options_changed()
