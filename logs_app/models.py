from __future__ import annotations

import time

from django.db import models


class LogType(models.IntegerChoices):
    UNKNOWN = 0, "unknown"
    TOPUP = 1, "top-up"
    CONSUME = 2, "consume"
    MANAGE = 3, "manage"
    SYSTEM = 4, "system"
    TEST = 5, "test"


def _now() -> int:
    return int(time.time())


class Log(models.Model):
    user_id = models.IntegerField(default=0, db_index=True)
    created_at = models.BigIntegerField(default=_now)
    type = models.IntegerField(choices=LogType.choices, default=LogType.UNKNOWN)
    content = models.TextField(blank=True, default="")
    username = models.CharField(max_length=64, blank=True, default="")
    token_name = models.CharField(max_length=64, blank=True, default="", db_index=True)
    model_name = models.CharField(max_length=255, blank=True, default="", db_index=True)
    quota = models.BigIntegerField(default=0)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    channel_id = models.IntegerField(default=0, db_index=True)
    request_id = models.CharField(max_length=64, blank=True, default="")
    elapsed_time = models.BigIntegerField(default=0)
    is_stream = models.BooleanField(default=False)
    system_prompt_reset = models.BooleanField(default=False)
    token_id = models.IntegerField(default=0, db_index=True)

    class Meta:
        db_table = "logs"
        indexes = [
            models.Index(fields=["created_at", "type"], name="idx_created_at_type"),
            models.Index(fields=["username", "model_name"], name="index_username_model_name"),
            models.Index(fields=["user_id", "created_at"], name="idx_logs_user_time"),
        ]

    def __str__(self) -> str:
        return f"log #{self.pk} ({self.get_type_display()})"
