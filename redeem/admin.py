from django.contrib import admin

from redeem.models import Redemption


@admin.register(Redemption)
class RedemptionAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "status", "quota", "created_time", "redeemed_time")
    list_filter = ("status",)
    search_fields = ("name",)
