"""With a warm cache a relayed request reads nothing from the database: its only statements are the atomic
quota updates and the (batched) consume-log insert. Only the reservations run on the request's path; the
settlements are summed and written by the settlement writer, every BATCH_UPDATE_INTERVAL with
BATCH_UPDATE_ENABLED (issue 3, "Speed")."""

from __future__ import annotations

import re
import threading

import pytest
from django.db.backends import utils as db_utils

from billing.services import quota_flush_batched
from logs_app.consume import consume_logs_flush
from relay.http_io import InFlight

N = 10
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)", re.I)


class Recorder:
    """Every SQL statement run through Django's cursors, from any thread (the gateway runs in others)."""

    def __init__(self, monkeypatch) -> None:
        self.statements: list[str] = []
        self.on = False
        self._lock = threading.Lock()
        execute, executemany = db_utils.CursorWrapper.execute, db_utils.CursorWrapper.executemany
        recorder = self

        def recording_execute(cursor, sql, params=None):
            recorder.add(sql)
            return execute(cursor, sql, params)

        def recording_executemany(cursor, sql, param_list):
            recorder.add(sql)
            return executemany(cursor, sql, param_list)

        monkeypatch.setattr(db_utils.CursorWrapper, "execute", recording_execute)
        monkeypatch.setattr(db_utils.CursorWrapper, "executemany", recording_executemany)
        # SQLite reservations run on the event loop's own connection (billing.reserve_now): trace it too.
        from billing import reserve_now

        open_connection = reserve_now._connection

        def traced_connection(alias):
            connection = open_connection(alias)
            connection.set_trace_callback(recorder.add)
            return connection

        monkeypatch.setattr(reserve_now, "_connection", traced_connection)

    def add(self, sql: str) -> None:
        if self.on:
            with self._lock:
                self.statements.append(" ".join(str(sql).split()))

    def __enter__(self) -> Recorder:
        self.statements.clear()
        self.on = True
        return self

    def __exit__(self, *exc) -> None:
        self.on = False

    def data_statements(self) -> list[str]:
        return [s for s in self.statements if not TRANSACTION_CONTROL.match(s)]

    def of_kind(self, verb: str, table: str | None = None) -> list[str]:
        found = [s for s in self.data_statements() if s.upper().startswith(verb)]
        if table is not None:
            found = [s for s in found if re.search(rf'["`\s]{table}["`\s]', s)]
        return found


@pytest.fixture
def recorder(monkeypatch):
    return Recorder(monkeypatch)


@pytest.fixture
def warm(relay):
    relay.channel("hot")
    relay.upstream.plan("hot", usage={"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13})
    with relay.http() as client:
        for _ in range(3):  # auth, routing table, options, tokenizer: all loaded now
            assert client.post("/v1/chat/completions", json=BODY).status_code == 200
    relay.refresh()
    return relay


BODY = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hi"}]}


def relay_n(relay, n: int = N, stream: bool = False) -> None:
    with relay.http() as client:
        for _ in range(n):
            if stream:
                with client.stream("POST", "/v1/chat/completions", json={**BODY, "stream": True}) as response:
                    assert response.status_code == 200
                    response.read()
            else:
                assert client.post("/v1/chat/completions", json=BODY).status_code == 200
    assert InFlight.wait_idle_blocking()
    consume_logs_flush()


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_warm_request_reads_nothing_and_writes_only_quota_and_logs(warm, recorder, stream):
    with recorder:
        relay_n(warm, stream=stream)
    assert recorder.of_kind("SELECT") == []
    statements = recorder.data_statements()
    reservations = [u for u in recorder.of_kind("UPDATE") if ">=" in u]
    assert len(reservations) == 2 * N, statements  # per request: the key, then the user, each conditional
    settlements = [u for u in recorder.of_kind("UPDATE") if ">=" not in u]
    writes = len([u for u in settlements if re.search(r'["`\s]channels["`\s]', u)])
    assert 1 <= writes <= N  # one per writer transaction, which may carry several requests
    for table in ("users", "tokens"):
        assert len([u for u in settlements if re.search(rf'["`\s]{table}["`\s]', u)]) == writes
    inserts = recorder.of_kind("INSERT")
    assert inserts and all(re.search(r'INTO ["`]?logs["`]?', s) for s in inserts)
    assert len(inserts) < N  # logs are written in batches, not one statement per request
    assert len(statements) == 2 * N + 3 * writes + len(inserts)
    warm.refresh()
    assert warm.user.request_count == 3 + N


def test_settlements_that_pile_up_during_a_write_go_out_in_one_transaction(warm, recorder, monkeypatch):
    from billing.settlements import SettlementWriter

    first_write_started, let_it_finish = threading.Event(), threading.Event()
    write = SettlementWriter._write

    def slow_first_write(self, users, tokens, channels):
        if not first_write_started.is_set():
            first_write_started.set()
            let_it_finish.wait(10)
        return write(self, users, tokens, channels)

    monkeypatch.setattr(SettlementWriter, "_write", slow_first_write)
    with recorder:
        with warm.http() as client:
            for _ in range(N):  # answers do not wait for the writer
                assert client.post("/v1/chat/completions", json=BODY).status_code == 200
        assert first_write_started.wait(5)
        let_it_finish.set()
        assert InFlight.wait_idle_blocking()
    settlements = [u for u in recorder.of_kind("UPDATE") if ">=" not in u]
    # one transaction (or two, if the first write began before the second request settled) for N requests
    assert len(settlements) in (3, 3 * 2), settlements
    warm.refresh()
    assert (warm.user.request_count, warm.user.used_quota) == (3 + N, 5 * (3 + N))


def test_updates_are_atomic_increments_never_read_modify_write(warm, recorder):
    with recorder:
        relay_n(warm, n=2)
    assert 2 * 2 + 3 <= len(recorder.of_kind("UPDATE")) <= 2 * 5
    for statement in recorder.of_kind("UPDATE"):
        assert re.search(
            r'SET .*["`]?(quota|remain_quota|used_quota)["`]? = \(?["`]?\w+["`]?\.?["`]?\w*["`]? [+-]',
            statement,
        ), statement


def test_with_batch_updates_only_the_reservations_stay_on_the_request_path(warm, recorder, settings):
    settings.BATCH_UPDATE_ENABLED = True
    settings.BATCH_UPDATE_INTERVAL = 3600
    with recorder:
        relay_n(warm)
    assert recorder.of_kind("SELECT") == []
    assert len(recorder.of_kind("UPDATE")) == 2 * N  # the key and the user, per request
    assert recorder.of_kind("UPDATE", "channels") == []
    with recorder:
        assert quota_flush_batched() == 3
    assert recorder.of_kind("SELECT") == []
    assert len(recorder.of_kind("UPDATE")) == 3  # one per user, key and channel for all N requests
    warm.refresh()
    assert warm.user.request_count == 3 + N
    assert warm.user.used_quota == 5 * (3 + N)
