"""flowsim explain: a policy's effect split by channel, by re-runs with one channel held."""

from __future__ import annotations

import numpy as np

from flowsim.channels import Hold
from flowsim.explain import OTHER, decompose_seed, summarise
from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides

RUN = {"scale": 0.02, "steps": 12, "warmup_steps": 12}
WHITE_LIST = {
    f"policy.corridors.{c}.samples.{k}": v
    for c in ("GD-HK", "GD-MO")
    for k, v in (("delay_days", 4.0), ("approval", 0.9), ("cost", 2.0))
}
OUTPUTS = ("papers", "invention_patents", "vc_deals")


def _parts(seed: int = 5):
    base = Scenario(**RUN)
    policy = with_overrides(base, WHITE_LIST)
    return decompose_seed(policy, base, seed, OUTPUTS).set_index(["output", "part"])["value"]


def test_holding_the_only_channel_a_policy_uses_gives_back_the_baseline_exactly():
    parts = _parts()
    for name in OUTPUTS:
        total = parts[(name, "total")]
        # the white list acts only on sample shipments: with inputs held at baseline the
        # policy run is the baseline run, draw for draw (common random numbers)
        assert parts[(name, "inputs")] == total, f"{name}: inputs must carry the whole effect"
        for untouched in ("collaboration", "capital", "mobility"):
            assert parts[(name, untouched)] == 0.0, (
                f"{name}: a channel the white list does not touch must contribute nothing"
            )
        assert np.isclose(parts[(name, OTHER)], -parts[(name, "knowledge")]), (
            "what knowledge explains is taken from the remainder"
        )
    assert parts[("papers", "total")] != 0.0, "the white list changes papers at all"


def test_holding_knowledge_replays_the_baseline_productivity():
    base = Scenario(**RUN)
    model = FlowModel(base, rng=3)
    while model.running:
        model.step()
    path = [model.world.knowledge.history[k] for k in sorted(model.world.knowledge.history)]
    again = FlowModel(base, rng=3, hold=Hold(base, frozenset({"knowledge"}), path))
    while again.running:
        again.step()
    a = model.datacollector.get_model_vars_dataframe()["papers"].tolist()
    b = again.datacollector.get_model_vars_dataframe()["papers"].tolist()
    assert a == b, "the baseline with its own productivity path replayed is the baseline"


def test_summary_gives_percent_of_baseline_with_intervals():
    base = Scenario(**RUN)
    policy = with_overrides(base, WHITE_LIST)
    import pandas as pd

    parts = pd.concat([decompose_seed(policy, base, s, ("papers",)) for s in (1, 2)])
    summary = summarise(parts).set_index("part")
    assert set(summary.index) >= {"inputs", "knowledge", OTHER, "total"}
    row = summary.loc["total"]
    assert row.ci_low <= row["mean"] <= row.ci_high and row.replicates == 2


def test_unknown_channel_is_refused():
    try:
        Hold(Scenario(), frozenset({"teleportation"}))
    except ValueError as err:
        assert "teleportation" in str(err) and "relocation" in str(err)
    else:
        raise AssertionError("an unknown channel must be refused")
