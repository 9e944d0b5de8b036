"""Operator commands outside channels: clean_logs, flush_batched, reset_password, create_admin, show_config."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from config.options import option_set
from logs_app.models import Log, LogType


def run(*args, **kwargs) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **kwargs)
    return out.getvalue()


def test_clean_logs_uses_days_or_the_option(db):
    old = int(time.time()) - 10 * 86400
    Log.objects.bulk_create([Log(type=LogType.CONSUME, created_at=old) for _ in range(3)])
    assert "nothing to do" in run("clean_logs")
    option_set("LogRetentionDays", "30")
    assert "summary: 0 log(s) deleted" in run("clean_logs")
    output = run("clean_logs", "--days", "5", "--batch", "2")
    assert "2 deleted so far" in output and "summary: 3 log(s) deleted" in output
    with pytest.raises(CommandError):
        call_command("clean_logs", "--days", "0", stdout=StringIO())


def test_flush_batched_prints_a_summary(db):
    assert "summary: 0 quota row(s) updated, 0 log(s) written" in run("flush_batched")


def test_reset_password(db, alice):
    assert "summary: password of 'alice'" in run("reset_password", "alice", "--password", "n3w-password")
    alice.refresh_from_db()
    assert alice.check_password("n3w-password")
    with pytest.raises(CommandError, match="no user"):
        call_command("reset_password", "nobody", "--password", "n3w-password")
    with pytest.raises(CommandError, match="8 to 20"):
        call_command("reset_password", "alice", "--password", "short")


def test_reset_password_needs_a_terminal_or_the_option(db, alice, monkeypatch):
    monkeypatch.setattr("sys.stdin.isatty", lambda: False, raising=False)
    with pytest.raises(CommandError, match="--password"):
        call_command("reset_password", "alice")


def test_reset_password_asks_twice_on_a_terminal(db, alice, monkeypatch):
    import accounts.management.commands._password as password_module

    monkeypatch.setattr(password_module.sys.stdin, "isatty", lambda: True, raising=False)
    answers = iter(["typed-password", "typed-password"])
    monkeypatch.setattr(password_module.getpass, "getpass", lambda prompt: next(answers))
    run("reset_password", "alice")
    alice.refresh_from_db()
    assert alice.check_password("typed-password")


def test_create_admin_and_root(db):
    assert "admin 'ops' created" in run("create_admin", "ops", "--password", "ops-password")
    run("create_admin", "boss", "--root", "--password", "boss-password", "--email", "b@example.com")
    assert User.objects.get(username="ops").role == Role.ADMIN
    boss = User.objects.get(username="boss")
    assert boss.role == Role.ROOT and boss.email == "b@example.com" and boss.tokens.count() == 1
    with pytest.raises(CommandError, match="exists"):
        call_command("create_admin", "ops", "--password", "ops-password")


def test_show_config_masks_secrets(db, settings):
    settings.REDIS_CONN_STRING = "redis://:hunter2@redis:6379/0"
    settings.CELERY_BROKER_URL = "redis://:hunter2@redis:6379/0"
    settings.INITIAL_ROOT_TOKEN = "root-token-value"
    option_set("SMTPToken", "smtp-secret")
    option_set("SystemName", "My Gateway")
    output = run("show_config")
    assert "hunter2" not in output and "smtp-secret" not in output and "root-token-value" not in output
    assert settings.SECRET_KEY not in output
    assert "REDIS_CONN_STRING = redis://:***@redis:6379/0" in output
    assert "SMTPToken = (set, hidden)" in output and "SystemName = My Gateway" in output
    assert "NODE_TYPE = master" in output


def test_url_masking_covers_the_original_mysql_form():
    from config.management.commands.show_config import mask_url

    assert mask_url("oneapi:s3cret@tcp(127.0.0.1:3306)/oneapi") == "oneapi:***@tcp(127.0.0.1:3306)/oneapi"
    assert mask_url("postgres://u:p@h:5432/db") == "postgres://u:***@h:5432/db"
    assert mask_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
