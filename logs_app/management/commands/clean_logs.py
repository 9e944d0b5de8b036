"""``manage.py clean_logs [--days N]``: delete old consume and test logs now, in batches."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config.options import option_int
from logs_app.retention import BATCH, logs_delete_expired


class Command(BaseCommand):
    help = (
        "Delete consume (usage) and channel-test logs older than N days (default: the LogRetentionDays option) "
        "in batches, without long table locks. Top-up, management and system logs are kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--days", type=int, default=None, help="keep this many days (default: LogRetentionDays)"
        )
        parser.add_argument("--batch", type=int, default=BATCH, help=f"rows per delete (default {BATCH})")

    def handle(self, *args, days: int | None, batch: int, **options) -> None:
        if days is None:
            days = option_int("LogRetentionDays")
            if days <= 0:
                self.stdout.write("LogRetentionDays is 0 (keep forever) and no --days given: nothing to do")
                return
        if days <= 0:
            raise CommandError("--days must be at least 1")
        if batch <= 0:
            raise CommandError("--batch must be at least 1")
        self.stdout.write(f"deleting consume and test logs older than {days} day(s)")
        total = logs_delete_expired(
            days=days, batch=batch, progress=lambda n: self.stdout.write(f"  {n} deleted so far")
        )
        self.stdout.write(self.style.SUCCESS(f"summary: {total} log(s) deleted"))
