"""Can an analyst trust a sweep's indices? And quicker looks with --samples, --replications.

Averaged replicates, interval widths, a convergence check, and warnings in the table,
the command and the figure.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sweep_helpers import linear, noisy_linear, unit_spec, write_tiny_sweep

from flowsim import sensitivity
from flowsim.cli import main as cli
from flowsim.plots.sweep import PAGE_INCHES, plot_sensitivity
from flowsim.sweep.api import sweep
from flowsim.sweep.sensitivity import CHECK_COLUMNS, _row_warnings


def _sweep(tmp_path_factory, model, samples, replications):
    return sweep(
        unit_spec("sobol", samples, replications),
        model=model,
        workers=1,
        out=tmp_path_factory.mktemp(f"{model.__name__}-{samples}-{replications}") / "out",
        progress=False,
    )


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return _sweep(tmp_path_factory, linear, 512, 2)


@pytest.fixture(scope="module")
def tiny_noisy(tmp_path_factory):
    return _sweep(tmp_path_factory, noisy_linear, 16, 1)


def test_a_converged_sweep_has_no_warning(clean):
    table = sensitivity(clean).set_index("parameter")
    assert set(CHECK_COLUMNS["sobol"]) <= set(table.columns), "the trust columns are there"
    assert (table["warning"] == "").all() and clean.manifest["replications"] == 2, (
        f"y = x1 + 2 x2 at N = 512 needs no warning: {table['warning'].to_dict()}"
    )
    assert table.loc["x2", "S1"] == pytest.approx(0.8, abs=0.02), "S1 of x2 is 4/5"
    assert np.allclose(table["S1_width"], 2 * table["S1_conf"]), "width = 2 x half-width"
    assert (table[["S1_half_change", "ST_half_change"]] < 0.05).all().all(), (
        "the indices of N/2 and N agree for a linear model"
    )


def test_a_small_noisy_sweep_warns_in_table_command_and_figure(tiny_noisy, capsys):
    table = sensitivity(tiny_noisy)
    notes = table.attrs["warnings"]["y"]
    for expected in ("sample too small", "intervals up to", "not converged", "one replicate"):
        assert any(expected in note for note in notes), f"{expected!r} in {notes}"
    assert (table["warning"] != "").all(), "every row carries its outcome's warnings"

    assert cli(["sensitivity", str(tiny_noisy.path), "--resamples", "50"]) == 0
    printed = capsys.readouterr()
    assert "warning: some indices are not to be trusted" in printed.err, printed.err
    assert "y: sample too small (N = 16" in printed.err, printed.err
    assert "(!)" in printed.out and "S1_width" in printed.out, printed.out
    written = pd.read_csv(tiny_noisy.path / "sensitivity.csv")
    assert written["warning"].str.contains("sample too small").all(), "the CSV says why"

    fig = plot_sensitivity(table)
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert titles == ["y [count] (!)"] or all("(!)" in t for t in titles), titles
    assert any("read with care" in t and "sample too small" in t for t in texts), texts


def test_an_index_outside_zero_one_beyond_its_interval_is_flagged():
    row = {"parameter": "x1", "S1": -0.65, "S1_conf": 0.3, "ST": 2.66, "ST_conf": 1.0}
    assert _row_warnings("sobol", row) == [
        "x1 S1 = -0.65 is below 0 beyond its interval",
        "x1 ST = 2.66 is above 1 beyond its interval",
    ]
    inside = {"parameter": "x1", "S1": -0.05, "S1_conf": 0.1, "ST": 1.05, "ST_conf": 0.1}
    assert _row_warnings("sobol", inside) == [], "within its interval of [0, 1]: no flag"


def test_replicates_are_averaged_before_the_analysis(tmp_path_factory):
    """Averaging R replicates divides the noise's variance by R.

    Noise of variance 1 over a signal of variance 5/12: an inert factor's ST is the noise's
    share of the variance, (1/R) / (5/12 + 1/R): 0.71 with one replicate, 0.23 with eight.
    """
    one = sensitivity(_sweep(tmp_path_factory, noisy_linear, 256, 1)).set_index("parameter")
    eight_sweep = _sweep(tmp_path_factory, noisy_linear, 256, 8)
    eight = sensitivity(eight_sweep).set_index("parameter")
    for replicates, table in ((1, one), (8, eight)):
        share = (1 / replicates) / (5 / 12 + 1 / replicates)
        assert table.loc["x3", "ST"] == pytest.approx(share, abs=0.1), (
            f"{replicates} replicate(s): ST of the inert x3 {table.loc['x3', 'ST']:.3f} "
            f"is the noise's share {share:.3f}"
        )
    from SALib.analyze import sobol

    runs = eight_sweep.runs
    means = runs.groupby("point_id")["y"].mean().to_numpy()
    problem = dict(eight_sweep.manifest["salib_problem"])
    direct = sobol.analyze(problem, means, calc_second_order=False, num_resamples=10, seed=1)
    assert np.allclose(eight["S1"].to_numpy(), direct["S1"]), "S1 of the replicate means"


def test_the_sensitivity_figure_fits_a_page():
    parameters = [f"policy.corridors.GD-HK.lever_{k}.approval" for k in range(9)]
    outcomes = ["papers", "pct_applications", "vc_deals", "commercialized", "startups", "licences"]
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        [
            {
                "outcome": o,
                "parameter": p,
                "S1": rng.uniform(-0.6, 1),
                "S1_conf": 0.3,
                "ST": rng.uniform(0, 2.6),
                "ST_conf": 0.4,
                "warning": "sample too small (N = 16, fewer than 256); one replicate per point",
            }
            for o in outcomes
            for p in parameters
        ]
    )
    fig = plot_sensitivity(table)
    width, height = fig.get_size_inches()
    assert width <= PAGE_INCHES[0] + 1e-9 and height <= PAGE_INCHES[1] + 1e-9, (
        f"{width:.1f} x {height:.1f} in fits an A4 page"
    )
    fig.canvas.draw()  # constrained layout: every panel keeps a readable size
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == len(outcomes), "a panel per outcome"
    for ax in panels:
        box = ax.get_position()
        assert box.width * width > 2.0 and box.height * height > 1.5, (
            f"panel {ax.get_title()!r} is {box.width * width:.1f} x {box.height * height:.1f} in"
        )
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            assert box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1, (
                f"the warnings stay on the page: {box} in {fig.bbox}"
            )


LHS_BODY = """\
name: tiny-lhs
base: base.yaml
design: lhs
samples: 8
replications: 3
seed: 5
levers:
  policy.corridors.GD-HK.data.approval: {low: 0.3, high: 0.9}
outcomes: [papers]
"""


def test_samples_and_replications_override_the_sweep_file(tmp_path, capsys):
    spec = write_tiny_sweep(tmp_path, LHS_BODY, steps=3)
    assert cli(["sweep", str(spec), "--dry-run", "--samples", "3", "--replications", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 design points x 2 replications = 6 runs" in out, out

    folder = tmp_path / "out"
    args = ["sweep", str(spec), "--samples", "2", "--replications", "1", "--workers", "1"]
    assert cli([*args, "--quiet", "--out", str(folder)]) == 0
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["samples"], manifest["replications"], manifest["runs"]) == (2, 1, 2)
    assert len(pd.read_parquet(folder / "runs.parquet")) == 2, "2 points x 1 replicate"
    capsys.readouterr()

    resume = ["sweep", str(spec), "--samples", "4", "--resume", "--out", str(folder)]
    assert cli(resume) == 2, "resuming with other overrides is refused"
    assert "changed since the sweep started" in capsys.readouterr().err

    assert cli(["sweep", str(spec), "--dry-run", "--samples", "0"]) == 2
    assert "--samples" in capsys.readouterr().err, "a bad --samples names the option"
