"""Password input shared by ``reset_password`` and ``create_admin``: --password, or asked twice on a TTY."""

from __future__ import annotations

import getpass
import sys

from django.core.management.base import CommandError

MIN_LENGTH, MAX_LENGTH = 8, 20  # the original's rule for passwords


def password_from(given: str | None) -> str:
    if given is None:
        if not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password on: pass --password")
        given = getpass.getpass("New password: ")
        if getpass.getpass("Again: ") != given:
            raise CommandError("the two passwords differ")
    if not MIN_LENGTH <= len(given) <= MAX_LENGTH:
        raise CommandError(f"the password must be {MIN_LENGTH} to {MAX_LENGTH} characters long")
    return given
