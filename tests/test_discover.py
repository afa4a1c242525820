"""Scenario discovery: PRIM finds the box where an outcome passes a threshold."""

from __future__ import annotations

import sys

import cloudpickle
import numpy as np
import pandas as pd
import pytest

import flowsim
from flowsim.cli import main as cli
from flowsim.discover import MISSING_EMA, DiscoverError, discover, format_discovery
from flowsim.streams import stream

cloudpickle.register_pickle_by_value(sys.modules[__name__])

THRESHOLD_X1 = 0.6
"""Where the synthetic policy starts to work."""


def step_model(overrides, seed):
    """Outcome 10 where x1 > 0.6 (else 2), plus noise well inside the gap; x2 and u do nothing."""
    noise = stream(seed + int(overrides["x2"] * 1e6), "noise").normal(0.0, 1.0)
    level = 10.0 if overrides["x1"] > THRESHOLD_X1 else 2.0
    return {"papers": level + noise}, None


def synthetic_sweep(folder, samples: int = 400):
    spec = {
        "name": "step",
        "design": "lhs",
        "samples": samples,
        "replications": 1,
        "seed": 3,
        "levers": {"x1": {"low": 0.0, "high": 1.0}, "x2": {"low": 0.0, "high": 1.0}},
        "uncertainties": {"u": {"low": 0.0, "high": 5.0}},
        "outcomes": ["papers"],
    }
    return flowsim.sweep(spec, workers=1, out=folder, model=step_model, progress=False).path


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    return synthetic_sweep(tmp_path_factory.mktemp("disc") / "sweep")


def test_prim_finds_the_known_threshold(sweep_folder):
    found = discover(sweep_folder, "papers", 6.0)
    box = found.restricted.set_index("parameter")
    assert list(box.index) == ["x1"], f"only x1 matters: {found.limits}"
    assert abs(box.loc["x1", "low"] - THRESHOLD_X1) < 0.03, f"box edge {box.loc['x1', 'low']}"
    assert box.loc["x1", "high"] == pytest.approx(
        found.limits.set_index("parameter").loc["x1", "max"]
    )
    assert box.loc["x1", "kind"] == "lever"
    # 40% of the unit interval is above 0.6: 160 of 400 LHS cases of interest
    assert found.of_interest == 160 and found.cases == 400
    assert found.coverage >= 0.97 and found.density >= 0.97, (found.coverage, found.density)
    assert found.mass == pytest.approx(0.4, abs=0.02), "the box holds the 40% of cases above 0.6"
    text = format_discovery(found)
    assert "coverage" in text and "x1" in text and "x2" not in text.split("where it holds")[1]


def test_below_and_trajectory(sweep_folder):
    found = discover(sweep_folder, "papers", 6.0, above=False)
    box = found.restricted.set_index("parameter")
    assert abs(box.loc["x1", "high"] - THRESHOLD_X1) < 0.03, "the other side of the threshold"
    t = found.trajectory
    assert t.loc[0, "coverage"] == 1.0 and t.loc[0, "mass"] == 1.0, "box 0 is every case"
    assert t.loc[0, "density"] == pytest.approx(0.6), "60% of all cases are below"
    assert (np.diff(t["mass"]) <= 1e-12).all(), "peeling only shrinks the box"
    assert discover(sweep_folder, "papers", 6.0, above=False, box=0).restricted.empty


def test_discover_command_prints_and_draws(sweep_folder, tmp_path, capsys):
    args = ["discover", str(sweep_folder), "--outcome", "papers", "--threshold", "6"]
    assert cli([*args, "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "coverage" in printed and "density" in printed and "x1" in printed, printed
    limits = pd.read_csv(tmp_path / "discover-papers-above-6.csv")
    assert limits.loc[limits.parameter == "x1", "restricted"].item(), limits
    assert (tmp_path / "discover-papers-above-6.png").stat().st_size > 10_000, "a figure"
    assert (tmp_path / "discover-papers-above-6-trajectory.csv").is_file()
    assert cli([*args, "--out", str(tmp_path)]) == 2, "files are not replaced without --force"
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--outcome", "paper", "--threshold", "6"], "did you mean 'papers'"),
        (["--outcome", "papers", "--threshold", "100"], "no case has papers above 100"),
        (["--outcome", "papers", "--threshold", "-100"], "every case has papers above -100"),
        (["--outcome", "papers", "--threshold", "6", "--box", "999"], "not on the peeling"),
        (["--outcome", "papers", "--threshold", "6", "--peel-alpha", "0.9"], "--peel-alpha"),
    ],
)
def test_bad_discover_input_exits_2(sweep_folder, tmp_path, capsys, extra, message):
    assert cli(["discover", str(sweep_folder), *extra, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err


def test_discover_refuses_folders_it_cannot_use(tmp_path, capsys):
    assert cli(["discover", str(tmp_path), "--outcome", "papers", "--threshold", "1"]) == 2
    assert "neither a run folder" in capsys.readouterr().err
    with pytest.raises(DiscoverError, match="no such folder"):
        discover(tmp_path / "nothing", "papers", 1.0)


def test_discover_on_an_ensemble_run_finds_the_parameter(tmp_path, capsys):
    from test_ensemble import write_ensemble, write_tiny_scenario

    ens = write_ensemble(tmp_path / "ens", rates=(0.002, 0.004, 0.03, 0.05))
    scenario = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    run_args = ["--ensemble", str(ens), "--replications", "2", "--quiet"]
    assert cli(["run", str(scenario), *run_args, "--out", str(tmp_path / "run")]) == 0
    found = discover(tmp_path / "run", "researcher_moves_cross_border", 6000.0)
    box = found.restricted.set_index("parameter")
    assert found.cases == 8 and found.of_interest == 4, format_discovery(found)
    assert box.loc["talent.move_rate", "kind"] == "ensemble"
    assert 0.004 <= box.loc["talent.move_rate", "low"] <= 0.03, "between the low and high rates"
    assert found.density == 1.0 and found.coverage == 1.0, format_discovery(found)


def hide_ema_workbench(monkeypatch):
    """Make every ``import ema_workbench...`` fail, as where the extra is not installed."""
    for name in [m for m in sys.modules if m == "ema_workbench" or m.startswith("ema_workbench.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "ema_workbench", None)


def test_discover_without_the_extra_names_it_and_exits_2(sweep_folder, tmp_path, capsys):
    with pytest.MonkeyPatch.context() as patch:
        hide_ema_workbench(patch)
        code = cli(["discover", str(sweep_folder), "--outcome", "papers", "--threshold", "6",
                    "--out", str(tmp_path)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2, f"exit {code}: {err}"
    assert MISSING_EMA in err and "pip install 'flowsim[discover]'" in err, err
    assert "Traceback" not in err, err
    assert not list(tmp_path.iterdir()), "nothing is written without PRIM"
    # with the extra back, the same command works (the check is no stale cache)
    assert cli(["discover", str(sweep_folder), "--outcome", "papers", "--threshold", "6",
                "--out", str(tmp_path)]) == 0  # fmt: skip
