"""``one-api --cpu-affinity``: each gateway worker process keeps to a core of its own.

Why: a relayed request is a few loopback or LAN round trips, and when the kernel moves a worker between cores
(or wakes it on the core where the upstream's or the client's socket work just ran) its caches start cold.
Measured on the 2-core benchmark machine (deploy/bench): one uvicorn worker floating relayed 741 non-stream
requests a second at 1.33 ms of CPU each; pinned to one core, 1,441 at 0.67 ms. Two workers: 1,502 → 2,303.
This is what nginx's ``worker_cpu_affinity auto`` does. It is a choice for machines that run the gateway
mostly alone; a database on the same cores may prefer workers that float, so it is off by default.

The supervisor (uvicorn's parent process) pins its children from a thread, once a second: each worker, every
thread of it, to the least used of the cores the parent may use (its own affinity, so container CPU sets are
respected). A worker keeps its core; a restarted one takes the core its predecessor left.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterable

CHECK_EVERY_S = 1.0


def allowed_cores() -> list[int]:
    return sorted(os.sched_getaffinity(0))


def assign_cores(pids: Iterable[int], cores: list[int], previous: dict[int, int]) -> dict[int, int]:
    """Each live worker's core: a worker keeps the core it had; a new one takes the least used core."""
    live = sorted(pids)
    plan = {pid: previous[pid] for pid in live if pid in previous and previous[pid] in cores}
    for pid in live:
        if pid not in plan:
            load = {core: 0 for core in cores}
            for core in plan.values():
                load[core] += 1
            plan[pid] = min(cores, key=lambda core: (load[core], core))
    return plan


def pin_process(pid: int, core: int) -> None:
    """Pin every thread of ``pid`` (threads started later inherit it from their creator)."""
    try:
        threads = [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        threads = [pid]
    for tid in threads:
        try:
            if os.sched_getaffinity(tid) != {core}:
                os.sched_setaffinity(tid, {core})
        except OSError:
            pass  # the thread (or the process) has just ended


def pin_self() -> None:
    """One process serving alone (a single worker): keep it on the first allowed core."""
    pin_process(os.getpid(), allowed_cores()[0])


class WorkerPinner(threading.Thread):
    """Runs in the supervisor: keeps each child worker process on its own core."""

    def __init__(self) -> None:
        super().__init__(name="one-api-cpu-affinity", daemon=True)
        self.cores = allowed_cores()
        self.plan: dict[int, int] = {}
        self.stopped = threading.Event()

    def pin_children(self) -> dict[int, int]:
        children = [child.pid for child in multiprocessing.active_children() if child.pid is not None]
        self.plan = assign_cores(children, self.cores, self.plan)
        for pid, core in self.plan.items():
            pin_process(pid, core)
        return self.plan

    def run(self) -> None:
        while not self.stopped.wait(CHECK_EVERY_S):
            self.pin_children()

    def stop(self) -> None:
        self.stopped.set()
