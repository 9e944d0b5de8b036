"""Prepare a node to serve: migrate (master only), create root on an empty database. Idempotent."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from accounts.selectors import root_uses_default_password
from accounts.services import root_bootstrap

logger = logging.getLogger("one_api.bootstrap")


class Command(BaseCommand):
    help = "Migrate the database (master nodes only) and create the root account if there is none."

    def handle(self, *args, **options) -> None:
        if settings.IS_MASTER_NODE:
            for alias in settings.DATABASES:
                call_command("migrate", database=alias, interactive=False, verbosity=0)
            self.stdout.write("database migrated")
        else:
            self.stdout.write("slave node: migrations skipped")
        created = root_bootstrap(
            initial_token=settings.INITIAL_ROOT_TOKEN,
            initial_access_token=settings.INITIAL_ROOT_ACCESS_TOKEN,
        )
        if created:
            self.stdout.write("root account created: username root, password 123456")
        if root_uses_default_password(max_age_s=0):
            logger.warning("root still uses the default password 123456: change it now at /user or /admin/")
            self.stdout.write(self.style.WARNING("WARNING: root still uses the default password 123456"))
