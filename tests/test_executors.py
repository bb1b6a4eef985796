"""trilink.analysis.executors: inline, local processes and a real Dask LocalCluster give the
same results in task order (a `trilink compare` too); progress, task errors and executor
errors reach the caller."""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from typing import Any

import distributed
import numpy as np
import pytest

from trilink.analysis.executors import ExecutorError, map_tasks, resolve_workers

N_TASKS = 8


def seeded_task(task: tuple[int, int]) -> list[dict[str, Any]]:
    """A small stand-in for a Monte Carlo task: rows drawn from the task's own seed.

    Early tasks sleep longest, so that pools finish them out of order."""
    index, seed = task
    time.sleep(0.03 * ((N_TASKS - index) % 4))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(200, 3))
    return [{"task": index, "column": c, "mean": float(x[:, c].mean()),
             "max": float(x[:, c].max())} for c in range(3)]


def failing_task(task: tuple[int, int]) -> list[dict[str, Any]]:
    """Like `seeded_task`, but task 3 raises."""
    if task[0] == 3:
        raise ValueError(f"task {task[0]} failed on purpose")
    return seeded_task(task)


def dying_task(task: tuple[int, int]) -> int:
    """Kills its own worker process (as the OOM killer would)."""
    if task[0] == 1:
        os._exit(3)
    return task[0]


TASKS = [(i, 1000 + 17 * i) for i in range(N_TASKS)]
EXPECTED = [seeded_task(t) for t in TASKS]


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """A real LocalCluster: 2 worker processes of 1 thread each, on 127.0.0.1, started once
    (one xdist worker runs this module: tests/conftest.py, ONE_WORKER_GROUPS).

    No dashboard; the scheduler's small HTTP server (always started) takes a free port
    rather than 8787, which the other xdist worker's cluster may hold."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                  ) as cluster:
        yield str(cluster.scheduler_address)


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Counter:
    """Records every progress call."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))


def check_progress(counter: Counter, n: int) -> None:
    assert counter.calls == [(i, n) for i in range(1, n + 1)]


def test_inline_is_the_plain_loop() -> None:
    counter = Counter()
    assert map_tasks(seeded_task, TASKS, workers=1, progress=counter) == EXPECTED
    check_progress(counter, N_TASKS)


def test_local_processes_same_results_in_task_order() -> None:
    counter = Counter()
    assert map_tasks(seeded_task, TASKS, workers=2, progress=counter) == EXPECTED
    check_progress(counter, N_TASKS)


def test_dask_local_cluster_same_results_in_task_order(dask_address: str) -> None:
    counter = Counter()
    got = map_tasks(seeded_task, TASKS, dask_address=dask_address, progress=counter)
    assert got == EXPECTED
    check_progress(counter, N_TASKS)


def test_compare_over_dask_gives_the_same_numbers_as_local(dask_address: str) -> None:
    """`trilink compare` on the cluster: the same rows and the same aggregate as inline."""
    from trilink.analysis.compare import CompareSpec, run_comparison

    spec = CompareSpec(("2023-12-17-srbm",), ("national-only", "trilateral-realtime"),
                       runs=1, seed=3)
    local, local_rows = run_comparison(spec, workers=1)
    remote, remote_rows = run_comparison(spec, dask_address=dask_address)
    assert remote_rows == local_rows
    assert json.dumps(remote, sort_keys=True) == json.dumps(local, sort_keys=True)


def test_task_exception_reaches_the_caller_inline_and_local() -> None:
    with pytest.raises(ValueError, match="task 3 failed on purpose"):
        map_tasks(failing_task, TASKS, workers=1)
    with pytest.raises(ValueError, match="task 3 failed on purpose"):
        map_tasks(failing_task, TASKS, workers=2)


def test_task_exception_reaches_the_caller_dask(dask_address: str) -> None:
    with pytest.raises(ValueError, match="task 3 failed on purpose"):
        map_tasks(failing_task, TASKS, dask_address=dask_address)
    # The cluster is still usable afterwards.
    assert map_tasks(seeded_task, TASKS[:2], dask_address=dask_address) == EXPECTED[:2]


def test_dead_local_worker_is_an_executor_error() -> None:
    with pytest.raises(ExecutorError, match="worker process died"):
        map_tasks(dying_task, [(i, 0) for i in range(4)], workers=2)


def test_unreachable_scheduler_is_an_executor_error() -> None:
    address = f"tcp://127.0.0.1:{closed_port()}"
    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler") as info:
        map_tasks(seeded_task, TASKS, dask_address=address, connect_timeout_s=1.0)
    assert address in str(info.value)


def test_missing_distributed_is_an_executor_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import now fails
    with pytest.raises(ExecutorError, match=r"pip install 'trilink\[dask\]'"):
        map_tasks(seeded_task, TASKS, dask_address="tcp://127.0.0.1:8786")


def test_workers_argument() -> None:
    assert resolve_workers(None) == (os.cpu_count() or 1)
    assert resolve_workers(3) == 3
    for bad in (0, -2, True, 1.5):
        with pytest.raises(ExecutorError, match="workers must be"):
            resolve_workers(bad)  # type: ignore[arg-type]
    assert map_tasks(seeded_task, [], workers=2) == []
    # A single task runs inline whatever the worker count.
    assert map_tasks(seeded_task, TASKS[:1], workers=4) == EXPECTED[:1]
