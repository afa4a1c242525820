"""Sensitivity: Ishigami's known Sobol indices recovered via design -> task -> store -> SALib."""

from __future__ import annotations

import pytest
from sweep_helpers import (
    ISHIGAMI_S1,
    ISHIGAMI_ST,
    factorial_body,
    ishigami,
    ishigami_spec,
    write_tiny_sweep,
)

from flowsim import sensitivity
from flowsim.cli import main as cli
from flowsim.sweep.api import SweepError, sweep


@pytest.fixture(scope="module")
def ishigami_sweep(tmp_path_factory):
    return sweep(
        ishigami_spec("sobol", 1024),
        model=ishigami,
        workers=1,
        out=tmp_path_factory.mktemp("ishigami") / "out",
        progress=False,
    )


def test_ishigami_sobol_indices_are_recovered(ishigami_sweep):
    assert len(ishigami_sweep.runs) == 1024 * 5, "Saltelli: N (D + 2) runs"
    table = sensitivity(ishigami_sweep).set_index("parameter")
    for name in ("x1", "x2", "x3"):
        s1, st = table.loc[name, "S1"], table.loc[name, "ST"]
        assert s1 == pytest.approx(ISHIGAMI_S1[name], abs=0.05), (
            f"S1 of {name}: {s1:.3f} vs {ISHIGAMI_S1[name]}"
        )
        assert st == pytest.approx(ISHIGAMI_ST[name], abs=0.05), (
            f"ST of {name}: {st:.3f} vs {ISHIGAMI_ST[name]}"
        )
        assert 0 < table.loc[name, "S1_conf"] < 0.15 and 0 < table.loc[name, "ST_conf"] < 0.15, (
            f"{name}: confidence intervals are given and narrow"
        )


def test_morris_ranks_the_ishigami_inputs(tmp_path):
    result = sweep(
        ishigami_spec("morris", 40), model=ishigami, workers=1, out=tmp_path / "out", progress=False
    )
    table = sensitivity(result).set_index("parameter")
    assert set(table.columns) >= {"mu", "mu_star", "mu_star_conf", "sigma"}, "Morris statistics"
    assert (table["mu_star"] > 1.0).all(), (
        f"every Ishigami input matters: {table['mu_star'].to_dict()}"
    )
    assert table.loc["x3", "mu"] == pytest.approx(0.0, abs=table.loc["x3", "mu_star"] / 2), (
        "x3 acts through an even power: its signed effects cancel (mu << mu*)"
    )


def test_sensitivity_command_writes_table_and_figure(ishigami_sweep, capsys):
    code = cli(["sensitivity", str(ishigami_sweep.path), "--resamples", "50"])
    printed = capsys.readouterr().out
    assert code == 0, "flowsim sensitivity succeeds"
    assert "S1_conf" in printed and "x2" in printed, f"the table is printed: {printed}"
    assert (ishigami_sweep.path / "sensitivity.csv").exists(), "the table is written"
    assert (ishigami_sweep.path / "sensitivity.png").stat().st_size > 5000, "the figure is written"


def test_sensitivity_refuses_a_factorial_sweep(tmp_path, capsys):
    spec = write_tiny_sweep(tmp_path, factorial_body(replications=1))
    result = sweep(spec, workers=1, out=tmp_path / "out", progress=False)
    with pytest.raises(SweepError, match="needs a sobol or morris sweep"):
        sensitivity(result)
    assert cli(["sensitivity", str(result.path)]) == 2, "bad input exits with 2"
    assert "sobol or morris" in capsys.readouterr().err, "and says why"
