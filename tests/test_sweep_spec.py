"""Sweep files: malformed ones fail with file:line, what is allowed, a did-you-mean."""

from __future__ import annotations

from pathlib import Path

import pytest
from sweep_helpers import factorial_body, write_tiny_sweep

from flowsim.params import Scenario
from flowsim.sweep.design import count_points
from flowsim.sweep.plan import plan_sweep
from flowsim.sweep.spec import check_for_scenario, load_spec
from flowsim.yamlio import ConfigError

EXAMPLES = Path(__file__).resolve().parents[1] / "scenarios" / "sweeps"

GOOD = factorial_body()

# (name, text replaced in the good file, replacement, expected fragments of the error)
MALFORMED = [
    (
        "unknown key",
        "design: factorial",
        "desing: factorial",
        ["sweep.yaml:3:", "unknown key 'desing'", "did you mean 'design'?"],
    ),
    (
        "unknown design",
        "design: factorial",
        "design: factorail",
        ["sweep.yaml:3:", "'factorail' is not allowed", "did you mean 'factorial'?"],
    ),
    (
        "misspelt parameter",
        "research.grant_portability",
        "research.grant_portabilty",
        ["sweep.yaml:8:", "not a scenario parameter", "did you mean 'research.grant_portability'?"],
    ),
    (
        "group, not parameter",
        "policy.corridors.GD-HK.data.approval",
        "policy.corridors.GD-HK.data",
        ["sweep.yaml:7:", "is a group of parameters", "policy.corridors.GD-HK.data.approval"],
    ),
    (
        "values and range",
        "{low: 0.0, high: 1.0}",
        "{values: [0.1], low: 0.0, high: 1.0}",
        ["sweep.yaml:8:", "either `values: [...]` or `low:` and `high:`"],
    ),
    (
        "empty range",
        "{low: 0.0, high: 1.0}",
        "{low: 1.0, high: 0.5}",
        ["sweep.yaml:8:", "finite low < high"],
    ),
    (
        "value out of range",
        "{values: [0.3, 0.9]}",
        "{values: [0.3, 1.5]}",
        ["sweep.yaml:7:", "1.5 is not a valid value", "less than or equal to 1"],
    ),
    (
        "unknown outcome",
        "outcomes: [papers,",
        "outcomes: [paper,",
        ["sweep.yaml:12:", "unknown outcome 'paper'", "did you mean 'papers'?"],
    ),
    (
        "samples on factorial",
        "design: factorial",
        "design: factorial\nsamples: 10",
        ["factorial design takes no `samples:`"],
    ),
    (
        "sobol without samples",
        "design: factorial",
        "design: sobol",
        ["design 'sobol' needs `samples:`"],
    ),
    (
        "sobol samples not a power of two",
        "design: factorial",
        "design: sobol\nsamples: 48",
        ["`samples:` a power of two (got 48)", "use 32 or 64"],
    ),
    (
        "second order on a factorial",
        "design: factorial",
        "design: factorial\ncalc_second_order: true",
        ["`calc_second_order:` is an option of the sobol design only"],
    ),
    (
        "levels on lhs",
        "design: factorial",
        "design: lhs\nsamples: 8",
        ["`num_levels:` sets the levels of factorial and morris designs only"],
    ),
    (
        "replications zero",
        "replications: 2",
        "replications: 0",
        ["sweep.yaml:4:", "out of range", ">= 1"],
    ),
    ("duplicate key", "seed: 11", "seed: 11\nseed: 12", ["duplicate key 'seed'"]),
    ("seed as a factor", "talent.move_rate:", "seed:", ["'seed' cannot be varied"]),
    (
        "log range from zero",
        "{low: 0.0, high: 1.0}",
        "{low: 0.0, high: 1.0, log: true}",
        ["sweep.yaml:8:", "log range needs low > 0"],
    ),
    (
        "missing base",
        "base: base.yaml",
        "base: nowhere.yaml",
        ["sweep.yaml:2:", "nowhere.yaml", "not found", "relative to the sweep file"],
    ),
    (
        "lever also an uncertainty",
        "talent.move_rate:",
        "research.grant_portability:",
        ["both as lever and as uncertainty"],
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_sweep_file_is_reported_clearly(tmp_path, name, old, new, expected):
    assert old in GOOD, f"test setup: {old!r} not in the good sweep file"
    path = write_tiny_sweep(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ConfigError) as caught:
        plan_sweep(path)
    message = str(caught.value)
    for fragment in expected:
        assert fragment in message, f"{name}: expected {fragment!r} in the error, got:\n{message}"


def test_good_sweep_file_plans(tmp_path):
    plan = plan_sweep(write_tiny_sweep(tmp_path, GOOD))
    assert plan.n_points == 8 and plan.n_runs == 16, (
        f"2 x 2 x 2 points x 2 replicates, got {plan.n_runs}"
    )
    assert plan.base is not None and plan.base.steps == 6, (
        "the base scenario is read from base.yaml"
    )


def test_every_problem_is_listed_at_once(tmp_path):
    text = GOOD.replace("outcomes: [papers,", "outcomes: [paper,").replace(
        "research.grant_portability", "research.grant_portabilty"
    )
    with pytest.raises(ConfigError) as caught:
        plan_sweep(write_tiny_sweep(tmp_path, text))
    assert len(caught.value.problems) == 2, f"both problems reported together: {caught.value}"


def test_scale_and_steps_override_the_base(tmp_path):
    plan = plan_sweep(write_tiny_sweep(tmp_path, GOOD), scale=0.003, steps=4)
    assert (plan.base.scale, plan.base.steps) == (0.003, 4), (
        "--scale/--steps override the base scenario"
    )
    with pytest.raises(ConfigError, match="steps"):
        plan_sweep(write_tiny_sweep(tmp_path, GOOD), steps=0)


@pytest.mark.parametrize("name", ["policy_comparison", "sobol_levers"])
def test_example_sweeps_are_valid(name):
    spec, loaded = load_spec(EXAMPLES / f"{name}.yaml")
    check_for_scenario(spec, loaded, Scenario())
    assert spec.base == "../baseline.yaml", "examples sweep the baseline scenario"
    if name == "policy_comparison":
        assert spec.design == "factorial" and spec.replications >= 3, (
            "a factorial with replications"
        )
    else:
        assert spec.design == "sobol" and "research.grant_portability" in spec.levers, (
            "sobol over the levers"
        )
    assert count_points(spec) > 0, "the design has points"
    if (EXAMPLES.parent / "baseline.yaml").exists():
        plan = plan_sweep(EXAMPLES / f"{name}.yaml")
        assert plan.n_runs == count_points(spec) * spec.replications, "the whole example plans"


def test_sobol_powers_of_two_and_morris_levels_are_accepted(tmp_path):
    for design, extra in (("sobol", "samples: 16"), ("morris", "samples: 3")):
        text = GOOD.replace("design: factorial", f"design: {design}\n{extra}")
        if design == "sobol":  # the good file sets the levels of its factorial design
            text = text.replace("num_levels: 2\n", "")
        plan = plan_sweep(write_tiny_sweep(tmp_path, text))
        assert plan.n_runs > 0, f"{design}: {extra} is valid"


def test_samples_override_of_a_sobol_sweep_must_be_a_power_of_two(tmp_path):
    text = GOOD.replace("design: factorial", "design: sobol\nsamples: 16").replace(
        "num_levels: 2\n", ""
    )
    path = write_tiny_sweep(tmp_path, text)
    with pytest.raises(ConfigError, match="power of two"):
        plan_sweep(path, samples=10)
    assert plan_sweep(path, samples=8).n_points == 8 * (3 + 2)
