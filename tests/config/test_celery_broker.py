"""The periodic tasks through a real broker: a Celery worker thread on Redis database 15 runs them."""

from __future__ import annotations

import logging
import threading
import time

import kombu.pools
import pytest
import redis
from celery.signals import task_postrun

from config.celery import app

BROKER = "redis://127.0.0.1:6379/15"


def _redis_reachable() -> bool:
    try:
        with redis.Redis.from_url(BROKER, socket_connect_timeout=0.5) as client:
            return bool(client.ping())
    except redis.RedisError:
        return False


pytestmark = pytest.mark.skipif(
    not _redis_reachable(), reason=f"no Redis at {BROKER} (CI starts one; `bash .ci/run redis` does locally)"
)


@pytest.fixture
def worker(transactional_db):
    import celery.contrib.testing.tasks  # noqa: F401  (celery.ping)
    from celery.contrib.testing.worker import start_worker

    import billing.tasks  # noqa: F401  (register the project's tasks in this process, as a worker would)
    import channels_app.tasks  # noqa: F401
    import logs_app.tasks  # noqa: F401

    _flush()
    root = logging.getLogger()
    root_level, root_handlers = root.level, root.handlers[:]  # the worker sets the root logger to ERROR
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    app.conf.update(broker_url=BROKER, result_backend=BROKER, task_always_eager=False)
    _forget_connections()
    task_postrun.connect(_close_database_connections)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app
    finally:
        task_postrun.disconnect(_close_database_connections)
        app.conf.update(saved)
        _forget_connections()
        _flush()
        root.setLevel(root_level)
        root.handlers[:] = root_handlers


def _close_database_connections(**kwargs) -> None:
    """The worker thread's connections, before the thread ends (PostgreSQL warns about unclosed ones)."""
    from django.db import connections

    connections.close_all()


def _flush() -> None:
    with redis.Redis.from_url(BROKER) as client:
        client.flushdb()


def _forget_connections() -> None:
    """Close and drop the result backend and broker pool the app built for the previous configuration."""
    backend = app._backend
    client = (
        getattr(backend, "client", None) if backend is not None and hasattr(backend, "_get_client") else None
    )
    if client is not None:
        client.connection_pool.disconnect()
    kombu.pools.reset()  # closes the broker connections and forgets the producer pools
    app._backend_cache = None
    app._local = threading.local()
    app._pool = None
    app.amqp._producer_pool = None


def test_a_worker_runs_the_periodic_tasks_sent_through_redis(worker, settings):
    from channels_app.tasks import channel_balance_update_all_task
    from config.options import option_set
    from logs_app.models import Log, LogType
    from logs_app.tasks import log_delete_expired_task

    option_set("LogRetentionDays", "1")
    Log.objects.create(type=LogType.CONSUME, created_at=int(time.time()) - 3 * 86400)
    assert log_delete_expired_task.delay().get(timeout=30) == 1
    assert channel_balance_update_all_task.delay().get(timeout=30) == {
        "updated": 0,
        "unknown": 0,
        "disabled": 0,
    }
    assert not Log.objects.exists()


def test_beat_sends_due_jobs_to_the_worker(worker, settings):
    """What ``celery beat`` does each tick: send the scheduled task by name; the worker runs it."""
    from config.celery import beat_schedule

    result = app.send_task(beat_schedule()["logs-delete-expired"]["task"])
    assert result.get(timeout=30) == 0
