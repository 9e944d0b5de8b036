"""Invalidate the relay's cached keys and users on every node when either changes."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Token, User
from config import cache_versions


@receiver([post_save, post_delete], sender=User)
@receiver([post_save, post_delete], sender=Token)
def _auth_changed(sender, **kwargs) -> None:
    # After the commit: other nodes must not reload before they can see the change.
    cache_versions.bump_on_commit(cache_versions.AUTH, using=kwargs.get("using"))
