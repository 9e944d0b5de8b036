from django.apps import AppConfig


class RedeemConfig(AppConfig):
    name = "redeem"
    verbose_name = "Redemption codes"
