"""ABC rejection in ``flowsim calibrate`` and the input-quality assumption parameters.

ABC rejection (``search.method: abc``) draws every trial independently from the free
parameters' priors and keeps the draws that put every calibration target within
tolerance, in draw order: a sample of the approximate posterior. On targets the model
made at a known Guangdong PCT probability (0.095, prior uniform 0.04-0.16, tolerance
5%), the accepted draws must bracket the truth. The input-quality factors
(``research.data_quality_factor`` / ``samples_quality_factor``) turn the assumed table
``data/input_quality.csv`` into parameters with priors; they leave the table alone at 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydantic
import pytest
import yaml
from test_calibration_fit import TRUTH, _spec, _true_values

from flowsim.calibration import load_ensemble
from flowsim.calibration.fit import _draw, calibrate, finish, select_ensemble
from flowsim.calibration.targets import FreeParameter, load_targets
from flowsim.mechanisms.inputs import scaled_quality
from flowsim.params import Scenario, with_overrides
from flowsim.yamlio import ConfigError

QUALITY = np.array([[1.0, 0.9, 1.0], [0.7, 1.0, 0.8], [0.15, 0.3, 0.2]])
"""Data quality of three fields (columns) in GD, HK, MO (rows), as in input_quality.csv."""


def test_factors_of_one_leave_the_table_bit_for_bit():
    assert scaled_quality(QUALITY, [1.0, 1.0, 1.0]) is QUALITY, "no copy, no rounding"


def test_a_factor_moves_only_the_jurisdictions_relative_advantage():
    scaled = scaled_quality(QUALITY, [1.0, 2.0, 1.0])
    assert scaled.max(axis=0) == pytest.approx([1.0, 1.0, 1.0]), "the best source stays at 1"
    ratio = (scaled[1] / scaled[0]) / (QUALITY[1] / QUALITY[0])
    assert ratio == pytest.approx([2.0, 2.0, 2.0]), f"HK's advantage over GD doubles: {ratio}"
    assert scaled[1, 0] == pytest.approx(1.0) and scaled[0, 0] == pytest.approx(1 / 1.4), (
        "biomedicine: HK 0.7 x 2 = 1.4 becomes the best, GD falls to 1/1.4"
    )


def test_quality_factors_are_scenario_parameters_and_must_be_positive():
    base = Scenario()
    assert base.research.data_quality_factor.as_array() == [1.0, 1.0, 1.0], "default: the table"
    moved = with_overrides(base, {"research.samples_quality_factor.HK": 0.5})
    assert moved.research.samples_quality_factor.HK == 0.5
    with pytest.raises(pydantic.ValidationError, match="greater than 0"):
        with_overrides(base, {"research.data_quality_factor.MO": 0.0})


def test_a_draw_stays_in_its_prior_and_log_uniform_is_log_uniform():
    rng = np.random.default_rng(3)
    free = {"a": FreeParameter(low=0.5, high=8.0, log=True), "b": FreeParameter(low=1, high=2)}
    draws = pd.DataFrame([_draw(rng, free) for _ in range(4000)])
    assert draws["a"].between(0.5, 8.0).all() and draws["b"].between(1, 2).all(), "in bounds"
    assert draws["a"].median() == pytest.approx(2.0, rel=0.08), (
        f"log-uniform on 0.5-8 has median 2: {draws['a'].median():.3f}"
    )
    assert draws["b"].mean() == pytest.approx(1.5, abs=0.02), "uniform mean"


def test_abc_keeps_accepted_draws_in_draw_order_not_best_first():
    frame = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3],
            "objective": [0.3, 0.1, 0.9, 0.2],
            "within_all": [True, True, False, True],
        }
    )
    abc, rule = select_ensemble(frame, 2, "abc")
    assert abc["trial"].tolist() == [0, 1], "the first accepted draws, not the best"
    assert "acceptance rate 0.750" in rule, rule
    tpe, _ = select_ensemble(frame, 2, "tpe")
    assert tpe["trial"].tolist() == [1, 3], "TPE keeps the lowest objectives"


def test_an_unknown_search_method_is_refused_with_its_line(tmp_path):
    spec = _spec(2)
    spec["search"]["method"] = "optimise"
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    with pytest.raises(ConfigError, match="method"):
        load_targets(path)


def test_abc_rejection_brackets_the_true_parameter(tmp_path):
    spec = _spec(40)
    spec["search"]["method"] = "abc"
    spec["search"]["ensemble"] = 40
    truth = _true_values()
    for t in spec["targets"]:
        t["value"] = truth[t["id"]]
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "out"
    calibrate(path, out, workers=1, progress=False)
    outcome = finish(path, out)
    members = pd.DataFrame(load_ensemble(out))
    ((name, true),) = TRUTH.items()
    accepted = len(members)
    assert accepted >= 2, f"ABC accepted {accepted} of 40 draws: {outcome.text()}"
    assert members[name].min() <= true <= members[name].max(), (
        f"the accepted draws {sorted(members[name].round(4))} bracket the truth {true}"
    )
    width = members[name].max() - members[name].min()
    assert width < 0.3 * (0.16 - 0.04), (
        f"the posterior is narrower than the prior: {width:.4f} of 0.12"
    )
