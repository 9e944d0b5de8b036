"""``manage.py flush_batched``: write this process's batched quota deltas and queued logs now."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Flush batched quota updates and queued consume logs held by this process. Gateway processes flush their "
        "own every BATCH_UPDATE_INTERVAL seconds and when they shut down (SIGTERM)."
    )

    def handle(self, *args, **options) -> None:
        from billing.services import quota_flush_batched
        from logs_app.consume import consume_logs_flush

        mode = "on" if settings.BATCH_UPDATE_ENABLED else "off"
        self.stdout.write(f"BATCH_UPDATE_ENABLED is {mode}; flushing this process's buffers")
        try:
            rows = quota_flush_batched()
            logs = consume_logs_flush()
        except Exception as exc:
            raise CommandError(f"flush failed: {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"summary: {rows} quota row(s) updated, {logs} log(s) written"))
        if settings.BATCH_UPDATE_ENABLED:
            self.stdout.write(
                f"running gateway nodes write theirs within {settings.BATCH_UPDATE_INTERVAL} s and on shutdown"
            )
