"""Invalidate the relay's cached routing table on every node when channels or abilities change."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from channels_app.models import Ability, Channel
from config import cache_versions


@receiver([post_save, post_delete], sender=Channel)
@receiver([post_save, post_delete], sender=Ability)
def _channels_changed(sender, **kwargs) -> None:
    # After the commit: other nodes must not reload before they can see the change.
    cache_versions.bump_on_commit(cache_versions.CHANNELS, using=kwargs.get("using"))
