"""``manage.py import_oneapi --from SQLITE_FILE_OR_DSN [--dry-run]``: move from the original one-api."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from config.importer import ImportFailed, import_oneapi


class Command(BaseCommand):
    help = (
        "Import users (passwords keep working), API keys, channels, options, redemption codes and logs from a "
        "database of the original one-api. Safe to run again: rows are matched by id and only differences are "
        "written. Abilities are rebuilt from the channels."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--from",
            dest="source",
            required=True,
            help="the original's SQLite file (one-api.db), or its SQL_DSN (MySQL user:pass@tcp(host:3306)/db, "
            "mysql://…, postgres://…)",
        )
        parser.add_argument("--dry-run", action="store_true", help="show what would change; write nothing")
        parser.add_argument("--batch-size", type=int, default=1000, help="rows read and written at a time")

    def handle(self, *args, source: str, dry_run: bool, batch_size: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            results = import_oneapi(source=source, dry_run=dry_run, progress=self._progress, batch=batch_size)
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write("")
        verb = "would be" if dry_run else "were"
        self.stdout.write(f"{'table':<12} {'read':>9} {'created':>9} {'updated':>9} {'unchanged':>9}")
        for counts in results:
            line = f"{counts.table:<12} {counts.read:>9} {counts.created:>9} {counts.updated:>9} {counts.unchanged:>9}"
            self.stdout.write(line + (f"  ({counts.note})" if counts.note else ""))
        created = sum(c.created for c in results)
        updated = sum(c.updated for c in results)
        summary = f"{created} rows {verb} created and {updated} {verb} updated"
        if dry_run:
            self.stdout.write(self.style.WARNING(f"dry run: {summary}; nothing was written"))
        else:
            self.stdout.write(self.style.SUCCESS(f"import finished: {summary}; abilities rebuilt"))

    def _progress(self, line: str) -> None:
        self.stdout.write(line)
