"""``manage.py import_oneapi``: a database of the original, built here from its schema (spec §1), moves over.

The source is always an SQLite file; when the suite runs with SQL_DSN (CI's PostgreSQL and MariaDB stages) the
same source is also built in a database ``oneapi_source`` on that server and imported through a DSN.
"""

from __future__ import annotations

import io
import json
import os
import sqlite3
import uuid

import bcrypt
import pytest
from django.core.management import call_command

from accounts.models import Token, User
from channels_app.models import Ability, Channel
from config.env import parse_sql_dsn
from config.importer import import_oneapi
from config.models import Option
from config.options import option_str
from logs_app.models import Log
from redeem.models import Redemption

# The original's tables (GORM AutoMigrate), column by column: name → kind.
SCHEMA = {
    "users": {
        "id": "pk", "username": "ustr", "password": "text", "display_name": "str", "role": "int",
        "status": "int", "email": "str", "github_id": "str", "wechat_id": "str", "lark_id": "str",
        "oidc_id": "str", "access_token": "char32", "quota": "int", "used_quota": "int", "request_count": "int",
        "group": "v32", "aff_code": "v32", "inviter_id": "int",
    },
    "tokens": {
        "id": "pk", "user_id": "int", "key": "char48", "status": "int", "name": "str", "created_time": "int",
        "accessed_time": "int", "expired_time": "int", "remain_quota": "int", "unlimited_quota": "bool",
        "used_quota": "int", "models": "text", "subnet": "text",
    },
    "channels": {
        "id": "pk", "type": "int", "key": "text", "status": "int", "name": "str", "weight": "int",
        "created_time": "int", "test_time": "int", "response_time": "int", "base_url": "text", "other": "text",
        "balance": "float", "balance_updated_time": "int", "models": "text", "group": "v32", "used_quota": "int",
        "model_mapping": "v1024", "priority": "int", "config": "text", "system_prompt": "text",
    },
    "abilities": {"group": "v32", "model": "str", "channel_id": "int", "enabled": "bool", "priority": "int"},
    "logs": {
        "id": "pk", "user_id": "int", "created_at": "int", "type": "int", "content": "text", "username": "str",
        "token_name": "str", "model_name": "str", "quota": "int", "prompt_tokens": "int",
        "completion_tokens": "int", "channel_id": "int", "request_id": "str", "elapsed_time": "int",
        "is_stream": "bool", "system_prompt_reset": "bool",
    },
    "redemptions": {
        "id": "pk", "user_id": "int", "key": "char32", "status": "int", "name": "str", "quota": "int",
        "created_time": "int", "redeemed_time": "int",
    },
    "options": {"key": "okey", "value": "text"},
}  # fmt: skip
TYPES = {
    "sqlite": {"pk": "integer PRIMARY KEY", "int": "integer", "text": "text", "str": "text", "ustr": "text UNIQUE",
               "char32": "char(32) UNIQUE", "char48": "char(48) UNIQUE", "v32": "varchar(32)",
               "v1024": "varchar(1024)", "bool": "numeric", "float": "real", "okey": "text PRIMARY KEY"},
    "postgresql": {"pk": "bigserial PRIMARY KEY", "int": "bigint", "text": "text", "str": "text",
                   "ustr": "text UNIQUE", "char32": "char(32) UNIQUE", "char48": "char(48) UNIQUE",
                   "v32": "varchar(32)", "v1024": "varchar(1024)", "bool": "boolean", "float": "decimal",
                   "okey": "text PRIMARY KEY"},
    "mysql": {"pk": "bigint AUTO_INCREMENT PRIMARY KEY", "int": "bigint", "text": "longtext",
              "str": "varchar(191)", "ustr": "varchar(191) UNIQUE", "char32": "char(32) UNIQUE",
              "char48": "char(48) UNIQUE", "v32": "varchar(32)", "v1024": "varchar(1024)", "bool": "tinyint(1)",
              "float": "double", "okey": "varchar(191) PRIMARY KEY"},
}  # fmt: skip
NOW = 1_730_000_000


