"""Invalidate the relay's cached keys and users on every node when either changes."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Token, User
from config import cache_versions


@receiver([post_save, post_delete], sender=User)
@receiver([post_save, post_delete], sender=Token)
def _auth_changed(sender, **kwargs) -> None:
    cache_versions.bump(cache_versions.AUTH)
