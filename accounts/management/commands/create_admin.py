"""``manage.py create_admin USERNAME [--root] [--password P]``: create an admin (or root) account."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from accounts.management.commands._password import password_from
from accounts.models import Role, User
from accounts.services import user_create


class Command(BaseCommand):
    help = (
        "Create an administrator (role 10), or with --root a root user (role 100), with its default API key."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--root", action="store_true", help="role root (100) instead of admin (10)")
        parser.add_argument("--password", help="8-20 characters; asked for twice on the terminal if omitted")
        parser.add_argument("--email", default="", help="e-mail address (notifications go there)")

    def handle(self, *args, username: str, root: bool, password: str | None, email: str, **options) -> None:
        if not 1 <= len(username) <= 12:
            raise CommandError("the username must be 1 to 12 characters long")  # the original's limit
        if User.objects.filter(username=username).exists():
            raise CommandError(f"a user named {username!r} exists already (use reset_password to change it)")
        role = Role.ROOT if root else Role.ADMIN
        user = user_create(username=username, password=password_from(password), role=role, email=email)
        self.stdout.write(
            self.style.SUCCESS(f"summary: {Role(role).label} {username!r} created as user #{user.pk}")
        )
