"""Designs: sizes, bounds, stratification, determinism; seeds shared across design points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowsim.streams import replicate_seeds
from flowsim.sweep.design import build_design, count_points
from flowsim.sweep.outcomes import summarise
from flowsim.sweep.plan import plan_sweep
from flowsim.sweep.spec import SweepSpec


def spec(design: str, samples: int | None = None, **extra) -> SweepSpec:
    return SweepSpec.model_validate(
        {
            "name": "t",
            "design": design,
            "samples": samples,
            "outcomes": ["y"],
            "seed": 5,
            "levers": {"a": {"low": 0.0, "high": 1.0}, "b": {"values": ["x", "y", "z"]}},
            "uncertainties": {
                "c": {"low": 1.0, "high": 100.0, "log": True},
                "d": {"low": 2, "high": 5, "integer": True},
            },
            **extra,
        }
    )


@pytest.mark.parametrize(
    ("design", "samples", "expected"),
    [
        ("factorial", None, 3 * 3 * 3 * 3),
        ("lhs", 20, 20),
        ("monte_carlo", 20, 20),
        ("sobol", 16, 16 * (4 + 2)),
        ("morris", 5, 5 * (4 + 1)),
    ],
)
def test_design_sizes_and_bounds(design, samples, expected):
    s = spec(design, samples, num_levels=3) if design == "factorial" else spec(design, samples)
    points = build_design(s).points
    assert len(points) == expected == count_points(s), (
        f"{design}: {len(points)} points, expected {expected}"
    )
    assert points["point_id"].tolist() == list(range(expected)), "point ids are 0..n-1 in order"
    assert points["a"].between(0.0, 1.0).all(), f"{design}: a stays in its range"
    assert set(points["b"]) <= {"x", "y", "z"}, f"{design}: b takes only its values"
    assert points["c"].between(1.0, 100.0).all(), f"{design}: the log range stays in bounds"
    assert points["d"].isin([2, 3, 4, 5]).all() and points["d"].dtype == np.int64, (
        f"{design}: d is a whole number"
    )


def test_factorial_levels_of_a_range_are_even_and_the_product_is_complete():
    points = build_design(spec("factorial", num_levels=3)).points
    assert sorted(points["a"].unique()) == [0.0, 0.5, 1.0], "3 levels of [0, 1]"
    assert sorted(points["c"].unique()) == pytest.approx([1.0, 10.0, 100.0]), (
        "log levels are geometric"
    )
    assert len(points.drop(columns="point_id").drop_duplicates()) == len(points), (
        "every combination once"
    )


def test_latin_hypercube_puts_one_point_in_each_stratum():
    points = build_design(spec("lhs", 50)).points
    strata = np.floor(points["a"] * 50).astype(int)
    assert sorted(strata) == list(range(50)), "each of the 50 strata of a holds exactly one point"
    integer_counts = points["d"].value_counts()
    assert set(integer_counts.index) == {2, 3, 4, 5}, "an integer range reaches both ends"


def test_latin_hypercube_is_scipys():
    from scipy.stats import qmc

    from flowsim.streams import stream
    from flowsim.sweep.design import latin_hypercube

    expected = qmc.LatinHypercube(4, rng=stream(5, "design")).random(12)
    assert np.array_equal(latin_hypercube(spec("lhs", 12)), expected), (
        "the unit hypercube is scipy.stats.qmc's, from the sweep's design stream"
    )


def test_designs_are_deterministic_and_depend_on_the_seed():
    for design, samples in (("lhs", 10), ("monte_carlo", 10), ("sobol", 8), ("morris", 3)):
        first, again = (
            build_design(spec(design, samples)).points,
            build_design(spec(design, samples)).points,
        )
        pd.testing.assert_frame_equal(first, again, obj=f"{design} with the same seed")
        other = build_design(spec(design, samples).model_copy(update={"seed": 6})).points
        assert not first["a"].equals(other["a"]), (
            f"{design}: another root seed gives another sample"
        )


def test_replicate_seeds_are_common_across_points(tmp_path):
    from sweep_helpers import factorial_body, write_tiny_sweep

    plan = plan_sweep(write_tiny_sweep(tmp_path, factorial_body(replications=3)))
    tasks = list(plan.tasks())
    assert [t.run_id for t in tasks] == list(range(plan.n_runs)), (
        "run ids are point_id * replications + replicate"
    )
    seeds = replicate_seeds(11, 3)
    for t in tasks:
        assert t.seed == seeds[t.replicate], (
            f"run {t.run_id}: replicate {t.replicate} uses the common seed"
        )
    skipped = {t.run_id for t in plan.tasks(skip={0, 5})}
    assert skipped == set(range(plan.n_runs)) - {0, 5}, "tasks() leaves out finished runs"


def test_outcomes_are_yearly_means():
    months = 18
    ts = pd.DataFrame(
        {
            "step": range(months),
            "year": [2025] * 12 + [2026] * 6,
            "papers": [2.0] * months,
            "researchers": list(range(months)),
        }
    )
    yearly = pd.DataFrame(
        {
            "year": [2025, 2026],
            "months": [12, 6],
            "researchers": [11.0, 17.0],
            "world_share_pct": [0.1, 0.4],
        }
    )
    out = summarise(ts, yearly, ["papers", "researchers", "world_share_pct"])
    assert out["papers"] == pytest.approx(24.0), (
        "a counter is its total per year (2 a month -> 24 a year)"
    )
    assert out["researchers"] == pytest.approx(14.0), "a gauge is the mean of its year-end values"
    assert out["world_share_pct"] == pytest.approx((0.1 * 12 + 0.4 * 6) / 18), (
        "shares are month-weighted"
    )
