"""ASGI entry point: Django's handler with static files, plus the in-process job scheduler (no broker)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

# Static files are few and small (console CSS/JS); serving them here keeps `make run` a single process.
application = ASGIStaticFilesHandler(get_asgi_application())

from config.scheduler import start_in_process_scheduler  # noqa: E402

start_in_process_scheduler()
