from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_str, parse_sql_dsn


def test_it_parses_the_originals_go_mysql_dsn():
    db = parse_sql_dsn("SQL_DSN", "oneapi:s3cr:et@tcp(db.local:3307)/oneapi?charset=utf8mb4&parseTime=True")
    assert db["ENGINE"] == "django.db.backends.mysql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "oneapi",
        "s3cr:et",
        "db.local",
        "3307",
        "oneapi",
    )
    assert db["OPTIONS"]["charset"] == "utf8mb4"


def test_it_defaults_the_mysql_port_and_host():
    db = parse_sql_dsn("SQL_DSN", "root:pw@tcp(localhost)/one")
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("localhost", "3306", "one")


@pytest.mark.parametrize("scheme", ["postgres", "postgresql"])
def test_it_parses_postgres_urls(scheme):
    db = parse_sql_dsn("SQL_DSN", f"{scheme}://u%40x:p%2Fw@pg.example:6543/oneapi?sslmode=disable")
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "u@x",
        "p/w",
        "pg.example",
        "6543",
        "oneapi",
    )
    assert db["OPTIONS"] == {"sslmode": "disable"}


def test_it_parses_mysql_urls_with_default_port():
    db = parse_sql_dsn("SQL_DSN", "mysql://u:p@maria/oneapi")
    assert (db["ENGINE"], db["PORT"], db["NAME"]) == ("django.db.backends.mysql", "3306", "oneapi")


@pytest.mark.parametrize(
    "dsn",
    [
        "sqlite:///tmp/x.db",
        "oneapi:pw@tcp(db:3306)",
        "oneapi:pw@tcp(db:33x6)/oneapi",
        "postgres://u:p@host:99999/db",
        "postgres://u:p@host:5432/",
        "just-garbage",
    ],
)
def test_it_rejects_malformed_dsns_naming_the_variable(dsn):
    with pytest.raises(ImproperlyConfigured) as excinfo:
        parse_sql_dsn("LOG_SQL_DSN", dsn)
    assert str(excinfo.value).startswith("LOG_SQL_DSN")


def test_numeric_and_boolean_helpers_name_the_variable(monkeypatch):
    monkeypatch.setenv("SYNC_FREQUENCY", "ten")
    with pytest.raises(ImproperlyConfigured, match="SYNC_FREQUENCY='ten': expected a whole number"):
        env_int("SYNC_FREQUENCY", 600)
    monkeypatch.setenv("SYNC_FREQUENCY", "-1")
    with pytest.raises(ImproperlyConfigured, match=">= 1"):
        env_int("SYNC_FREQUENCY", 600, minimum=1)
    monkeypatch.setenv("BATCH_UPDATE_ENABLED", "maybe")
    with pytest.raises(ImproperlyConfigured, match="BATCH_UPDATE_ENABLED"):
        env_bool("BATCH_UPDATE_ENABLED")
    monkeypatch.setenv("BATCH_UPDATE_ENABLED", "TRUE")
    assert env_bool("BATCH_UPDATE_ENABLED") is True
    monkeypatch.setenv("NODE_TYPE", "leader")
    with pytest.raises(ImproperlyConfigured, match="master, slave"):
        env_choice("NODE_TYPE", "master", ("master", "slave"))


def test_env_str_reads_docker_secret_files(monkeypatch, tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SESSION_SECRET_FILE", str(secret))
    assert env_str("SESSION_SECRET") == "from-a-file"
    monkeypatch.setenv("SESSION_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="SESSION_SECRET_FILE"):
        env_str("SESSION_SECRET")
