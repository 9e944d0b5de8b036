"""The gateway benchmark: one command, a fresh database, a fast fake upstream, the gateway as deployed.

    make bench                     # full run, about 6-8 minutes
    make bench ARGS=--quick        # about 1.5 minutes: daphne only, short phases
    .venv/bin/python deploy/bench/run.py --servers daphne,uvicorn --sql-dsn postgres://...

What it does (see deploy/bench/README.md for the method and the last numbers):
1. a fresh data dir + SQLite DB (or ``--sql-dsn``), ``manage.py bootstrap``, a user, a *limited* key with ample
   quota and an OpenAI channel pointing at the fake; auth, billing and consume logging on; DEBUG off;
2. the fake upstream (deploy/bench/fake_upstream.py) as its own process, measured directly first;
3. the gateway as its own process through the ``one-api`` console script (daphne, uvicorn), or granian when it
   is installed; one worker pinned to CPU 0 while the fake and the load generators share CPU 1; then two
   workers, each on a core of its own (``one-api --cpu-affinity``; granian's float), for the "2 cores" figure;
4. wrk (Lua script for the POST body) for non-streaming chat; deploy/bench/stream_client.py for streams;
   CPU from /proc/<pid>/stat, memory from /proc/<pid>/status;
5. a Markdown table with the issue's targets, printed and written to deploy/bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PY = sys.executable
CLK = os.sysconf("SC_CLK_TCK")
MODEL = "gpt-4o-mini"
PROMPT = "Say hello to the benchmark, please."
NCPU = os.cpu_count() or 1
GATEWAY_CPU = "0"
LOAD_CPU = "1" if NCPU > 1 else "0"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- processes and /proc ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


PRIORITY = 0  # nice value for every benchmark process (set from --priority in main)


def pinned(cmd: list[str], cpus: str | None) -> list[str]:
    if cpus and shutil.which("taskset") and NCPU > 1:
        cmd = ["taskset", "-c", cpus, *cmd]
    return ["nice", "-n", str(PRIORITY), *cmd] if PRIORITY else cmd


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (uvicorn/granian workers are children of the main process)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            pass
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)
        except OSError:
            pass
    return total / CLK


def memory_kib(pids: list[int], key: str) -> int:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith(key + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def machine_busy_seconds() -> float:
    with open("/proc/stat") as fh:
        parts = [int(x) for x in fh.readline().split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts[:8]) - idle) / CLK


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path
    extra: list[subprocess.Popen] = field(default_factory=list)

    def pids(self) -> list[int]:
        pids = []
        for p in (self.popen, *self.extra):
            pids.extend(descendants(p.pid))
        return pids

    def stop(self) -> None:
        for p in (self.popen, *self.extra):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)  # our own process group (start_new_session)
                except ProcessLookupError:
                    pass
        for p in (self.popen, *self.extra):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()


def spawn(
    name: str, cmd: list[str], env: dict, log_path: Path, pass_fds: tuple[int, ...] = ()
) -> subprocess.Popen:
    out = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        pass_fds=pass_fds,
    )


def wait_http(url: str, headers: dict, proc: Proc, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited early; see {proc.log_path}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=2) as response:
                if response.status == 200:
                    return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.2)
    raise RuntimeError(f"{proc.name} did not answer {url} within {timeout}s; see {proc.log_path}")


# --- load generators -----------------------------------------------------------------------------------------

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
wrk.body = '{body}'
"""


