"""ASGI entry point.

/v1 (and the OpenAI billing compat routes) go to the relay's lean ASGI app; everything else to Django, with
static files served in-process. Lifespan shutdown flushes queued logs and batched quota so nothing is lost.
"""

from __future__ import annotations

import gc
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.core.asgi import get_asgi_application  # noqa: E402

django_application = ASGIStaticFilesHandler(get_asgi_application())

from config.observability import observe_relay  # noqa: E402
from config.scheduler import start_in_process_scheduler  # noqa: E402
from relay.asgi import handles, relay_application  # noqa: E402


async def _lifespan(receive, send) -> None:
    from asgiref.sync import sync_to_async

    from billing.services import quota_flush_batched
    from logs_app.consume import consume_logs_flush
    from relay.http import upstream_clients_close

    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            from relay.http_io import InFlight

            await InFlight.wait_idle(timeout=30)
            await upstream_clients_close()
            await sync_to_async(quota_flush_batched, thread_sensitive=False)()
            await sync_to_async(consume_logs_flush, thread_sensitive=False)()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def application(scope, receive, send) -> None:
    if scope["type"] == "http" and handles(scope["path"]):
        await observe_relay(relay_application, scope, receive, send)  # one metrics record per request
    elif scope["type"] == "lifespan":
        await _lifespan(receive, send)
    else:
        await django_application(scope, receive, send)


start_in_process_scheduler()


def _freeze_startup_objects() -> None:
    """What is loaded by now (Django, apps, settings, adaptors) lives as long as the process: move it out of
    the garbage collector's reach. A full collection then scans only newer objects; before, each one
    stopped the event loop for ~50 ms."""
    gc.collect()
    gc.freeze()


_freeze_startup_objects()
