"""flowsim.ema: an EMA Workbench model with flowsim's parameter paths and output names."""

from __future__ import annotations

import math
import sys
import warnings

import pytest

import flowsim
import flowsim.ema
from flowsim.sweep.outcomes import summarise
from flowsim.yamlio import ConfigError

ema_workbench = pytest.importorskip(
    "ema_workbench", reason="the EMA Workbench is the discover extra (pip install -e '.[test]')"
)

TINY = {"scale": 0.005, "steps": 3, "warmup_steps": 6}
OUTCOMES = ["projects_started", "visits", "researcher_moves", "data_requests"]
"""Outputs that are non-zero even at scale 0.005 over 3 months."""
UNCERTAINTIES = {"talent.move_rate": (0.002, 0.01), "seed": (1, 10_000)}
LEVERS = {
    "policy.corridors.GD-HK.talent.approval": (0.5, 0.98),
    "policy.corridors.GD-HK.samples.delay_days": {"low": 3, "high": 20, "integer": True},
}


@pytest.fixture(scope="module")
def experiments():
    model = flowsim.ema.model(UNCERTAINTIES, LEVERS, OUTCOMES, **TINY)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = ema_workbench.perform_experiments(model, scenarios=4, policies=2)
    return model, *found


def test_eight_experiments_run_with_flowsims_names(experiments):
    model, table, outcomes = experiments
    assert len(table) == 8, f"4 scenarios x 2 policies, got {len(table)} experiments"
    assert flowsim.ema.paths(model) == {
        "talent_move_rate": "talent.move_rate",
        "seed": "seed",
        "policy_corridors_GD_HK_talent_approval": "policy.corridors.GD-HK.talent.approval",
        "policy_corridors_GD_HK_samples_delay_days": "policy.corridors.GD-HK.samples.delay_days",
    }
    assert {"talent_move_rate", "seed", "policy_corridors_GD_HK_talent_approval"} <= set(table)
    assert sorted(outcomes) == sorted(OUTCOMES)
    for name in OUTCOMES:
        values = outcomes[name]
        assert len(values) == 8 and all(math.isfinite(v) and v > 0 for v in values), (
            name,
            values,
        )
    assert table["policy_corridors_GD_HK_samples_delay_days"].map(type).eq(int).all()
    # the four scenarios draw four seeds and move rates: their outcomes differ (counts at
    # scale 0.005 come in steps of 200 real ones, so one outcome alone may tie)
    runs = list(zip(*(outcomes[name][:4] for name in OUTCOMES), strict=True))
    assert len(set(runs)) == 4, {name: outcomes[name][:4] for name in OUTCOMES}


def test_an_experiment_is_flowsim_run_with_its_values(experiments):
    """Experiment 5 reproduced with flowsim.run: each EMA value reached its path."""
    model, table, outcomes = experiments
    row = table.iloc[5]
    overrides = {path: row[name] for name, path in flowsim.ema.paths(model).items()}
    seed = int(overrides.pop("seed"))
    overrides = {k: v.item() if hasattr(v, "item") else v for k, v in overrides.items()}
    result = flowsim.run(flowsim.Scenario(), seed=seed, overrides={**TINY, **overrides})
    expected = summarise(result.timeseries, result.yearly, OUTCOMES)
    for name in OUTCOMES:
        assert outcomes[name][5] == pytest.approx(expected[name], rel=1e-12), name


def test_bad_names_are_flowsims_readable_errors():
    with pytest.raises(ConfigError) as err:
        flowsim.ema.model({"talent.move_rat": (0.0, 0.1)}, outcomes=["paper"], **TINY)
    text = str(err.value)
    assert "talent.move_rat" in text and "move_rate" in text, text
    assert "unknown outcome 'paper'" in text and "did you mean 'papers'" in text, text
    with pytest.raises(ConfigError, match="not a valid value"):
        flowsim.ema.model({"policy.corridors.GD-HK.data.approval": (0.5, 1.5)}, **TINY)
    with pytest.raises(TypeError, match=r"\(low, high\)"):
        flowsim.ema.model({"talent.move_rate": 0.01}, **TINY)


def test_without_the_extra_the_error_names_it(monkeypatch):
    for name in [m for m in sys.modules if m.startswith("ema_workbench")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"pip install 'flowsim\[discover\]'"):
        flowsim.ema.model({"talent.move_rate": (0.002, 0.01)}, **TINY)


def test_replications_average_flowsims_replicate_seeds():
    """replications=3: each outcome is the mean of the runs at the 3 spawned replicate seeds."""
    from flowsim.streams import replicate_seeds

    model = flowsim.ema.model(
        {"talent.move_rate": (0.002, 0.01)}, outcomes=OUTCOMES, replications=3, seed=7, **TINY
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table, outcomes = ema_workbench.perform_experiments(model, scenarios=2)
    assert len(table) == 2 and len(outcomes["visits"]) == 2
    rate = float(table["talent_move_rate"].iloc[1])
    runs = [
        flowsim.run(flowsim.Scenario(), seed=s, overrides={**TINY, "talent.move_rate": rate})
        for s in replicate_seeds(7, 3)
    ]
    each = {
        name: [summarise(r.timeseries, r.yearly, [name])[name] for r in runs] for name in OUTCOMES
    }
    assert len(set(each["projects_started"])) == 3, f"three seeds, three runs: {each}"
    for name in OUTCOMES:
        assert outcomes[name][1] == pytest.approx(sum(each[name]) / 3, rel=1e-12), each[name]
    with pytest.raises(ValueError, match="not combined with a 'seed' factor"):
        flowsim.ema.model({"seed": (1, 9), "talent.move_rate": (0.002, 0.01)}, replications=2)
