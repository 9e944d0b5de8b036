"""Master and slave nodes: only masters run periodic jobs and migrations; slaves redirect page requests."""

from __future__ import annotations

import importlib

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from config import scheduler
from config.celery import beat_schedule
from config.middleware import SlaveFrontendRedirectMiddleware


def test_the_beat_schedule_names_real_tasks(settings):
    settings.CHANNEL_TEST_FREQUENCY = 10
    settings.CHANNEL_UPDATE_FREQUENCY = 60
    settings.BATCH_UPDATE_ENABLED = True
    schedule = beat_schedule()
    assert schedule["channel-test-all"]["schedule"] == 600
    assert schedule["channel-balance-update-all"]["schedule"] == 3600
    assert schedule["billing-flush-batched-updates"]["schedule"] == settings.BATCH_UPDATE_INTERVAL
    for entry in schedule.values():
        module, _, name = entry["task"].rpartition(".")
        task = getattr(importlib.import_module(module), name)
        assert task.name == entry["task"]


def test_jobs_that_are_off_are_not_scheduled(settings):
    settings.CHANNEL_TEST_FREQUENCY = 0
    settings.CHANNEL_UPDATE_FREQUENCY = 0
    settings.BATCH_UPDATE_ENABLED = False
    assert set(beat_schedule()) == {"logs-delete-expired", "quota-remind-low"}


def test_a_slave_node_schedules_nothing(settings):
    settings.IS_MASTER_NODE = False
    settings.CHANNEL_TEST_FREQUENCY = 10
    assert beat_schedule() == {}


@pytest.mark.parametrize(
    ("master", "broker", "starts"),
    [(True, "", True), (False, "", False), (True, "redis://127.0.0.1:6379/0", False)],
)
def test_the_in_process_scheduler_runs_only_on_a_master_without_a_broker(
    settings, monkeypatch, master, broker, starts
):
    settings.TESTING = False
    settings.IS_MASTER_NODE = master
    settings.CELERY_BROKER_URL = broker
    started: list[str] = []

    class FakeThread:
        def __init__(self, target, name, daemon):
            started.append(name)

        def start(self):
            pass

    monkeypatch.setattr(scheduler, "_started", False)
    monkeypatch.setattr(scheduler.threading, "Thread", FakeThread)
    scheduler.start_in_process_scheduler()
    assert started == (["one-api-scheduler"] if starts else [])


def test_the_in_process_scheduler_finds_tasks_without_a_worker(transactional_db):
    from config.celery import app
    from config.options import option_set
    from logs_app.models import Log, LogType

    option_set("LogRetentionDays", "1")
    Log.objects.create(type=LogType.CONSUME, created_at=1)
    scheduler._run_job(app, "logs-delete-expired", "logs_app.tasks.log_delete_expired_task")
    assert not Log.objects.exists()


def _middleware(settings, node_type: str, frontend: str):
    settings.NODE_TYPE = node_type
    settings.FRONTEND_BASE_URL = frontend
    return SlaveFrontendRedirectMiddleware(lambda request: HttpResponse("served here"))


def test_a_slave_redirects_page_requests_to_the_frontend(settings):
    middleware = _middleware(settings, "slave", "https://console.example.com")
    response = middleware(RequestFactory().get("/dashboard/?page=2"))
    assert (
        response.status_code == 301
        and response["Location"] == "https://console.example.com/dashboard/?page=2"
    )
    response = middleware(RequestFactory().get("/login"))
    assert response["Location"] == "https://console.example.com/login"


@pytest.mark.parametrize(
    "path", ["/v1/models", "/api/status", "/metrics", "/healthz", "/readyz", "/static/x.css"]
)
def test_a_slave_serves_the_api_itself(settings, path):
    middleware = _middleware(settings, "slave", "https://console.example.com")
    assert middleware(RequestFactory().get(path)).content == b"served here"


@pytest.mark.parametrize(
    ("node_type", "frontend"), [("master", "https://console.example.com"), ("slave", "")]
)
def test_no_redirect_on_a_master_or_without_a_frontend(settings, node_type, frontend):
    middleware = _middleware(settings, node_type, frontend)
    assert middleware(RequestFactory().get("/login")).content == b"served here"
