"""The Dask submission window grows as workers join after a sweep starts."""

from __future__ import annotations

import threading
import time

import pytest

from flowsim.sweep.executor import run_on_dask
from flowsim.sweep.tasks import RunTask

distributed = pytest.importorskip("distributed")

_LOCK = threading.Lock()
_STATE = {"now": 0, "peak": 0}


def _slow_model(overrides, seed):
    with _LOCK:
        _STATE["now"] += 1
        _STATE["peak"] = max(_STATE["peak"], _STATE["now"])
    time.sleep(0.3)
    with _LOCK:
        _STATE["now"] -= 1
    return {"y": float(seed)}, None


def test_window_grows_with_workers_joining_late():
    """One 1-thread worker at the start, 12 threads later: 12 runs reach flight at once."""
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
    )
    with cluster, distributed.Client(cluster) as client:
        tasks = [RunTask(i, i, 0, i, {}) for i in range(120)]
        cluster.new_spec["options"]["nthreads"] = 6  # workers added later have 6 threads
        joined = threading.Timer(0.5, lambda: cluster.scale(3))
        joined.start()
        done: list = []
        run_on_dask(client, tasks, _slow_model, done.append)
        joined.cancel()
    threads_at_end = 1 + 2 * 6
    print(f"peak runs in flight: {_STATE['peak']} for {threads_at_end} worker threads")
    assert len(done) == 120
    assert _STATE["peak"] >= threads_at_end, (
        f"peak in flight {_STATE['peak']}, worker threads {threads_at_end}: window did not grow"
    )


def test_hangup_ignored_under_nohup_stays_ignored():
    """Under nohup (SIGHUP ignored) a long command must not turn a hang-up into a stop."""
    import signal

    from flowsim.diskio import signals_as_interrupt

    if not hasattr(signal, "SIGHUP"):
        pytest.skip("no SIGHUP on this platform")
    old = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with signals_as_interrupt():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN, "nohup's SIGHUP was replaced"
            signal.raise_signal(signal.SIGHUP)  # ignored: no Interrupted raised
    finally:
        signal.signal(signal.SIGHUP, old)