def _hash(password: str, prefix: bytes) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4, prefix=prefix)).decode()


def _rows() -> dict[str, list[dict]]:
    user = dict(display_name="", email="", github_id="", wechat_id="", lark_id="", oidc_id="", used_quota=0,
                request_count=0, group="default", inviter_id=0)  # fmt: skip
    logs = [
        dict(id=i, user_id=2, created_at=NOW - i * 60, type=2 if i % 3 else 1, content=f"log {i}", username="alice",
             token_name="ci", model_name="gpt-4o", quota=100 + i, prompt_tokens=10, completion_tokens=20,
             channel_id=1, request_id=f"req{i}", elapsed_time=1200, is_stream=i % 2 == 0, system_prompt_reset=False)
        for i in range(1, 26)
    ]  # fmt: skip
    return {
        "users": [
            {**user, "id": 1, "username": "root", "password": _hash("root-old-pass", b"2a"),
             "display_name": "Root User", "role": 100, "status": 1, "access_token": uuid.uuid4().hex,
             "quota": 500, "aff_code": "R00t"},
            {**user, "id": 2, "username": "alice", "password": _hash("alice-old-pass", b"2b"), "role": 1, "status": 1,
             "email": "alice@example.com", "access_token": uuid.uuid4().hex, "quota": 123456, "group": "vip",
             "aff_code": "Ab12", "request_count": 7},
            {**user, "id": 5, "username": "deleted_" + uuid.uuid4().hex, "password": _hash("whatever1", b"2a"),
             "role": 1, "status": 3, "access_token": None, "quota": 0, "aff_code": None, "group": None},
        ],
        "tokens": [
            dict(id=1, user_id=2, key="a" * 16 + uuid.uuid4().hex, status=1, name="default", created_time=NOW,
                 accessed_time=NOW, expired_time=-1, remain_quota=-1, unlimited_quota=True, used_quota=0, models=None,
                 subnet=""),
            dict(id=3, user_id=2, key="b" * 16 + uuid.uuid4().hex, status=2, name="ci", created_time=NOW,
                 accessed_time=NOW, expired_time=NOW + 86400, remain_quota=5000, unlimited_quota=False,
                 used_quota=250, models="gpt-4o,o3", subnet="10.0.0.0/8"),
        ],
        "channels": [
            dict(id=1, type=1, key="sk-upstream-1", status=1, name="openai", weight=0, created_time=NOW, test_time=0,
                 response_time=321, base_url=None, other=None, balance=12.5, balance_updated_time=NOW,
                 models="gpt-4o,o3", group="default,vip", used_quota=99, model_mapping='{"o3": "o3-2025-04-16"}',
                 priority=5, config='{"region": ""}', system_prompt=None),
            dict(id=4, type=14, key="sk-ant", status=3, name="claude", weight=None, created_time=NOW, test_time=NOW,
                 response_time=0, base_url="", other="", balance=0, balance_updated_time=0,
                 models="claude-3-5-sonnet-20241022", group="default", used_quota=0, model_mapping="", priority=None,
                 config="", system_prompt="be brief"),
        ],
        "abilities": [dict(group="default", model="stale-model", channel_id=99, enabled=True, priority=0)],
        "logs": logs,
        "redemptions": [
            dict(id=1, user_id=1, key=uuid.uuid4().hex, status=1, name="promo", quota=1000, created_time=NOW,
                 redeemed_time=0),
            dict(id=2, user_id=1, key=uuid.uuid4().hex, status=3, name="used", quota=50, created_time=NOW,
                 redeemed_time=NOW + 5),
        ],
        "options": [
            dict(key="SystemName", value="Old Gateway"),
            dict(key="QuotaPerUnit", value="500000"),
            dict(key="ModelRatio", value=json.dumps({"gpt-4o": 2.5})),
            dict(key="TurnstileSecretKey", value="ts-secret"),
        ],
    }  # fmt: skip


