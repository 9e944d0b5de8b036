"""A throw-away ``redis-server`` on a free loopback port that a test can stop and start again."""

from __future__ import annotations

import shutil
import subprocess
import time

import redis

from tests.fakes.server import free_port

REDIS_SERVER = shutil.which("redis-server")


class ThrowawayRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> ThrowawayRedis:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with redis.Redis(port=self.port, socket_connect_timeout=0.2) as client:
                    if client.ping():
                        return self
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start") from None
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port)

    def forget_pools(self) -> None:
        """Close django-redis's process-wide connection pool for this server (else its sockets leak)."""
        from django_redis.pool import ConnectionFactory

        pool = ConnectionFactory._pools.pop(self.url, None)
        if pool is not None:
            pool.disconnect()
