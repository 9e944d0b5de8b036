"""``one-api --cpu-affinity``: every worker process (all its threads) keeps to a core of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from config.affinity import allowed_cores, assign_cores
from tests.fakes.server import free_port

ROOT = Path(__file__).resolve().parents[2]
ONE_API = Path(sys.executable).parent / "one-api"


def test_workers_spread_over_the_cores_and_keep_theirs():
    plan = assign_cores([101, 102], [0, 1], {})
    assert sorted(plan.values()) == [0, 1]
    # worker 101 died and was replaced by 103: 102 stays where it was, 103 takes the freed core
    replaced = assign_cores([102, 103], [0, 1], plan)
    assert replaced[102] == plan[102] and replaced[103] == plan[101]
    # more workers than cores: no core gets a second worker before every core has one
    crowded = assign_cores([1, 2, 3, 4, 5], [2, 3], {})
    assert sorted(crowded.values()) == [2, 2, 2, 3, 3]
    # a core that is no longer allowed is given up
    assert assign_cores([7], [1], {7: 0}) == {7: 1}


def _child_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    return [int(pid) for pid in children if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text()]


def _thread_cores(pid: int) -> set[frozenset[int]]:
    cores = set()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            cores.add(frozenset(os.sched_getaffinity(int(tid))))
        except OSError:
            pass  # the thread ended between the listing and the look-up
    return cores


def _one_core(thread_cores: set[frozenset[int]]) -> bool:
    """Every thread of the process allowed on the same single core."""
    return len(thread_cores) == 1 and len(next(iter(thread_cores))) == 1


def test_two_uvicorn_workers_are_pinned_to_distinct_cores(tmp_path):
    port = free_port()
    dropped = {"SQL_DSN", "ONE_API_TESTING", "DJANGO_SETTINGS_MODULE"}
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(DATA_DIR=str(tmp_path), REDIS_CONN_STRING="")
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=120
    )
    server = subprocess.Popen(
        [str(ONE_API), "--server", "uvicorn", "--workers", "2", "--cpu-affinity", "--port", str(port)]
        + ["--host", "127.0.0.1", "--log-dir", str(tmp_path / "logs")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        pinned: dict[int, set[frozenset[int]]] = {}
        while time.monotonic() < deadline:
            workers = _child_pids(server.pid)
            pinned = {pid: _thread_cores(pid) for pid in workers}
            if len(workers) == 2 and all(_one_core(threads) for threads in pinned.values()):
                break
            time.sleep(0.2)
        assert len(pinned) == 2 and all(_one_core(threads) for threads in pinned.values()), pinned
        cores = [next(iter(next(iter(threads)))) for threads in pinned.values()]
        expected = allowed_cores()
        assert set(cores) <= set(expected)
        if len(expected) >= 2:
            assert cores[0] != cores[1], pinned
        assert httpx.get(f"http://127.0.0.1:{port}/api/status", timeout=10).json()["success"] is True
    finally:
        server.terminate()
        server.wait(timeout=60)


def test_a_bad_one_api_cpu_affinity_value_stops_with_one_line(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SQL_DSN", "ONE_API_TESTING", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(DATA_DIR=str(tmp_path), ONE_API_CPU_AFFINITY="perhaps")
    result = subprocess.run(
        [str(ONE_API), "--port", str(free_port()), "--log-dir", str(tmp_path / "logs")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "ONE_API_CPU_AFFINITY='perhaps': expected true or false" in result.stderr
    assert "Traceback" not in result.stderr
