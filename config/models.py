from __future__ import annotations

from django.db import models


class Option(models.Model):
    """A site setting, stored as text like the original (``"true"``/``"false"`` for booleans)."""

    key = models.CharField(max_length=128, primary_key=True)
    value = models.TextField(blank=True, default="")

    class Meta:
        db_table = "options"

    def __str__(self) -> str:
        return self.key
