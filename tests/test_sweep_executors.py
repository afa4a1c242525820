"""One sweep in this process, on 2 local workers and on an external Dask cluster: same runs."""

from __future__ import annotations

import subprocess
import sys
import time

import pandas as pd
import pytest
from sweep_helpers import factorial_body, free_port, write_tiny_sweep

from flowsim.sweep.api import sweep

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _sorted_timeseries(result) -> pd.DataFrame:
    return result.timeseries.sort_values(["run_id", "variable", "step"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    return write_tiny_sweep(tmp_path_factory.mktemp("spec"), factorial_body(replications=2))


@pytest.fixture(scope="module")
def in_process(tiny_sweep, tmp_path_factory):
    return sweep(tiny_sweep, workers=1, out=tmp_path_factory.mktemp("w1") / "out", progress=False)


def test_in_process_sweep_records_every_run(in_process):
    runs = in_process.runs
    assert runs["run_id"].tolist() == list(range(16)), "16 runs, each once, sorted by run id"
    assert runs["error"].isna().all(), f"no run failed: {runs['error'].dropna().tolist()}"
    assert {"policy.corridors.GD-HK.data.approval", "talent.move_rate", "papers", "seed"} <= set(
        runs.columns
    ), "runs.parquet has the factors, the seed and the outcomes"
    assert in_process.manifest["status"] == "complete" and in_process.manifest["failures"] == [], (
        "manifest done"
    )
    counts = in_process.timeseries.groupby("run_id").size()
    assert (counts == 6 * 3).all() and len(counts) == 16, (
        "6 months x 3 monthly outcomes for every run"
    )
    by_seed = runs.groupby("replicate")["seed"].nunique()
    assert (by_seed == 1).all(), (
        "each replicate uses one seed at every design point (common random numbers)"
    )


def test_two_local_workers_give_identical_results(tiny_sweep, in_process, tmp_path):
    two = sweep(tiny_sweep, workers=2, out=tmp_path / "out", progress=False)
    pd.testing.assert_frame_equal(two.runs, in_process.runs, obj="runs.parquet with 2 workers vs 1")
    pd.testing.assert_frame_equal(
        _sorted_timeseries(two), _sorted_timeseries(in_process), obj="timeseries"
    )


def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dask", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_external_dask_cluster_gives_identical_results(tiny_sweep, in_process, tmp_path):
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"])
    worker = None
    try:
        worker = _start(
            [
                "worker",
                address,
                "--nworkers",
                "1",
                "--nthreads",
                "1",
                "--host",
                "127.0.0.1",
                "--no-dashboard",
            ]
        )
        deadline = time.monotonic() + 60
        while True:  # the scheduler needs a moment to listen
            try:
                with Client(address, timeout="5s") as client:
                    client.wait_for_workers(1, timeout=60)
                break
            except OSError:
                if time.monotonic() > deadline or scheduler.poll() is not None:
                    raise
                time.sleep(0.5)
        remote = sweep(tiny_sweep, scheduler=address, out=tmp_path / "out", progress=False)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                _stop(process)
    pd.testing.assert_frame_equal(
        remote.runs, in_process.runs, obj="runs.parquet via dask scheduler vs in process"
    )
    assert remote.manifest["executor"] == {"scheduler": address}, (
        "the manifest names the cluster used"
    )
