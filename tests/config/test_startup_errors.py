"""A configuration mistake stops the process with one line naming the variable, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONE_API = Path(sys.executable).parent / "one-api"


def _run(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SQL_DSN", "ONE_API_TESTING", "DJANGO_SETTINGS_MODULE"}
    }
    clean.update({"DATA_DIR": str(tmp_path), **env})
    return subprocess.run(args, cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SQL_DSN", "not-a-dsn", "SQL_DSN: unrecognised DSN"),
        ("NODE_TYPE", "leader", "NODE_TYPE='leader': expected one of master, slave"),
        ("SYNC_FREQUENCY", "soon", "SYNC_FREQUENCY='soon': expected a whole number"),
        ("BATCH_UPDATE_ENABLED", "perhaps", "BATCH_UPDATE_ENABLED='perhaps': expected true or false"),
        ("SESSION_SECRET", "random_string", "SESSION_SECRET='random_string'"),
    ],
)
def test_manage_py_refuses_bad_configuration_in_one_line(tmp_path, variable, value, expected):
    result = _run([sys.executable, "manage.py", "check"], tmp_path, **{variable: value})
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_one_api_refuses_a_bad_port_and_prints_its_version(tmp_path):
    bad = _run([str(ONE_API)], tmp_path, PORT="eighty")
    assert bad.returncode == 2
    assert "PORT='eighty'" in bad.stderr and "Traceback" not in bad.stderr
    version = _run([str(ONE_API), "--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.strip().startswith("v")
    helptext = _run([str(ONE_API), "--help"], tmp_path)
    assert "--port" in helptext.stdout and "--log-dir" in helptext.stdout


def test_session_secret_is_generated_once_and_kept(tmp_path):
    cmd = [
        sys.executable,
        "-c",
        "import django,os;django.setup();from django.conf import settings;print(settings.SECRET_KEY)",
    ]
    env = {"DJANGO_SETTINGS_MODULE": "config.settings"}
    first = _run(cmd, tmp_path, **env)
    second = _run(cmd, tmp_path, **env)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 40
    assert (tmp_path / "session_secret").read_text().strip() == first.stdout.strip()