def chat_body() -> str:
    return json.dumps({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 16})


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(url: str, script: Path, conns: int, duration: float, cpus: str | None) -> dict:
    cmd = [
        "wrk",
        "-t1",
        f"-c{conns}",
        f"-d{duration}s",
        "--latency",
        "--timeout",
        "30s",
        "-s",
        str(script),
        url,
    ]
    out = subprocess.run(pinned(cmd, cpus), capture_output=True, text=True, check=True).stdout
    result = {"raw": out}
    if m := re.search(r"(\d+) requests in ([\d.]+)(\w+)", out):
        result["requests"] = int(m.group(1))
        result["elapsed_s"] = _ms(m.group(2) + m.group(3)) / 1000
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for pct in ("50", "99"):
        if m := re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M):
            result[f"p{pct}_ms"] = _ms(m.group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    result["errors"] = int(bad.group(1)) if bad else 0
    if sock and re.search(r"[1-9]", sock.group(1)):
        result["socket_errors"] = sock.group(1)
    return result


def streams(url: str, key: str, conns: int, duration: float, chunks: int, cpus: str | None) -> dict:
    cmd = [
        PY,
        str(BENCH / "stream_client.py"),
        "--url",
        url,
        "--key",
        key,
        "--concurrency",
        str(conns),
        "--duration",
        str(duration),
        "--chunks",
        str(chunks),
        "--delay-ms",
        "5",
    ]
    out = subprocess.run(pinned(cmd, cpus), capture_output=True, text=True, check=True).stdout
    return json.loads(out)


class Meter:
    """CPU of the gateway, the fake, the load generator and everything else over one phase."""

    def __init__(self, gateway: Proc | None, fake: Proc) -> None:
        self.gateway, self.fake = gateway, fake

    def __enter__(self) -> Meter:
        self.t0 = time.perf_counter()
        self.gw0 = cpu_seconds(self.gateway.pids()) if self.gateway else 0.0
        self.fake0 = cpu_seconds(self.fake.pids())
        self.load0 = children_cpu()
        self.busy0 = machine_busy_seconds()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.t0
        self.gw = (cpu_seconds(self.gateway.pids()) if self.gateway else 0.0) - self.gw0
        self.fake_s = cpu_seconds(self.fake.pids()) - self.fake0
        self.load = children_cpu() - self.load0
        busy = machine_busy_seconds() - self.busy0
        self.other = max(busy - self.gw - self.fake_s - self.load, 0.0)

    def split(self) -> dict:
        wall = max(self.wall, 1e-9)
        return {
            "gateway": self.gw / wall,
            "fake": self.fake_s / wall,
            "loadgen": self.load / wall,
            "other": self.other / wall,
            "gateway_cpu_s": self.gw,
        }


# --- the run -------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    quick: bool
    nonstream_s: float
    stream_s: float
    rss_first: int
    rss_total: int
    servers: list[str]
    two_workers: list[str]
    stream_sets: list[tuple[int, int]]  # (chunks, concurrency)


def make_plan(args: argparse.Namespace) -> Plan:
    have_granian = (BIN / "granian").exists()
    if args.quick:
        servers = args.servers.split(",") if args.servers else ["daphne"]
        return Plan(True, 2, 2, 1000, 3000, servers, servers, [(20, 32), (20, 128), (100, 128)])
    servers = (
        args.servers.split(",") if args.servers else ["daphne", "uvicorn"] + (["granian"] * have_granian)
    )
    return Plan(
        False,
        5,
        5,
        1000,
        10000,
        servers,
        [s for s in servers if s != "granian" or have_granian],
        [(20, 32), (20, 128), (100, 32), (100, 128)],
    )


def base_env(workdir: Path, sql_dsn: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SQL_", "LOG_SQL", "REDIS", "ONE_API_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATA_DIR=str(workdir),
        SQLITE_PATH=str(workdir / "one-api.db"),
        SESSION_SECRET=secrets.token_urlsafe(32),
        DEBUG="false",
        PYTHONUNBUFFERED="1",
        ONE_API_LOG_DIR=str(workdir / "logs"),
    )
    env.pop("DEBUG_SQL", None)
    if sql_dsn:
        env["SQL_DSN"] = sql_dsn
    return env


def start_gateway(server: str, workers: int, env: dict, workdir: Path, run_id: str) -> tuple[Proc, int]:
    port = free_port()
    logs = workdir / "logs"
    log_path = workdir / f"gateway-{run_id}.log"
    cpus = GATEWAY_CPU if workers == 1 else None
    if server in ("daphne", "uvicorn") and not (server == "daphne" and workers > 1):
        cmd = [str(BIN / "one-api"), "--port", str(port), "--host", "127.0.0.1", "--log-dir", str(logs)]
        cmd += ["--server", server, "--workers", str(workers)]
        if workers > 1:
            cmd.append("--cpu-affinity")  # each worker on a core of its own, as deploy/ runs it
        return Proc(run_id, spawn(run_id, pinned(cmd, cpus), env, log_path), log_path), port
    if server == "daphne":
        # `one-api` cannot run several daphne processes (daphne has no --workers); production would put a
        # shared socket in front of N daphnes (systemd socket activation), which is what this does.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen(4096)
        fd = sock.fileno()
        cmd = [str(BIN / "daphne"), "--fd", str(fd), "config.asgi:application"]
        procs = [
            spawn(run_id, pinned(cmd, str(i % NCPU)), env, log_path, pass_fds=(fd,)) for i in range(workers)
        ]
        sock.close()
        return Proc(run_id, procs[0], log_path, procs[1:]), port
    if server == "granian":
        cmd = [str(BIN / "granian"), "--interface", "asgi", "--host", "127.0.0.1", "--port", str(port)]
        cmd += [
            "--workers",
            str(workers),
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "config.asgi:application",
        ]
        return Proc(run_id, spawn(run_id, pinned(cmd, cpus), env, log_path), log_path), port
    raise SystemExit(f"unknown server {server}")


def measure_nonstream(url: str, script: Path, plan: Plan, gateway: Proc | None, fake: Proc) -> dict:
    results = {}
    for conns in (1, 32, 128):
        with Meter(gateway, fake) as meter:
            result = wrk(url, script, conns, plan.nonstream_s, LOAD_CPU)
        result["cpu"] = meter.split()
        if gateway is not None and result.get("requests"):
            result["cpu_s_per_1000"] = meter.gw / result["requests"] * 1000
        results[conns] = result
        log(
            f"  non-stream c={conns}: {result['rps']:.0f} req/s p50 {result['p50_ms']:.2f} ms "
            f"p99 {result['p99_ms']:.2f} ms errors {result['errors']} cpu {meter.split()}"
        )
    return results


def measure_streams(url: str, key: str, plan: Plan, gateway: Proc | None, fake: Proc) -> dict:
    results = {}
    for chunks, conns in plan.stream_sets:
        with Meter(gateway, fake) as meter:
            result = streams(url, key, conns, plan.stream_s, chunks, LOAD_CPU)
        result["cpu"] = meter.split()
        if gateway is not None and result["streams"]:
            result["cpu_s_per_1000"] = meter.gw / result["streams"] * 1000
        results[(chunks, conns)] = result
        log(
            f"  stream {chunks}x5ms c={conns}: {result['rate']:.0f}/s ttfb p50 {result['ttfb_p50_ms']:.2f} "
            f"p99 {result['ttfb_p99_ms']:.2f} total p50 {result['total_p50_ms']:.1f} ms errors {result['errors']}"
        )
    return results


def measure_rss(url: str, key: str, plan: Plan, gateway: Proc) -> dict:
    """RSS after exactly the first thousand and the Nth thousand requests on a fresh gateway (c=32)."""
    out = {}
    done = 0
    for label, target in (("first", plan.rss_first), ("last", plan.rss_total)):
        cmd = [PY, str(BENCH / "stream_client.py"), "--url", url, "--key", key, "--plain"]
        cmd += ["--concurrency", "32", "--duration", "300", "--total", str(target - done)]
        result = json.loads(
            subprocess.run(pinned(cmd, LOAD_CPU), capture_output=True, text=True, check=True).stdout
        )
        done += result["streams"] + sum(result["errors"].values())
        out[label] = {
            "requests": done,
            "rss_kib": memory_kib(gateway.pids(), "VmRSS"),
            "errors": sum(result["errors"].values()),
            "rps": result["rate"],
        }
    log(f"  rss: {out}")
    return out


def run_gateway(
    server: str, workers: int, env: dict, workdir: Path, key: str, plan: Plan, fake: Proc
) -> dict:
    run_id = f"{server}-{workers}w"
    log(f"gateway {run_id}: starting")
    gateway, port = start_gateway(server, workers, env, workdir, run_id)
    base = f"http://127.0.0.1:{port}"
    result: dict = {"server": server, "workers": workers}
    try:
        wait_http(f"{base}/v1/models", {"Authorization": f"Bearer {key}"}, gateway)
        time.sleep(1.0 if workers > 1 else 0.2)  # let every worker finish starting
        result["rss_start_kib"] = memory_kib(gateway.pids(), "VmRSS")
        url = f"{base}/v1/chat/completions"
        script = workdir / "chat.lua"
        script.write_text(WRK_SCRIPT.format(key=key, body=chat_body()))
        if workers == 1:
            result["rss"] = measure_rss(url, key, plan, gateway)
            result["nonstream"] = measure_nonstream(url, script, plan, gateway, fake)
            result["streams"] = measure_streams(url, key, plan, gateway, fake)
        else:
            wrk(url, script, 32, 1, None)  # warm every worker's caches and connections
            result["nonstream"] = {}
            for conns in (32, 128):
                with Meter(gateway, fake) as meter:
                    res = wrk(url, script, conns, plan.nonstream_s, None)
                res["cpu"] = meter.split()
                if res.get("requests"):
                    res["cpu_s_per_1000"] = meter.gw / res["requests"] * 1000
                result["nonstream"][conns] = res
                log(f"  2 workers non-stream c={conns}: {res['rps']:.0f} req/s p99 {res['p99_ms']:.1f} ms")
            result["streams"] = {}
            for chunks, conns in plan.stream_sets:
                with Meter(gateway, fake) as meter:
                    res = streams(url, key, conns, plan.stream_s, chunks, None)
                res["cpu"] = meter.split()
                if res["streams"]:
                    res["cpu_s_per_1000"] = meter.gw / res["streams"] * 1000
                result["streams"][(chunks, conns)] = res
                log(
                    f"  2 workers stream {chunks}x5ms c={conns}: {res['rate']:.0f}/s ttfb p50 {res['ttfb_p50_ms']:.2f}"
                )
        result["peak_rss_kib"] = memory_kib(gateway.pids(), "VmHWM")
        result["rss_end_kib"] = memory_kib(gateway.pids(), "VmRSS")
    finally:
        gateway.stop()
    return result


# --- the table -----------------------------------------------------------------------------------------------


def ok(passed: bool) -> str:
    return "✅" if passed else "❌"


def fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value != value else f"{value:.{digits}f}"


def build_table(direct: dict, runs: dict, plan: Plan, meta: dict) -> str:
    servers = [s for s in plan.servers if (s, 1) in runs]
    header = "| metric | target | direct (fake) | " + " | ".join(f"{s} 1w" for s in servers) + " |"
    lines = [header, "|" + "---|" * (3 + len(servers))]

    def row(metric: str, target: str, direct_cell: str, cells: list[str]) -> None:
        lines.append(f"| {metric} | {target} | {direct_cell} | " + " | ".join(cells) + " |")

    dn = direct["nonstream"]
    one = {s: runs[(s, 1)] for s in servers}
    row(
        "non-stream c=1 p50 / p99 (ms)",
        "—",
        f"{fmt(dn[1]['p50_ms'], 3)} / {fmt(dn[1]['p99_ms'], 3)}",
        [
            f"{fmt(r['nonstream'][1]['p50_ms'], 3)} / {fmt(r['nonstream'][1]['p99_ms'], 3)}"
            for r in one.values()
        ],
    )
    cells = []
    for r in one.values():
        add50 = r["nonstream"][1]["p50_ms"] - dn[1]["p50_ms"]
        add99 = r["nonstream"][1]["p99_ms"] - dn[1]["p99_ms"]
        cells.append(f"{fmt(add50, 3)} {ok(add50 <= 1)} / {fmt(add99, 3)} {ok(add99 <= 5)}")
    row("added latency c=1 p50 / p99 (ms)", "≤ 1 / ≤ 5", "0 / 0", cells)
    for conns in (1, 32, 128):
        target = "≥ 500 per worker" if conns == 128 else "—"
        cells = []
        for r in one.values():
            res = r["nonstream"][conns]
            mark = f" {ok(res['rps'] >= 500)}" if conns == 128 else ""
            err = f" ({res['errors']} errors)" if res["errors"] else ""
            cells.append(f"{res['rps']:.0f}{mark} · {fmt(res['p50_ms'])} / {fmt(res['p99_ms'])}{err}")
        d = dn[conns]
        row(
            f"non-stream c={conns}: req/s · p50 / p99 ms",
            target,
            f"{d['rps']:.0f} · {fmt(d['p50_ms'])} / {fmt(d['p99_ms'])}",
            cells,
        )
    for s in plan.two_workers:
        r = runs.get((s, 2))
        if r is None:
            continue
        best = max(r["nonstream"].values(), key=lambda x: x["rps"])
        cpu = best.get("cpu_s_per_1000", float("nan"))
        cells = [""] * len(servers)
        cells[servers.index(s) if s in servers else 0] = (
            f"{best['rps']:.0f} {ok(best['rps'] >= 1000)} · {fmt(best['p99_ms'], 1)} · {cpu:.2f}"
        )
        row(
            f"{s} with 2 workers on 2 cores, non-stream best of c=32/128: req/s · p99 ms · CPU-s/1k",
            "≥ 1,000",
            "—",
            cells,
        )
        for (chunks, conns), g in r.get("streams", {}).items():
            d = direct["streams"][(chunks, conns)]
            rel = g["rate"] / d["rate"] if d["rate"] else float("nan")
            added = g["ttfb_p50_ms"] - d["ttfb_p50_ms"]
            cells = [""] * len(servers)
            cells[servers.index(s) if s in servers else 0] = (
                f"+{fmt(added)} {ok(added <= 2)} · {g['rate']:.0f}/s = {rel:.0%}"
                f"{' ' + ok(rel >= 0.8) if conns == 128 else ''} · "
                f"{g.get('cpu_s_per_1000', float('nan')):.2f}"
            )
            row(
                f"{s} with 2 workers, stream {chunks}×5 ms c={conns}: added TTFB p50 ms · streams/s = % of "
                "direct · CPU-s/1k streams",
                "≤ +2 ms · ≥ 80%" if conns == 128 else "≤ +2 ms",
                f"{d['rate']:.0f}/s",
                cells,
            )
    cells = []
    for r in one.values():
        cpu = r["nonstream"][32]["cpu_s_per_1000"]
        cells.append(f"{cpu:.2f} {ok(cpu <= 1.5)}")
    row("gateway CPU-s per 1,000 non-stream (c=32)", "≤ 1.5", "—", cells)
    ds = direct["streams"]
    for chunks, conns in plan.stream_sets:
        d = ds[(chunks, conns)]
        cells = []
        for r in one.values():
            g = r["streams"][(chunks, conns)]
            added = g["ttfb_p50_ms"] - d["ttfb_p50_ms"]
            err = f" ({sum(g['errors'].values())} errors)" if g["errors"] else ""
            cells.append(
                f"+{fmt(added)} {ok(added <= 2)} · {fmt(g['ttfb_p50_ms'])} / {fmt(g['ttfb_p99_ms'])}{err}"
            )
        row(
            f"stream {chunks}×5 ms c={conns}: added TTFB p50 · TTFB p50 / p99 (ms)",
            "≤ +2 ms",
            f"{fmt(d['ttfb_p50_ms'])} / {fmt(d['ttfb_p99_ms'])}",
            cells,
        )
        cells = []
        for r in one.values():
            g = r["streams"][(chunks, conns)]
            rel = g["rate"] / d["rate"] if d["rate"] else float("nan")
            mark = f" {ok(rel >= 0.8)}" if conns == 128 else ""
            cells.append(
                f"{fmt(g['total_p50_ms'], 1)} / {fmt(g['total_p99_ms'], 1)} · {g['rate']:.0f}/s = {rel:.0%}{mark}"
            )
        row(
            f"stream {chunks}×5 ms c={conns}: total p50 / p99 ms · streams/s = % of direct",
            "≥ 80% at c=128" if conns == 128 else "—",
            f"{fmt(d['total_p50_ms'], 1)} / {fmt(d['total_p99_ms'], 1)} · {d['rate']:.0f}/s",
            cells,
        )
    cells = []
    for r in one.values():
        cpu = r["streams"][(20, 32)]["cpu_s_per_1000"]
        cells.append(f"{cpu:.2f} {ok(cpu <= 3)}")
    row("gateway CPU-s per 1,000 streams of 20 chunks (c=32)", "≤ 3", "—", cells)
    if (100, 32) in plan.stream_sets:
        cells = [f"{r['streams'][(100, 32)]['cpu_s_per_1000']:.2f}" for r in one.values()]
        row("gateway CPU-s per 1,000 streams of 100 chunks (c=32)", "—", "—", cells)
    cells = []
    for r in one.values():
        first, last = r["rss"]["first"], r["rss"]["last"]
        growth = last["rss_kib"] / first["rss_kib"] - 1
        cells.append(
            f"{first['rss_kib'] / 1024:.0f} → {last['rss_kib'] / 1024:.0f} ({growth:+.1%}) {ok(abs(growth) <= 0.10)}"
        )
    row(
        f"RSS after {plan.rss_first // 1000}k → {plan.rss_total // 1000}k requests (MiB)",
        "flat ±10%",
        "—",
        cells,
    )
    row("peak RSS, VmHWM (MiB)", "—", "—", [f"{r['peak_rss_kib'] / 1024:.0f}" for r in one.values()])
    cells = []
    for r in one.values():
        c = r["nonstream"][128]["cpu"]
        cells.append(
            f"gw {c['gateway']:.2f} · fake {c['fake']:.2f} · load {c['loadgen']:.2f} · other {c['other']:.2f}"
        )
    c = dn[128]["cpu"]
    row(
        "CPU split at non-stream c=128 (cores)",
        "—",
        f"fake {c['fake']:.2f} · load {c['loadgen']:.2f} · other {c['other']:.2f}",
        cells,
    )
    head = [
        f"# One API gateway benchmark — {meta['when']}",
        "",
        f"{'quick' if plan.quick else 'full'} run · {meta['db']} · {meta['cpus']} CPUs · commit {meta['commit']} · "
        f"load average before {meta['load_before']}, after {meta['load_after']} · {meta['duration_s']:.0f} s",
        "",
        "1 worker: gateway pinned to CPU 0; fake upstream + load generator pinned to CPU 1. "
        "2 workers: each on a core of its own (one-api --cpu-affinity; daphne via taskset; granian floats), fake "
        "and load generator float. 'other' = CPU used by processes outside the benchmark (noise). "
        f"Benchmark processes ran at nice {meta['priority']}.",
        "",
    ]
    return "\n".join(head + lines) + "\n"


def _str_keys(value):
    if isinstance(value, dict):
        return {str(k): _str_keys(v) for k, v in value.items()}
    return value


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="short phases, daphne only (under 2 minutes)")
    parser.add_argument(
        "--sql-dsn", default="", help="use this PostgreSQL/MySQL DSN instead of a fresh SQLite"
    )
    parser.add_argument("--servers", default="", help="comma-separated: daphne,uvicorn,granian")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir (logs, DB)")
    parser.add_argument(
        "--priority",
        type=int,
        default=-10 if os.geteuid() == 0 else 0,
        help="nice value for the gateway, fake and load generators (default -10 as root: other work on the "
        "machine then gets less CPU while the benchmark runs; 0 to compete equally)",
    )
    parser.add_argument("--out", default=str(BENCH / "results" / "latest.md"))
    parser.add_argument("--json", default="", help="also write the raw results as JSON here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required (apt-get install wrk)")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so every started process is stopped
    plan = make_plan(args)
    global PRIORITY
    PRIORITY = args.priority
    started = time.monotonic()
    load_before = "%.2f %.2f %.2f" % os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="one-api-bench-"))
    (workdir / "logs").mkdir()
    env = base_env(workdir, args.sql_dsn)
    fake_port = free_port()
    fake = Proc(
        "fake",
        spawn(
            "fake",
            pinned([PY, str(BENCH / "fake_upstream.py"), "--port", str(fake_port)], LOAD_CPU),
            env,
            workdir / "fake.log",
        ),
        workdir / "fake.log",
    )
    runs: dict = {}
    try:
        log(f"data dir {workdir}; bootstrapping the database")
        subprocess.run([PY, "manage.py", "bootstrap"], cwd=ROOT, env=env, check=True, capture_output=True)
        setup = subprocess.run(
            [PY, str(BENCH / "setup_db.py"), f"http://127.0.0.1:{fake_port}", MODEL],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        key = json.loads(setup.stdout.strip().splitlines()[-1])["key"]
        time.sleep(0.3)
        fake_url = f"http://127.0.0.1:{fake_port}/v1/chat/completions"
        script = workdir / "chat.lua"
        script.write_text(WRK_SCRIPT.format(key=key, body=chat_body()))
        log("direct to the fake upstream")
        wrk(fake_url, script, 8, 1, LOAD_CPU)
        direct = {
            "nonstream": measure_nonstream(fake_url, script, plan, None, fake),
            "streams": measure_streams(fake_url, key, plan, None, fake),
        }
        for server in plan.servers:
            runs[(server, 1)] = run_gateway(server, 1, env, workdir, key, plan, fake)
        for server in plan.two_workers:
            runs[(server, 2)] = run_gateway(server, 2, env, workdir, key, plan, fake)
    finally:
        fake.stop()
    meta = {
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "db": "custom SQL_DSN" if args.sql_dsn else "SQLite (WAL)",
        "cpus": NCPU,
        "commit": git_commit(),
        "load_before": load_before,
        "load_after": "%.2f %.2f %.2f" % os.getloadavg(),
        "duration_s": time.monotonic() - started,
        "priority": PRIORITY,
    }
    table = build_table(direct, runs, plan, meta)
    for (server, workers), r in runs.items():
        if workers == 2:
            for conns, res in r["nonstream"].items():
                c = res["cpu"]
                table += (
                    f"\n2 workers {server} c={conns}: {res['rps']:.0f} req/s, p50 {fmt(res['p50_ms'])} ms, "
                    f"p99 {fmt(res['p99_ms'])} ms, {res.get('cpu_s_per_1000', float('nan')):.2f} CPU-s/1k; "
                    f"cores: gw {c['gateway']:.2f} fake {c['fake']:.2f} load {c['loadgen']:.2f} "
                    f"other {c['other']:.2f}"
                )
    table += "\n"
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table)
    if args.json:
        raw = {"direct": direct, "runs": {f"{s}-{w}w": r for (s, w), r in runs.items()}, "meta": meta}
        Path(args.json).write_text(json.dumps(_str_keys(raw), indent=1))
    log(f"wrote {out}")
    if args.keep:
        log(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