def _build(connect, vendor: str, placeholder: str) -> dict[str, list[dict]]:
    """Create the original's tables through a DB-API connection and fill them; returns the rows."""
    quote = (lambda n: f'"{n}"') if vendor == "postgresql" else (lambda n: f"`{n}`")
    rows = _rows()
    connection = connect()
    cursor = connection.cursor()
    for table, columns in SCHEMA.items():
        cursor.execute(f"DROP TABLE IF EXISTS {quote(table)}")
        body = ", ".join(f"{quote(name)} {TYPES[vendor][kind]}" for name, kind in columns.items())
        cursor.execute(f"CREATE TABLE {quote(table)} ({body})")
        for row in rows[table]:
            names = ", ".join(quote(name) for name in row)
            marks = ", ".join(placeholder for _ in row)
            cursor.execute(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", list(row.values()))
    connection.commit()
    connection.close()
    return rows


def _sqlite_source(tmp_path) -> tuple[str, dict]:
    path = tmp_path / "one-api.db"
    return str(path), _build(lambda: sqlite3.connect(path), "sqlite", "?")


def _server_source() -> tuple[str, dict]:
    """The same source database in ``oneapi_source`` on the SQL_DSN server (CI's PostgreSQL / MariaDB)."""
    db = parse_sql_dsn("SQL_DSN", os.environ["SQL_DSN"])
    host, port, user, password = db["HOST"], int(db["PORT"]), db["USER"], db["PASSWORD"]
    if db["ENGINE"].endswith("postgresql"):
        import psycopg

        with psycopg.connect(host=host, port=port, user=user, password=password, dbname=db["NAME"],
                             autocommit=True) as admin:  # fmt: skip
            admin.execute("DROP DATABASE IF EXISTS oneapi_source")
            admin.execute("CREATE DATABASE oneapi_source")
        rows = _build(
            lambda: psycopg.connect(
                host=host, port=port, user=user, password=password, dbname="oneapi_source"
            ),
            "postgresql",
            "%s",
        )
        return f"postgres://{user}:{password}@{host}:{port}/oneapi_source", rows
    import MySQLdb

    admin = MySQLdb.connect(host=host, port=port, user=user, passwd=password)
    admin.cursor().execute("DROP DATABASE IF EXISTS oneapi_source")
    admin.cursor().execute("CREATE DATABASE oneapi_source CHARACTER SET utf8mb4")
    admin.close()
    rows = _build(
        lambda: MySQLdb.connect(
            host=host, port=port, user=user, passwd=password, db="oneapi_source", charset="utf8mb4"
        ),
        "mysql",
        "%s",
    )
    return f"{user}:{password}@tcp({host}:{port})/oneapi_source", rows


SOURCES = ["sqlite"] + (["server"] if os.environ.get("SQL_DSN") else [])


@pytest.fixture(params=SOURCES)
def source(request, tmp_path):
    return _sqlite_source(tmp_path) if request.param == "sqlite" else _server_source()


def _quiet(**kwargs):
    return import_oneapi(progress=lambda line: None, **kwargs)


def test_everything_moves_over_and_old_passwords_work(db, source, api):
    dsn, rows = source
    out = io.StringIO()
    call_command("import_oneapi", "--from", dsn, stdout=out)
    printed = out.getvalue()
    assert "users: 3/3 (100%)" in printed and "logs: 25/25 (100%)" in printed and "import finished" in printed

    assert set(User.objects.values_list("id", flat=True)) == {1, 2, 5}
    alice = User.objects.get(pk=2)
    assert (alice.username, alice.email, alice.quota, alice.group, alice.aff_code) == (
        "alice", "alice@example.com", 123456, "vip", "Ab12",
    )  # fmt: skip
    assert alice.access_token == rows["users"][1]["access_token"]
    assert User.objects.get(pk=5).access_token is None and User.objects.get(pk=5).group == "default"
    api.ok(api.post("/api/user/login", {"username": "alice", "password": "alice-old-pass"}))
    api.ok(api.post("/api/user/login", {"username": "root", "password": "root-old-pass"}))
    api.refused(api.post("/api/user/login", {"username": "alice", "password": "wrong-pass"}))
    assert api.ok(api.get("/api/user/self", authorization=rows["users"][0]["access_token"]))["role"] == 100

    ci = Token.objects.get(pk=3)
    assert (
        ci.key == rows["tokens"][1]["key"] and ci.allowed_models == "gpt-4o,o3" and ci.subnet == "10.0.0.0/8"
    )
    assert Token.objects.get(pk=1).unlimited_quota is True and ci.unlimited_quota is False

    openai = Channel.objects.get(pk=1)
    assert openai.key == "sk-upstream-1" and openai.model_names == "gpt-4o,o3" and openai.priority == 5
    assert openai.balance == 12.5 and openai.model_mapping == '{"o3": "o3-2025-04-16"}'
    assert Channel.objects.get(pk=4).priority == 0 and Channel.objects.get(pk=4).system_prompt == "be brief"
    assert set(Ability.objects.values_list("group", "model", "channel_id", "enabled")) == {
        ("default", "gpt-4o", 1, True), ("default", "o3", 1, True), ("vip", "gpt-4o", 1, True),
        ("vip", "o3", 1, True), ("default", "claude-3-5-sonnet-20241022", 4, False),
    }  # fmt: skip

    assert option_str("SystemName") == "Old Gateway" and Option.objects.get(key="TurnstileSecretKey").value
    assert (
        Redemption.objects.get(pk=2).status == 3
        and Redemption.objects.get(pk=1).key == rows["redemptions"][0]["key"]
    )
    assert Log.objects.count() == 25
    log = Log.objects.get(pk=4)
    assert (log.quota, log.channel_id, log.is_stream, log.request_id) == (104, 1, True, "req4")

    # New rows get fresh ids after the imported ones (sequences were moved on PostgreSQL).
    api.ok(api.post("/api/user/register", {"username": "newbie", "password": "newbie-pass"}))
    assert User.objects.get(username="newbie").pk > 5


def test_running_twice_changes_nothing(db, source):
    dsn, _rows_ = source
    first = _quiet(source=dsn)
    assert sum(c.created for c in first) == 3 + 2 + 2 + 4 + 2 + 25
    second = _quiet(source=dsn)
    assert all(c.created == 0 and c.updated == 0 for c in second), second
    assert sum(c.unchanged for c in second) == sum(c.created for c in first)


def test_a_changed_source_row_is_updated(db, tmp_path):
    dsn, _rows_ = _sqlite_source(tmp_path)
    _quiet(source=dsn)
    with sqlite3.connect(dsn) as connection:
        connection.execute("UPDATE users SET quota = 1 WHERE id = 2")
    counts = {c.table: c for c in _quiet(source=dsn)}
    assert counts["users"].updated == 1 and counts["users"].unchanged == 2
    assert User.objects.get(pk=2).quota == 1


def test_dry_run_writes_nothing(db, tmp_path):
    dsn, _rows_ = _sqlite_source(tmp_path)
    out = io.StringIO()
    call_command("import_oneapi", "--from", dsn, "--dry-run", stdout=out)
    assert "dry run" in out.getvalue() and "nothing was written" in out.getvalue()
    assert User.objects.count() == 0 and Log.objects.count() == 0 and Ability.objects.count() == 0


def test_missing_tables_and_bad_sources_are_reported(db, tmp_path):
    from django.core.management.base import CommandError

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    counts = _quiet(source=str(empty))
    assert all(c.note == "not in the source database" for c in counts)
    with pytest.raises(CommandError, match="no such SQLite file"):
        call_command("import_oneapi", "--from", str(tmp_path / "missing.db"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="DSN"):
        call_command("import_oneapi", "--from", "mysql://nohost", stdout=io.StringIO())
