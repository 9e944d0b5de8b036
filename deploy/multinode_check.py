"""Two gateway nodes on one PostgreSQL and one Redis, checked end to end (run by `.ci/run`, stage multinode).

    .venv/bin/python deploy/multinode_check.py     # needs PostgreSQL and Redis as `.ci/run` starts them

What it proves, each as a numbered check that prints PASS/FAIL and a number:

1. concurrent requests on one key spread over both nodes: the user's and the key's quota fall by exactly the
   sum of the consume logs, one log per successful answer (batched settlement is on, so it must be flushed);
2. a channel disabled through node A's /api stops being used by node B within two seconds;
3. a key deleted through node A's /api stops working on both nodes within two seconds;
4. node B restarted (SIGTERM, graceful) in the middle of load on both nodes loses no log and no quota.

The database is a fresh ``oneapi_multinode`` (dropped and created; the oneapi role has CREATEDB) and Redis
database 13 is flushed. A fake OpenAI upstream runs in this process; the nodes are `one-api --server uvicorn`
processes. Exits 1 if any check fails.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
ADMIN_DSN = os.environ.get("MULTINODE_ADMIN_DSN", "postgres://oneapi:oneapi@127.0.0.1:5432/oneapi")
DATABASE = "oneapi_multinode"
REDIS_URL = os.environ.get("MULTINODE_REDIS_URL", "redis://127.0.0.1:6379/13")
MODEL = "gpt-4o-mini"
PROMPT_TOKENS, COMPLETION_TOKENS = 13, 9
ROOT_ACCESS_TOKEN = secrets.token_hex(16)


# --- the fake upstream ---------------------------------------------------------------------------------------


class FakeUpstream:
    """OpenAI chat completions with fixed usage; counts requests per channel key (``Bearer <key>``)."""

    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.log: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        key = dict(scope["headers"]).get(b"authorization", b"").decode().removeprefix("Bearer ")
        with self._lock:
            self.hits[key] = self.hits.get(key, 0) + 1
            self.log.append((time.monotonic(), key))
        body = json.loads(raw or b"{}")
        usage = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS, "total_tokens": 22}
        if body.get("stream"):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")],
                }
            )
            base = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": MODEL}
            events = [
                {**base, "choices": [{"index": 0, "delta": {"content": "hi "}, "finish_reason": None}]},
                {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                {**base, "choices": [], "usage": usage},
            ]
            for event in events:
                await send(
                    {
                        "type": "http.response.body",
                        "body": f"data: {json.dumps(event)}\n\n".encode(),
                        "more_body": True,
                    }
                )
            await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
            return
        answer = {
            "id": "c",
            "object": "chat.completion",
            "created": 1,
            "model": MODEL,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
            ],
            "usage": usage,
        }
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": json.dumps(answer).encode()})


def serve_upstream(app) -> tuple[str, object]:

    from tests.fakes.server import ServerThread

    server = ServerThread(app)
    server.server.config.log_level = "error"
    return server.start().url, server


# --- database, nodes ---------------------------------------------------------------------------------------


def fresh_database() -> str:
    import psycopg
    import redis

    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + DATABASE


def node_env(dsn: str, data_dir: Path, node_type: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LOG_SQL_DSN", "ONE_API_TESTING", "DJANGO_SETTINGS_MODULE")
    }
    env.update(
        SQL_DSN=dsn,
        REDIS_CONN_STRING=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,  # a broker: the nodes run no in-process scheduler (no worker here)
        SESSION_SECRET="multinode-check-secret",
        DATA_DIR=str(data_dir),
        NODE_TYPE=node_type,
        BATCH_UPDATE_ENABLED="true",
        BATCH_UPDATE_INTERVAL="1",
        INITIAL_ROOT_ACCESS_TOKEN=ROOT_ACCESS_TOKEN,
        GLOBAL_API_RATE_LIMIT="0",
        PYTHONUNBUFFERED="1",
    )
    return env


class Node:
    def __init__(self, name: str, env: dict[str, str], workdir: Path) -> None:
        from tests.fakes.server import free_port

        self.name, self.env, self.workdir = name, env, workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Node:
        log = open(self.workdir / f"{self.name}.log", "ab")  # inherited by the node; closed when it exits
        self.process = subprocess.Popen(
            [
                str(BIN / "one-api"),
                "--server",
                "uvicorn",
                "--port",
                str(self.port),
                "--log-dir",
                str(self.workdir),
            ],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"node {self.name} did not start; see {self.workdir / (self.name + '.log')}"
                )
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM: uvicorn finishes in-flight requests, then the lifespan shutdown flushes quota and logs."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise RuntimeError(f"node {self.name} did not stop within 60 s of SIGTERM") from None
        self.process = None


# --- the checks --------------------------------------------------------------------------------------------

RESULTS: list[tuple[str, bool, str]] = []


def check(name: str, ok: bool, detail: str) -> None:
    RESULTS.append((name, ok, detail))
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)


def chat(node: Node, key: str, *, stream: bool = False, client: httpx.Client | None = None) -> int:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hello there"}], "stream": stream}
    try:
        sender = client or httpx
        response = sender.post(
            f"{node.url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer sk-{key}"},
            timeout=30,
        )
        if stream and response.status_code == 200 and b"[DONE]" not in response.content:
            return -2  # a stream cut short
        return response.status_code
    except httpx.HTTPError:
        return -1  # connection refused/reset: the node was restarting


def new_customer(name: str):
    from accounts.services import token_create, user_create

    user = user_create(username=name, password=f"{name}-password", quota=10**9)
    token = token_create(user=user, name=f"{name}-key", remain_quota=10**8)
    return user, token


def settled(user, token, expected_logs: int, timeout: float = 20.0):
    """Wait until every answered request's log and quota are in the database; returns (user, token, logs)."""
    from django.db.models import Count, Sum

    from logs_app.models import Log, LogType

    deadline = time.monotonic() + timeout
    while True:
        user.refresh_from_db()
        token.refresh_from_db()
        logs = Log.objects.filter(type=LogType.CONSUME, token_id=token.pk).aggregate(
            n=Count("id"), q=Sum("quota")
        )
        charged = 10**9 - user.quota
        if (
            logs["n"] == expected_logs
            and charged == (logs["q"] or 0)
            and charged == 10**8 - token.remain_quota
        ) or (time.monotonic() > deadline):
            return user, token, logs["n"], logs["q"] or 0
        time.sleep(0.25)


