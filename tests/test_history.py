"""History matching (flowsim.calibration.history) on functions with known answers.

A synthetic trial log, made from a known function of two parameters plus noise, stands in
for model runs: the emulator must recover the function, the sets not ruled out must bracket
the truth for the parameter the target depends on and leave the other at its prior, and a
refocused wave must not widen what the first wave kept.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.calibration.history import (
    fit_emulator,
    history_match,
    quadratic_features,
    unit_coordinates,
)
from flowsim.calibration.targets import FreeParameter, Target

FREE = {
    "a": FreeParameter(low=0.0, high=10.0),
    "b": FreeParameter(low=0.1, high=10.0, log=True),
}
TRUE_A = 4.0


def _observable(a: np.ndarray, b: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Depends strongly on ``a``, not at all on ``b``; 2% multiplicative noise."""
    return (5.0 + 3.0 * a) * np.exp(rng.normal(0.0, 0.02, size=np.shape(a))) + 0.0 * b


def _trials(n: int, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.0, 10.0, n)
    b = np.exp(rng.uniform(np.log(0.1), np.log(10.0), n))
    y = _observable(a, b, rng)
    return [
        {"trial": i, "params": {"a": a[i], "b": b[i]}, "values": [{"y": y[i]}]} for i in range(n)
    ]


TARGET = Target(
    id="y",
    output="papers",
    value=5.0 + 3.0 * TRUE_A,
    tolerance=0.04,
    source="a known function",
    role="calibration",
    reason="test",
)


def test_features_are_one_linear_and_squares_unless_interactions():
    unit = np.array([[0.5, 2.0]])
    assert quadratic_features(unit).tolist() == [[1.0, 0.5, 2.0, 0.25, 4.0]]
    assert quadratic_features(unit, interactions=True).tolist() == [[1.0, 0.5, 2.0, 0.25, 1.0, 4.0]]


def test_the_emulator_recovers_a_quadratic_exactly():
    """Positive values are emulated on the log scale: a log-quadratic is fitted exactly."""
    rng = np.random.default_rng(1)
    unit = rng.uniform(size=(40, 2))
    values = np.exp(2.0 + 3.0 * unit[:, 0] - 1.5 * unit[:, 1] ** 2)
    em = fit_emulator("q", unit, values)
    assert em.log and em.r2 == pytest.approx(1.0, abs=1e-9), em.r2
    mean, var = em.predict(np.array([[0.3, 0.6]]))
    assert mean[0] == pytest.approx(2.0 + 0.9 - 1.5 * 0.36, abs=1e-9)
    signed = fit_emulator("s", unit, values - 40.0)
    assert not signed.log, "values of both signs are emulated as they are"
    assert var[0] >= em.variance, "variance grows with leverage"


def test_too_few_trials_for_the_emulator_are_refused():
    with pytest.raises(ValueError, match="raise search.budget"):
        fit_emulator("q", np.zeros((6, 2)), np.ones(6))


def test_unit_coordinates_use_the_log_scale_for_log_priors():
    import pandas as pd

    unit = unit_coordinates(pd.DataFrame({"a": [0.0, 5.0], "b": [0.1, 1.0]}), FREE)
    assert unit.ravel().tolist() == pytest.approx([0.0, 0.0, 0.5, 0.5])


def test_a_wave_brackets_the_informed_parameter_and_leaves_the_other_to_its_prior():
    match = history_match(_trials(60, 2), [TARGET], FREE, candidates=20_000, seed=3)
    table = match.intervals(FREE).set_index("parameter")
    a, b = table.loc["a"], table.loc["b"]
    assert a["low"] <= TRUE_A <= a["high"], f"a's interval {a['low']:.2f}-{a['high']:.2f}"
    assert a["narrowing"] > 5.0, f"a is pinned by the target: narrowing {a['narrowing']:.1f}"
    assert b["narrowing"] < 1.2, f"b does not act on the target: narrowing {b['narrowing']:.2f}"
    assert 0.02 < match.share < 0.3, match.share


def test_a_refocused_wave_keeps_within_the_first():
    first = history_match(_trials(60, 2), [TARGET], FREE, candidates=20_000, seed=3)
    lo, hi = first.nroy["a"].min(), first.nroy["a"].max()
    rng = np.random.default_rng(5)
    rows = first.nroy.iloc[:30]
    y = _observable(rows["a"].to_numpy(), rows["b"].to_numpy(), rng)
    second_trials = [
        {"trial": i, "params": dict(r), "values": [{"y": y[i]}]}
        for i, r in enumerate(rows.to_dict("records"))
    ]
    second = history_match(second_trials, [TARGET], FREE, within=first)
    assert second.share <= first.share and len(second.nroy) > 0
    assert lo <= second.nroy["a"].min() and second.nroy["a"].max() <= hi


def test_validation_targets_are_refused():
    held_out = TARGET.model_copy(update={"role": "validation"})
    with pytest.raises(ValueError, match="calibration targets only"):
        history_match(_trials(20, 2), [held_out], FREE)
