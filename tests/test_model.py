"""FlowModel: the step order runs, the DataCollector reports everything, mesa.batch_run works."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from flowsim.model import FlowModel
from flowsim.outputs import COUNTERS, GAUGES, REPORTED, SHARES
from flowsim.params import Scenario
from flowsim.run import run

SMALL = {"scale": 0.002, "steps": 6, "warmup_steps": 2}


def test_a_model_runs_its_steps_and_stops():
    model = FlowModel(**SMALL, rng=3)
    assert model.step_index == 0, "warm-up months are not counted as reported steps"
    assert model.month == 2, "the warm-up months were simulated at construction"
    while model.running:
        model.step()
    assert model.step_index == 6, (
        f"the model stops after `steps` months, stopped at {model.step_index}"
    )
    assert model.n_agents > 0, "the model has agents"


def test_datacollector_reports_every_output_column():
    model = FlowModel(**SMALL, rng=3)
    for _ in range(3):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    missing = set(REPORTED) - set(frame.columns)
    assert not missing, f"DataCollector lacks reported outputs {sorted(missing)}"
    assert len(frame) == 3, f"one row per step, got {len(frame)}"
    assert np.isfinite(frame[list(REPORTED)].to_numpy(dtype=float)).all(), (
        "every reported value is finite"
    )
    assert (frame["researchers"] > 0).all(), "gauges are read at every step"


def test_outputs_are_declared_once():
    assert len(set(REPORTED)) == len(REPORTED), "an output name is declared twice"
    assert set(COUNTERS).isdisjoint(GAUGES) and set(SHARES).isdisjoint(COUNTERS), (
        "outputs have one kind each"
    )


def test_keyword_overrides_take_dotted_paths():
    model = FlowModel(
        rng=1, **SMALL, **{"talent.move_rate": 0.07, "policy.corridors.GD-HK.data.approval": 0.9}
    )
    assert model.params.talent.move_rate == 0.07, "a dotted-path keyword sets a nested parameter"
    assert model.params.policy.corridors.gd_hk.data.approval == 0.9, (
        "corridor aliases work as keyword paths"
    )
    assert model.params.scale == 0.002, "plain keywords set top-level parameters"


def test_a_scenario_and_overrides_combine():
    scenario = Scenario(name="x", **SMALL)
    model = FlowModel(scenario, rng=4, **{"research.grant_portability": 1.0})
    assert model.params.name == "x" and model.params.research.grant_portability == 1.0, (
        "overrides apply on top"
    )
    assert scenario.research.grant_portability == 0.0, "the given scenario is not modified"


def test_batch_run_returns_rows_with_outputs():
    rows = mesa.batch_run(
        FlowModel,
        parameters={
            "scale": 0.002,
            "steps": 4,
            "warmup_steps": 0,
            "talent.move_rate": [0.01, 0.05],
        },
        iterations=2,
        max_steps=4,
        number_processes=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    assert len(frame) == 4, (
        f"2 parameter values x 2 iterations, one final row each; got {len(frame)}"
    )
    assert set(frame["talent.move_rate"]) == {0.01, 0.05}, "rows carry the swept parameter"
    for column in ("papers", "researcher_moves", "vc_deals", "cross_border_collaboration_share"):
        assert column in frame.columns, f"batch_run rows lack output {column!r}"
    assert (frame["researchers"] > 0).all(), "every row has outputs"
    moves = frame.groupby("talent.move_rate")["researcher_moves"].mean()
    assert moves[0.05] > moves[0.01], "the swept lever acts through batch_run"


def test_run_gives_tidy_tables_in_real_world_units():
    result = run(Scenario(**SMALL), seed=2)
    ts = result.timeseries
    assert ts["step"].tolist() == list(range(6)), "one row per reported step"
    assert (ts["year"] == 2025).all(), "six months starting in 2025 are all in 2025"
    assert len(result.yearly) == 1 and result.yearly["months"].iloc[0] == 6, (
        "one partial year of 6 months"
    )
    first = FlowModel(**SMALL, rng=2)
    first.step()  # the gauge is read at the end of the month (the region grows from step 0)
    present = first.world.researchers.n - first.world.away_rows.size  # less those gone abroad
    assert np.isclose(ts["researchers"].iloc[0] * SMALL["scale"], present), (
        "gauges are divided by the scale"
    )
    flows = result.flows
    assert set(flows.columns) >= {"step", "element", "origin", "destination", "count", "volume"}, (
        "tidy flows"
    )
    assert (flows["count"] >= 0).all() and (flows["refusals"] >= 0).all(), "flows are non-negative"


def test_no_python_loop_over_agents_in_the_step():
    # every per-step loop in the model iterates over a fixed small set (cities, zones, fields,
    # jurisdictions, mechanisms), never over agents: a step's time must not depend on a loop of
    # length n. The check here is structural: doubling the agents leaves the number of Python
    # bytecode-level loop iterations of the step unchanged (counted with a tracer).
    import sys

    def loop_events(scale: float) -> int:
        model = FlowModel(scale=scale, steps=2, warmup_steps=0, rng=1)
        lines = 0

        def tracer(frame, event, arg):
            nonlocal lines
            if event == "line" and "flowsim" in frame.f_code.co_filename:
                lines += 1
            return tracer

        sys.settrace(tracer)
        try:
            model.step()
        finally:
            sys.settrace(None)
        return lines

    # 0.02 and up: at tinier scales whole branches (no licence, no failure this month) are skipped
    small, large = loop_events(0.02), loop_events(0.2)
    assert large < 1.1 * small, (
        f"lines of flowsim code run in one step grew from {small} to {large} with 10x the agents: "
        "a Python loop over agents?"
    )


def test_a_flowsim_scenario_passed_as_scenario_is_the_one_that_runs():
    import pytest

    scenario = Scenario(name="passed", scale=0.003, steps=6, warmup_steps=2)
    model = FlowModel(scenario=scenario, rng=5)
    assert model.params.name == "passed" and model.params.scale == 0.003, (
        "FlowModel(scenario=<flowsim Scenario>) ran the defaults"
    )
    with pytest.raises(TypeError, match="two flowsim scenarios"):
        FlowModel(scenario, scenario=scenario)
    with pytest.raises(TypeError, match="pass a flowsim Scenario"):
        FlowModel(scenario={"scale": 0.01})


def test_bad_parameters_raise_flowsims_readable_error_not_pydantics():
    import pytest
    from pydantic import ValidationError

    from flowsim.model import ParameterError
    from flowsim.yamlio import ConfigError

    with pytest.raises(ParameterError) as caught:
        FlowModel(**SMALL, **{"talent.move_rate": -1, "talent.move_ratee": 0.1})
    assert not isinstance(caught.value, ValidationError)
    assert isinstance(caught.value, (ConfigError, ValueError))
    text = str(caught.value)
    assert "FlowModel parameters: talent.move_rate: -1 is out of range" in text, text
    assert "allowed: >= 0.0" in text and "did you mean 'move_rate'?" in text, text
    with pytest.raises(ParameterError, match="scale"):
        FlowModel({"scale": "tiny"})
    with pytest.raises(ParameterError, match="run\\(\\) overrides: steps"):
        run(Scenario(**SMALL), seed=1, overrides={"steps": -3})


def test_batch_run_over_scenarios_runs_each_and_rows_carry_the_seed():
    fast = Scenario(name="fast", **SMALL).model_copy(update={"steps": 3})
    slow = fast.model_copy(update={"name": "slow"})
    slow = slow.model_copy(update={"talent": slow.talent.model_copy(update={"move_rate": 0.0})})
    rows = pd.DataFrame(
        mesa.batch_run(
            FlowModel,
            parameters={"scenario": [fast, slow]},
            iterations=2,
            max_steps=3,
            number_processes=1,
            display_progress=False,
        )
    )
    final = rows.groupby("RunId").tail(1)
    assert len(final) == 4, f"2 scenarios x 2 iterations, got {len(final)} runs"
    assert final["seed"].nunique() == 4, "each row says which seed made it"
    names = final["scenario"].map(lambda s: s.name)
    assert sorted(names) == ["fast", "fast", "slow", "slow"]
    by_name = final.assign(name=names).groupby("name")["researcher_moves"].sum()
    assert by_name["slow"] == 0 and by_name["fast"] > 0, (
        f"the scenarios' own move rates must act (slow has none): {by_name.to_dict()}"
    )
    again = FlowModel(fast, rng=int(final["seed"].iloc[0]))
    for _ in range(3):
        again.step()
    first = final.iloc[0]
    assert again.latest["papers"] == first["papers"], "a row's seed reproduces its run"