def check_exact_sum(a: Node, b: Node) -> None:
    user, token = new_customer("concur")
    nodes = [a, b]
    with ThreadPoolExecutor(max_workers=24) as pool:
        statuses = list(pool.map(lambda i: chat(nodes[i % 2], token.key, stream=i % 3 == 0), range(240)))
    ok = statuses.count(200)
    user, token, logs, quota = settled(user, token, ok)
    charged = 10**9 - user.quota
    fine = (
        ok == 240
        and logs == ok
        and charged == quota == 10**8 - token.remain_quota
        and user.used_quota == quota
    )
    check(
        "exact quota over two nodes",
        fine,
        f"{ok}/240 answered, {logs} logs, logs sum {quota}, user charged {charged}, key charged "
        f"{10**8 - token.remain_quota}, used_quota {user.used_quota}",
    )


def check_disable_reaches_other_node(a: Node, b: Node, upstream: FakeUpstream, channels) -> None:
    _user, token = new_customer("disable")
    first, _second = channels
    for _ in range(6):
        chat(b, token.key)
    disabled_at = time.monotonic()
    response = httpx.put(
        f"{a.url}/api/channel/",
        json={"id": first.pk, "status": 2},
        headers={"Authorization": ROOT_ACCESS_TOKEN},
        timeout=10,
    )
    answered = response.json().get("success") if response.status_code == 200 else False
    with httpx.Client() as client:
        while time.monotonic() - disabled_at < 4:
            chat(b, token.key, client=client)
            time.sleep(0.02)
    last_use = max((t for t, key in upstream.log if key == first.key), default=0.0)
    lag = max(0.0, last_use - disabled_at)
    check(
        "channel disabled on A unused by B",
        bool(answered) and lag < 2.0,
        f"/api answered {answered}; last use after {lag:.2f} s",
    )


