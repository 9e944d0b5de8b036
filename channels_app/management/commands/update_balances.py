"""``manage.py update_balances``: the periodic balance update on demand."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from channels_app.balance import channel_balances_update_all
from channels_app.models import Channel


class Command(BaseCommand):
    help = (
        "Ask the provider of every enabled channel with a balance endpoint for its remaining credit and store it. "
        "A provider that answers garbage or not at all leaves the stored balance as it was. Exits 1 if any failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--channel",
            type=int,
            action="append",
            dest="channels",
            metavar="ID",
            help="update only this channel (repeatable; also disabled channels)",
        )

    def handle(self, *args, channels: list[int] | None, **options) -> None:
        summary = channel_balances_update_all(channel_ids=channels, progress=self._progress)
        self.stdout.write(f"summary: {summary.text()}")
        if summary.unknown:
            raise CommandError(f"{len(summary.unknown)} balance(s) could not be read")

    def _progress(self, channel: Channel, balance: float | None, error: str) -> None:
        head = f"#{channel.pk} {channel.name}"
        if error:
            self.stdout.write(self.style.ERROR(f"{head}: unknown ({error})"))
        else:
            self.stdout.write(self.style.SUCCESS(f"{head}: {balance:.2f}"))
