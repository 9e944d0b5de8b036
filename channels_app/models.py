"""Upstream channels and the routing index (abilities) derived from them."""

from __future__ import annotations

import time

from django.db import models


class ChannelStatus(models.IntegerChoices):
    UNKNOWN = 0, "unknown"
    ENABLED = 1, "enabled"
    MANUALLY_DISABLED = 2, "manually disabled"
    AUTO_DISABLED = 3, "automatically disabled"


def _now() -> int:
    return int(time.time())


class Channel(models.Model):
    type = models.IntegerField(default=0, db_index=True)
    key = models.TextField(blank=True, default="")
    status = models.IntegerField(choices=ChannelStatus.choices, default=ChannelStatus.ENABLED)
    name = models.CharField(max_length=128, blank=True, default="", db_index=True)
    weight = models.PositiveIntegerField(default=0)
    created_time = models.BigIntegerField(default=_now)
    test_time = models.BigIntegerField(default=0)
    response_time = models.IntegerField(default=0)
    base_url = models.CharField(max_length=512, blank=True, null=True, default="")
    other = models.TextField(blank=True, null=True, default="")
    balance = models.FloatField(default=0)
    balance_updated_time = models.BigIntegerField(default=0)
    model_names = models.TextField(db_column="models", blank=True, default="")
    group = models.CharField(max_length=32, default="default")
    used_quota = models.BigIntegerField(default=0)
    model_mapping = models.CharField(max_length=1024, blank=True, null=True, default="")
    priority = models.BigIntegerField(default=0)
    config = models.TextField(blank=True, default="")
    system_prompt = models.TextField(blank=True, null=True, default="")
    # Not in the original: lets an operator keep a channel out of the periodic "test all" run.
    auto_test_enabled = models.BooleanField(default=True)
    # Not in the original: the model the periodic test asks for (e.g. a chat model on a channel whose first
    # model is dall-e); empty = the channel's first model, as the original.
    test_model = models.CharField(max_length=255, blank=True, null=True, default=None)

    class Meta:
        db_table = "channels"

    def __str__(self) -> str:
        return f"{self.name or 'channel'} (#{self.pk})"

    @property
    def models_list(self) -> list[str]:
        return [m.strip() for m in self.model_names.split(",") if m.strip()]

    @property
    def groups_list(self) -> list[str]:
        return [g.strip() for g in self.group.split(",") if g.strip()]


class Ability(models.Model):
    """One row per (group, model, channel): the routing index. Rebuilt by ``ability_sync_for_channel``."""

    group = models.CharField(max_length=32)
    model = models.CharField(max_length=255)
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, db_constraint=False, related_name="abilities"
    )
    enabled = models.BooleanField(default=True)
    priority = models.BigIntegerField(default=0, db_index=True)

    class Meta:
        db_table = "abilities"
        constraints = [models.UniqueConstraint(fields=["group", "model", "channel"], name="uniq_ability")]
        indexes = [models.Index(fields=["group", "model", "enabled"], name="idx_ability_route")]
        verbose_name_plural = "abilities"

    def __str__(self) -> str:
        return f"{self.group}/{self.model} → #{self.channel_id}"
