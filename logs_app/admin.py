from django.contrib import admin

from logs_app.models import Log


@admin.register(Log)
class LogAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "type", "username", "token_name", "model_name", "quota", "channel_id")
    list_filter = ("type",)
    search_fields = ("username", "token_name", "model_name", "content")
    show_full_result_count = False  # COUNT(*) on a million-row table makes every page slow
