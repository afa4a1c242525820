"""``flowsim sweep``: dry run, a real sweep, bad input; the Python API ``flowsim.sweep``."""

from __future__ import annotations

import pytest
from sweep_helpers import factorial_body, write_tiny_sweep

import flowsim
from flowsim.cli import main as cli


def test_dry_run_counts_runs_and_estimates_time(tmp_path, capsys):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=3))
    assert cli(["sweep", str(spec), "--dry-run", "--workers", "2", "--steps", "4"]) == 0, (
        "dry run succeeds"
    )
    printed = capsys.readouterr().out
    assert "8 design points x 3 replications = 24 runs" in printed, printed
    assert "one run: about" in printed and "all runs on 2 workers: about" in printed, printed
    assert "4 months" in printed, "--steps is applied to the estimate"
    assert not (tmp_path / "results").exists() and not list(tmp_path.glob("results*")), (
        "a dry run writes nothing"
    )


def test_sweep_command_runs_and_refuses_to_overwrite(tmp_path, capsys):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=1))
    out = tmp_path / "out"
    assert cli(["sweep", str(spec), "--workers", "1", "--out", str(out), "--quiet"]) == 0, (
        "the sweep runs"
    )
    assert "8 runs in" in capsys.readouterr().out, "it says where the results are"
    for name in (
        "runs.parquet",
        "timeseries.parquet",
        "manifest.json",
        "design.parquet",
        "sweep.yaml",
    ):
        assert (out / name).exists(), f"{name} is written"
    manifest = flowsim.read_sweep(out).manifest
    for key in (
        "versions",
        "git_commit",
        "spec_sha256",
        "base_scenario_sha256",
        "root_seed",
        "replicate_seeds",
        "design",
        "samples",
        "runs",
        "failures",
        "started",
        "finished",
    ):
        assert key in manifest, f"the manifest records {key}"
    assert cli(["sweep", str(spec), "--workers", "1", "--out", str(out), "--quiet"]) == 2, (
        "no silent overwrite"
    )
    assert "--resume" in capsys.readouterr().err, "the error says what to do"


def test_bad_sweep_file_exits_2_with_a_located_message(tmp_path, capsys):
    spec = write_tiny_sweep(tmp_path, factorial_body().replace("papers,", "paperz,"))
    assert cli(["sweep", str(spec), "--dry-run"]) == 2, "bad input exits with 2"
    err = capsys.readouterr().err
    assert "sweep.yaml:12:" in err and "did you mean 'papers'?" in err, err
    assert "Traceback" not in err, "no traceback for bad input"


def test_python_api_returns_dataframes(tmp_path):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=1))
    result = flowsim.sweep(spec, workers=1, out=tmp_path / "out", progress=False, steps=3)
    assert len(result.runs) == 8 and "researchers" in result.runs, "runs as a DataFrame"
    assert set(result.timeseries.columns) == {"run_id", "step", "year", "variable", "value"}, (
        "long time series"
    )
    assert result.timeseries["step"].max() == 2, "steps=3 overrides the base scenario"
    assert result.factors == [
        "policy.corridors.GD-HK.data.approval",
        "research.grant_portability",
        "talent.move_rate",
    ], "levers then uncertainties"
    assert result.failures.empty, "no failures"


@pytest.mark.parametrize("bad", [["--workers", "0"]])
def test_bad_options_exit_2(tmp_path, bad):
    spec = write_tiny_sweep(tmp_path, factorial_body())
    assert cli(["sweep", str(spec), *bad]) == 2, f"{bad} is refused"
