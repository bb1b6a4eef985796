"""Run independent tasks inline, in local worker processes, or on a Dask cluster.

`map_tasks(fn, tasks)` is ``[fn(t) for t in tasks]`` with a choice of where the calls run:

- **inline** (``workers=1``, or a single task): in this process, one after the other. No
  pool, nothing to pickle; the simplest to debug and the reference for the others.
- **local processes** (``workers=K > 1``, default ``os.cpu_count()``): a
  `concurrent.futures.ProcessPoolExecutor` of K workers started with *spawn*. The parent
  may hold threads (numba's, sqlite's, a progress bar's), and forking a process with
  threads is unsafe, so every worker starts a fresh interpreter and imports ``fn``'s module
  itself (``fn`` must be a module-level function; tasks and results must pickle).
- **Dask** (``dask_address="tcp://HOST:PORT"``): a `distributed.Client` connected to that
  scheduler; its workers must be able to import ``fn``'s module (trilink installed in the
  same version where they run). ``workers`` is ignored: the cluster has its own.
  `distributed` is an optional dependency (``pip install 'trilink[dask]'``), imported only
  here.

Results always come back in task order, whatever order the tasks finish in, and
``progress(done, total)`` is called in this process after each task finishes. An exception
raised by a task is re-raised here unchanged (pending tasks are cancelled first). What the
user can get wrong or what the machine can break under them — no Dask installed, a
scheduler that cannot be reached, a worker process that died — is an `ExecutorError` with
one readable line, for the CLI to print.

The executor adds no randomness and does not reorder anything the caller sees: tasks
carry their own seeds, so the three ways give the same results.
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from trilink.errors import TrilinkError

__all__ = ["DEFAULT_CONNECT_TIMEOUT_S", "ExecutorError", "map_tasks", "resolve_workers"]

T = TypeVar("T")
R = TypeVar("R")

#: Seconds to wait for a Dask scheduler before giving up with an `ExecutorError`.
DEFAULT_CONNECT_TIMEOUT_S = 10.0

DASK_EXTRA_HINT = "--dask needs the 'dask' extra: pip install 'trilink[dask]'"

Progress = Callable[[int, int], None]


class ExecutorError(TrilinkError, RuntimeError):
    """The tasks could not be run where asked (not an error raised by a task itself)."""


def resolve_workers(workers: int | None) -> int:
    """Number of local worker processes for ``workers`` (None: the machine's CPU count)."""
    if workers is None:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ExecutorError(f"workers must be a whole number >= 1, not {workers!r}")
    return workers


def map_tasks(fn: Callable[[T], R], tasks: Sequence[T], *, workers: int | None = None,
              dask_address: str | None = None, progress: Progress | None = None,
              connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S) -> list[R]:
    """Return ``[fn(t) for t in tasks]``, computed inline, in local processes or on Dask.

    ``dask_address`` given: run on that Dask scheduler (``connect_timeout_s`` to reach
    it). Otherwise ``workers`` local processes (None: `os.cpu_count()`); one worker or
    one task runs inline in this process. ``progress(done, total)`` is called after each
    task finishes. Exceptions raised by ``fn`` propagate to the caller; `ExecutorError`
    means the executor itself could not do its job (see the module docstring).
    """
    tasks = list(tasks)
    if dask_address is not None:
        return _map_dask(fn, tasks, dask_address, progress, connect_timeout_s)
    n_workers = resolve_workers(workers)
    if n_workers == 1 or len(tasks) <= 1:
        return _map_inline(fn, tasks, progress)
    return _map_processes(fn, tasks, min(n_workers, len(tasks)), progress)


def _map_inline(fn: Callable[[T], R], tasks: list[T], progress: Progress | None) -> list[R]:
    """One task after the other, in this process."""
    results: list[R] = []
    for task in tasks:
        results.append(fn(task))
        if progress is not None:
            progress(len(results), len(tasks))
    return results


def _map_processes(fn: Callable[[T], R], tasks: list[T], n_workers: int,
                   progress: Progress | None) -> list[R]:
    """``n_workers`` spawned processes; results put back in task order."""
    total = len(tasks)
    results: dict[int, R] = {}
    pool = ProcessPoolExecutor(max_workers=n_workers,
                               mp_context=multiprocessing.get_context("spawn"))
    try:
        index: dict[Future[R], int] = {pool.submit(fn, task): i for i, task in enumerate(tasks)}
        for future in as_completed(index):
            results[index[future]] = future.result()
            if progress is not None:
                progress(len(results), total)
    except BrokenProcessPool as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        raise ExecutorError(f"a local worker process died before its task finished "
                            f"(out of memory? killed?): {exc}") from exc
    except BaseException:
        # A task raised (or Ctrl-C): drop what has not started, let running tasks end.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in range(total)]


def _map_dask(fn: Callable[[T], R], tasks: list[T], address: str,
              progress: Progress | None, connect_timeout_s: float) -> list[R]:
    """Submit every task to the Dask scheduler at ``address``; results in task order."""
    try:
        # Through importlib: the optional dependency stays out of the import graph (and of
        # mypy's, since `distributed` is largely untyped).
        distributed = importlib.import_module("distributed")
    except ImportError as exc:
        raise ExecutorError(DASK_EXTRA_HINT) from exc
    try:
        client = distributed.Client(address, timeout=connect_timeout_s,
                                    set_as_default=False)
    except Exception as exc:  # unreachable, refused, malformed address: all one message
        raise ExecutorError(f"cannot reach the Dask scheduler at {address} within "
                            f"{connect_timeout_s:g} s: {exc}") from exc
    try:
        if not tasks:
            return []
        total = len(tasks)
        futures = client.map(fn, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: dict[int, R] = {}
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                results[index[future.key]] = future.result()
                if progress is not None:
                    progress(len(results), total)
        except distributed.KilledWorker as exc:
            client.cancel(futures)
            raise ExecutorError(f"Dask workers at {address} died running a task "
                                f"(out of memory? killed?): {exc}") from exc
        except BaseException:
            client.cancel(futures)
            raise
        return [results[i] for i in range(total)]
    finally:
        client.close()