def check_deleted_key(a: Node, b: Node) -> None:
    user, token = new_customer("deleted")
    assert chat(a, token.key) == 200 and chat(b, token.key) == 200
    deleted_at = time.monotonic()
    response = httpx.delete(
        f"{a.url}/api/token/{token.pk}", headers={"Authorization": user.access_token}, timeout=10
    )
    answered = response.status_code == 200 and response.json().get("success")
    refused: dict[str, float] = {}
    with httpx.Client() as client:
        while len(refused) < 2 and time.monotonic() - deleted_at < 5:
            for node in (a, b):
                if node.name not in refused and chat(node, token.key, client=client) == 401:
                    refused[node.name] = time.monotonic() - deleted_at
            time.sleep(0.02)
    fine = bool(answered) and len(refused) == 2 and max(refused.values()) < 2.0
    detail = (
        ", ".join(f"{name} refuses after {lag:.2f} s" for name, lag in sorted(refused.items()))
        or "still accepted"
    )
    check("deleted key refused on both nodes", fine, f"/api answered {answered}; {detail}")


def check_restart_under_load(a: Node, b: Node) -> None:
    user, token = new_customer("restart")
    statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def load(node_index: int) -> None:
        with httpx.Client() as client:
            while not stop.is_set():
                node = (a, b)[node_index]
                status = chat(node, token.key, stream=len(statuses) % 4 == 0, client=client)
                with lock:
                    statuses.append(status)
                if status < 0:
                    time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(i % 2,)) for i in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    b.stop()  # graceful: in-flight requests finish, then quota and logs are flushed
    b.start()
    time.sleep(2.0)
    stop.set()
    for thread in threads:
        thread.join()
    answered = statuses.count(200)
    user, token, logs, quota = settled(user, token, answered)
    charged = 10**9 - user.quota
    other = sorted({s for s in statuses if s not in (200, -1)})
    fine = answered > 0 and logs == answered and charged == quota == 10**8 - token.remain_quota and not other
    check(
        "restart of a node under load",
        fine,
        f"{answered} answered, {statuses.count(-1)} refused while down, other statuses {other}; {logs} logs, "
        f"logs sum {quota}, user charged {charged}, key charged {10**8 - token.remain_quota}",
    )


def main() -> int:
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="one-api-multinode-"))
    dsn = fresh_database()
    master_env = node_env(dsn, workdir / "a", "master")
    slave_env = node_env(dsn, workdir / "b", "slave")
    subprocess.run([sys.executable, "manage.py", "bootstrap"], env=master_env, cwd=ROOT, check=True)
    os.environ.update({k: v for k, v in master_env.items() if k not in ("NODE_TYPE",)})
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    from channels_app.models import Channel
    from channels_app.services import channel_save

    upstream = FakeUpstream()
    upstream_url, upstream_server = serve_upstream(upstream)
    channels = [
        channel_save(Channel(type=1, key=f"upstream-{n}", name=n, model_names=MODEL, base_url=upstream_url))
        for n in ("first", "second")
    ]
    a = Node("node-a", master_env, workdir).start()
    b = Node("node-b", slave_env, workdir).start()
    print(
        f"nodes up in {time.monotonic() - started:.1f} s: A {a.url} (master), B {b.url} (slave); logs in {workdir}"
    )
    try:
        check_exact_sum(a, b)
        check_disable_reaches_other_node(a, b, upstream, channels)
        check_deleted_key(a, b)
        check_restart_under_load(a, b)
    finally:
        for node in (a, b):
            try:
                node.stop()
            except Exception as exc:  # report, and let the summary fail
                check(f"{node.name} stops cleanly", False, str(exc))
        upstream_server.stop()
    failed = [name for name, ok, _ in RESULTS if not ok]
    print(
        f"multinode check: {len(RESULTS) - len(failed)}/{len(RESULTS)} passed in {time.monotonic() - started:.1f} s"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
