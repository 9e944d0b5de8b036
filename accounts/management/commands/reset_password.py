"""``manage.py reset_password USERNAME [--password P]``: set a user's password (asked twice if not given)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._password import password_from
from accounts.models import User


class Command(BaseCommand):
    help = "Set a user's password; without --password it is asked for twice on the terminal."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password", help="the new password (8-20 characters); beware of shell history")

    def handle(self, *args, username: str, password: str | None, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"no user named {username!r}")
        user.set_password(password_from(password))
        user.save(update_fields=["password"])
        self.stdout.write(self.style.SUCCESS(f"summary: password of {username!r} (#{user.pk}) changed"))
