from django.contrib import admin

from accounts.models import Token, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = ("id", "username", "display_name", "role", "status", "group", "quota", "used_quota")
    list_filter = ("role", "status", "group")
    search_fields = ("username", "display_name", "email")
    exclude = ("password", "access_token")
    readonly_fields = ("last_login", "used_quota", "request_count")


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "name",
        "user",
        "status",
        "remain_quota",
        "unlimited_quota",
        "used_quota",
        "expired_time",
    )
    list_filter = ("status", "unlimited_quota")
    search_fields = ("name", "user__username")
    raw_id_fields = ("user",)
    exclude = ("key",)
