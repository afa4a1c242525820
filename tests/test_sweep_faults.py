"""Faults: killed workers, killed sweeps, failing runs, results never overwritten.

A killed worker loses no run, a killed sweep resumes to every run exactly once,
a run that raises is recorded and the others finish; finished results are never overwritten.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import FailAt, KillWorkerOnce, factorial_body, write_tiny_sweep

from flowsim.sweep.api import SweepError, read_sweep, sweep
from flowsim.sweep.plan import plan_sweep

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_killed_worker_loses_no_run(tmp_path):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=2))
    plan = plan_sweep(spec)
    marker = tmp_path / "killed"
    reference = sweep(spec, workers=1, out=tmp_path / "reference", progress=False)
    result = sweep(
        spec,
        workers=2,
        out=tmp_path / "out",
        progress=False,
        batch_size=4,
        model=KillWorkerOnce(plan.model, str(marker)),
    )
    assert marker.exists(), "test setup: a worker process killed itself during the sweep"
    assert result.runs["run_id"].tolist() == list(range(plan.n_runs)), (
        "every run recorded exactly once"
    )
    assert result.runs["error"].isna().all(), f"the killed run was redone: {result.failures}"
    pd.testing.assert_frame_equal(result.runs, reference.runs, obj="runs after a worker was killed")


def test_a_run_that_raises_is_recorded_and_the_others_finish(tmp_path):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=2))
    plan = plan_sweep(spec)
    failing = FailAt(plan.model, "talent.move_rate", 0.02)
    result = sweep(spec, workers=2, out=tmp_path / "out", progress=False, model=failing)
    runs = result.runs
    bad = runs["talent.move_rate"] == 0.02
    assert runs["run_id"].tolist() == list(range(16)), "every run is recorded, failed or not"
    assert bad.sum() == 8 and runs.loc[bad, "error"].str.contains("injected failure").all(), (
        "each failing run has its error text"
    )
    assert runs.loc[bad, "papers"].isna().all(), "a failed run has no outcomes"
    assert runs.loc[~bad, "error"].isna().all() and runs.loc[~bad, "papers"].notna().all(), (
        "the others finish"
    )
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert sorted(f["run_id"] for f in manifest["failures"]) == runs.loc[bad, "run_id"].tolist(), (
        "the manifest lists the failures"
    )
    assert len(result.failures) == 8, "SweepResult.failures lists them too"


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, "the sweep ended before it could be interrupted"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_killed_sweep_resumes_with_every_run_exactly_once(tmp_path):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=5, levels=3), steps=12)  # 60 runs
    out = tmp_path / "out"
    command = [
        sys.executable,
        "-m",
        "flowsim.cli",
        "sweep",
        str(spec),
        "--workers",
        "1",
        "--out",
        str(out),
        "--batch-size",
        "3",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    try:
        _wait_for(out / "parts" / "runs-000003.parquet", process)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running", "the sweep was killed before it finished"
    with pytest.raises(SweepError, match="unfinished sweep; use --resume"):
        sweep(spec, workers=1, out=out, progress=False)
    with pytest.raises(SweepError, match="unfinished"):
        read_sweep(out)

    resumed = subprocess.run(
        [*command[:-1], "--resume", "--quiet"], capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, f"resume failed: {resumed.stderr}"
    result = read_sweep(out)
    runs = result.runs
    assert runs["run_id"].tolist() == list(range(60)), "every run exactly once after resuming"
    assert len(result.manifest["sessions"]) == 2, "the manifest records both sessions"
    reference = sweep(spec, workers=1, out=tmp_path / "reference", progress=False)
    pd.testing.assert_frame_equal(
        runs, reference.runs, obj="resumed runs vs an uninterrupted sweep"
    )
    counts = result.timeseries.groupby("run_id").size()
    assert len(counts) == 60 and (counts == 12 * 3).all(), (
        "the time series holds every run exactly once"
    )
    assert not (out / "parts").exists(), "the parts are removed once consolidated"


def test_finished_sweeps_are_not_overwritten_and_resume_checks_the_inputs(tmp_path):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=1))
    out = tmp_path / "out"
    first = sweep(spec, workers=1, out=out, progress=False)
    with pytest.raises(SweepError, match="already holds a complete sweep"):
        sweep(spec, workers=1, out=out, progress=False)
    again = sweep(spec, workers=1, out=out, resume=True, progress=False)
    pd.testing.assert_frame_equal(
        again.runs, first.runs, obj="--resume of a complete sweep changes nothing"
    )
    with pytest.raises(SweepError, match="base scenario .* changed"):
        sweep(spec, workers=1, out=out, resume=True, steps=4, progress=False)
    (out / "notes.txt").write_text("mine")
    forced = sweep(spec, workers=1, out=out, force=True, steps=4, progress=False)
    assert forced.manifest["base_overrides"] == {"steps": 4}, (
        "--force starts again with the new settings"
    )
    with pytest.raises(SweepError, match="not empty and holds no sweep"):
        sweep(spec, workers=1, out=tmp_path, progress=False)
