"""Where a sweep's runs execute: in this process, on a local Dask cluster, or on a remote one.

All three share one code path — :func:`execute` hands each finished run's record
to a callback as soon as it is done, in whatever order runs finish. Because every
task carries its own seed, the records do not depend on the executor.

On Dask, tasks are submitted in a sliding window (a few per worker thread) so that
a sweep of any size keeps little in flight. A run whose worker dies is rescheduled
by the scheduler; if the scheduler gives up on it (``KilledWorker``) or the
connection drops, the run is resubmitted up to ``attempts`` times before it is
recorded as failed: a killed worker loses no run.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flowsim.sweep.tasks import Model, RunTask, empty_record, run_task

OnResult = Callable[[dict[str, Any]], None]


def default_workers() -> int:
    """The machine's cores (at least 1)."""
    return max(1, os.cpu_count() or 1)


@contextmanager
def dask_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A ``dask.distributed.Client``: to ``scheduler`` if given, else to a new local cluster.

    The local cluster has ``workers`` single-threaded worker processes bound to
    127.0.0.1 and no dashboard; it is closed on exit.
    """
    import dask
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler, timeout="30s") as client:
            yield client
        return
    # Dask's nannies give workers MALLOC_TRIM_THRESHOLD_=65536 by default; a fixed trim
    # threshold turns off glibc's adaptive mmap threshold, so every large numpy
    # temporary becomes a fresh mmap: flowsim runs measured 12-17% slower that way.
    # Our own local workers keep glibc's defaults (a user's --scheduler cluster is theirs).
    # With no dashboard, the workers' statistical profiler (a stack sample every 10 ms,
    # taking the GIL from the run) serves nobody: it is off too.
    quiet_workers = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.worker.profile.enabled": False,
    }
    with (
        dask.config.set(quiet_workers),
        LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_in_process(tasks: Iterable[RunTask], model: Model, on_result: OnResult) -> None:
    """Run tasks one after another in this process (``--workers 1``; easiest to debug)."""
    for task in tasks:
        on_result(run_task(task, model))


def run_on_dask(
    client: Any,
    tasks: Iterable[RunTask],
    model: Model,
    on_result: OnResult,
    attempts: int = 3,
    window: int | None = None,
) -> None:
    """Run tasks on a Dask cluster and stream their records to ``on_result`` as they finish.

    Args:
        client: a connected ``distributed.Client``.
        tasks: the runs to do.
        model: the picklable model each task calls.
        on_result: called in this process with each finished run's record.
        attempts: submissions of a run before an infrastructure failure is recorded as its error.
        window: most runs in flight at once; default four per worker thread (at least 8).
    """
    from distributed import as_completed

    pending = iter(tasks)
    threads = sum(client.nthreads().values()) or 1
    window = window or max(8, 4 * threads)
    token = uuid.uuid4().hex[:8]
    owner: dict[str, tuple[RunTask, int]] = {}

    def submit(task: RunTask, attempt: int) -> Any:
        key = f"flowsim-run-{task.run_id}-{token}-{attempt}"
        future = client.submit(run_task, task, model, key=key, pure=False)
        owner[future.key] = (task, attempt)
        return future

    started = [submit(t, 1) for _, t in zip(range(window), pending, strict=False)]
    queue = as_completed(started)
    for future in queue:
        task, attempt = owner.pop(future.key)
        try:
            record = future.result()
        except Exception as exc:  # noqa: BLE001 - a lost worker or connection, not a failed model
            future.release()
            if attempt < attempts:
                queue.add(submit(task, attempt + 1))
                continue
            record = _infrastructure_failure(task, exc, attempt)
        future.release()
        on_result(record)
        following = next(pending, None)
        if following is not None:
            queue.add(submit(following, 1))


def _infrastructure_failure(task: RunTask, exc: BaseException, attempts: int) -> dict[str, Any]:
    return empty_record(task, f"{type(exc).__name__}: {exc} (gave up after {attempts} attempts)")


def execute(
    tasks: Iterable[RunTask],
    model: Model,
    on_result: OnResult,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
) -> None:
    """Run every task and pass each finished record to ``on_result``.

    Args:
        tasks: the runs.
        model: what each run calls (picklable for Dask).
        on_result: receives each record in this process, in finishing order.
        workers: 1 runs in this process; N > 1 starts a local cluster of N
            single-threaded processes; None uses every core.
        scheduler: address of an existing Dask scheduler (``tcp://host:port``);
            overrides ``workers``.
    """
    if scheduler is None and (workers or default_workers()) == 1:
        run_in_process(tasks, model, on_result)
        return
    with dask_client(workers, scheduler) as client:
        run_on_dask(client, tasks, model, on_result)


__all__ = ["dask_client", "default_workers", "execute", "run_in_process", "run_on_dask"]
