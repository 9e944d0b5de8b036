"""The whole gateway (config.asgi.application) on a loopback port, for tests outside tests/relay."""

from __future__ import annotations

import asyncio
import os
import threading

from tests.fakes.server import ServerThread


class GatewayThread:
    def __init__(self) -> None:
        from config.asgi import application

        self._loops: list[asyncio.AbstractEventLoop] = []

        async def app(scope, receive, send) -> None:
            self._loops[:] = [asyncio.get_running_loop()]
            await application(scope, receive, send)

        self.server = ServerThread(app)

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> GatewayThread:
        self.server.start()
        return self

    def stop(self) -> None:
        """Close this loop's pooled upstream client and session (only this one: other test servers keep
        theirs) and the database connections its worker threads hold (PostgreSQL will not drop a database
        with open sessions), then stop."""
        from billing.services import quota_writer_close_db
        from relay import http

        for loop in self._loops:
            asyncio.run_coroutine_threadsafe(http.upstream_clients_close(), loop).result(timeout=10)
            _close_executor_connections(loop)
        quota_writer_close_db()
        self.server.stop()


def _close_executor_connections(loop: asyncio.AbstractEventLoop) -> None:
    """Run ``connections.close_all()`` once on every thread of the loop's default executor (where the relay's
    ``sync_to_async(thread_sensitive=False)`` work runs). uvloop hides the executor, so submit as many calls as
    it can have threads, each holding a barrier until all are running: one per thread."""
    from django.db import connections

    workers = min(32, (os.cpu_count() or 1) + 4)  # ThreadPoolExecutor's default size
    barrier = threading.Barrier(workers, timeout=5)

    def close() -> None:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        connections.close_all()

    async def close_everywhere() -> None:
        running = asyncio.get_running_loop()
        await asyncio.gather(*(running.run_in_executor(None, close) for _ in range(workers)))

    asyncio.run_coroutine_threadsafe(close_everywhere(), loop).result(timeout=15)
