"""``manage.py test_channels``: the periodic "test all" on demand, printing each channel's result."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from channels_app.testing import SCOPES, ChannelTestOutcome, channels_test_all


class Command(BaseCommand):
    help = (
        "Test channels now with one small chat request each (never billed), disabling and re-enabling them as "
        "the AutomaticDisable/EnableChannelEnabled options say. Exits 1 if any test failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--scope", choices=SCOPES, default="all", help="all channels or only disabled ones"
        )
        parser.add_argument(
            "--channel",
            type=int,
            action="append",
            dest="channels",
            metavar="ID",
            help="test only this channel (repeatable; also channels that opted out of automatic tests)",
        )
        parser.add_argument(
            "--no-notify", action="store_true", help="do not send the 'finished' notification"
        )

    def handle(self, *args, scope: str, channels: list[int] | None, no_notify: bool, **options) -> None:
        summary = channels_test_all(
            scope=scope, manual=not no_notify, channel_ids=channels, progress=self._progress
        )
        if summary.already_running:
            raise CommandError("another channel test run is in progress; try again when it has finished")
        if channels and len(summary.outcomes) < len(set(channels)):
            missing = sorted(set(channels) - {o.channel_id for o in summary.outcomes})
            self.stderr.write(f"no such channel: {', '.join(f'#{pk}' for pk in missing)}")
        for pk in summary.skipped:
            self.stdout.write(f"#{pk}: skipped (automatic tests are off for this channel)")
        self.stdout.write(f"summary: {summary.text()}")
        if summary.failed or (channels and len(summary.outcomes) < len(set(channels))):
            raise CommandError(f"{summary.failed} channel test(s) failed")

    def _progress(self, outcome: ChannelTestOutcome) -> None:
        head = f"#{outcome.channel_id} {outcome.name} [{outcome.model or '-'}]"
        if outcome.success:
            line = self.style.SUCCESS(f"{head}: ok in {outcome.time_s:.2f} s")
        else:
            line = self.style.ERROR(f"{head}: FAILED after {outcome.time_s:.2f} s: {outcome.message}")
        if outcome.action:
            line += f" -> {outcome.action}"
        self.stdout.write(line)
