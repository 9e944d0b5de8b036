from __future__ import annotations

import time

from django.db import models


class RedemptionStatus(models.IntegerChoices):
    ENABLED = 1, "enabled"
    DISABLED = 2, "disabled"
    USED = 3, "used"


def _now() -> int:
    return int(time.time())


class Redemption(models.Model):
    user_id = models.IntegerField(default=0)  # the admin who created it
    key = models.CharField(max_length=32, unique=True)
    status = models.IntegerField(choices=RedemptionStatus.choices, default=RedemptionStatus.ENABLED)
    name = models.CharField(max_length=64, blank=True, default="", db_index=True)
    quota = models.BigIntegerField(default=100)
    created_time = models.BigIntegerField(default=_now)
    redeemed_time = models.BigIntegerField(default=0)
    used_user_id = models.IntegerField(default=0)

    class Meta:
        db_table = "redemptions"

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"
