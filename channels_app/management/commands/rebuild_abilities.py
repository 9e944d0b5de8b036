"""``manage.py rebuild_abilities``: rebuild the routing index (abilities) from the channels table."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from channels_app.models import Ability, Channel
from channels_app.services import abilities_rebuild_all


class Command(BaseCommand):
    help = "Delete and rebuild every ability row from the channels' models, groups, status and priority."

    def handle(self, *args, **options) -> None:
        before = Ability.objects.count()
        self.stdout.write(f"rebuilding abilities of {Channel.objects.count()} channel(s) ({before} rows now)")
        rows = abilities_rebuild_all()
        self.stdout.write(self.style.SUCCESS(f"summary: {rows} ability rows written (was {before})"))
