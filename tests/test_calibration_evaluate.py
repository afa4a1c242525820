"""Target values from a run: region-wide, by jurisdiction, city, field, flow, and statistics.

The by-city cases use a small synthetic ``by_city`` table (the layout of
``RunResult.by_city``: replicate, seed, year, city, field, output, value), so they
check the arithmetic exactly; one case checks a real run's region-wide outputs.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from flowsim.calibration.evaluate import NotEvaluable, model_value, model_values, objective
from flowsim.calibration.targets import Target
from flowsim.params import Scenario
from flowsim.run import run


def _target(**kw) -> Target:
    base = {
        "id": "t",
        "output": "pct_applications",
        "value": 1.0,
        "tolerance": 0.1,
        "source": "test",
        "role": "validation",
        "reason": "test",
    }
    return Target.model_validate(base | kw)


def _result() -> SimpleNamespace:
    """Two years; Shenzhen and Guangzhou (GD) and Hong Kong; two fields."""
    rows = []
    values = {  # (year, city, field) -> patents
        (2022, "Shenzhen", "ict"): 60.0,
        (2022, "Shenzhen", "biomedicine"): 10.0,
        (2022, "Guangzhou", "ict"): 20.0,
        (2022, "Guangzhou", "biomedicine"): 10.0,
        (2022, "Hong Kong", "ict"): 2.0,
        (2022, "Hong Kong", "biomedicine"): 3.0,
        (2023, "Shenzhen", "ict"): 72.0,
        (2023, "Shenzhen", "biomedicine"): 12.0,
        (2023, "Guangzhou", "ict"): 20.0,
        (2023, "Guangzhou", "biomedicine"): 16.0,
        (2023, "Hong Kong", "ict"): 2.0,
        (2023, "Hong Kong", "biomedicine"): 4.0,
    }
    for (year, city, field), v in values.items():
        rows.append((0, 1, year, city, field, "invention_patents", v))
    by_city = pd.DataFrame(
        rows, columns=["replicate", "seed", "year", "city", "field", "output", "value"]
    )
    yearly = pd.DataFrame(
        {
            "year": [2022, 2023],
            "months": [12, 6],
            "pct_applications": [100.0, 60.0],
            "pct_applications_HK": [10.0, 4.0],
            "researchers": [1000.0, 1100.0],
        }
    )
    timeseries = pd.DataFrame({"step": np.arange(18), "year": [2022] * 12 + [2023] * 6})
    flows = pd.DataFrame(
        {
            "step": [0, 1, 13, 2],
            "element": ["talent", "talent", "talent", "data"],
            "origin": ["Shenzhen", "Hong Kong", "Shenzhen", "Shenzhen"],
            "destination": ["Hong Kong", "Shenzhen", "Guangzhou", "Hong Kong"],
            "count": [5.0, 3.0, 7.0, 2.0],
            "volume": [0.0] * 4,
            "mean_delay_days": [10.0, 20.0, 0.0, 60.0],
            "refusals": [1.0, 0.0, 0.0, 1.0],
        }
    )
    return SimpleNamespace(
        yearly=yearly, timeseries=timeseries, flows=flows, by_city=by_city, scenario=None
    )


def test_region_counters_are_per_year_and_gauges_at_year_end():
    r = _result()
    assert model_value(_target(year=2022), r) == 100.0
    assert model_value(_target(year=2023), r) == 120.0, "a 6-month year is scaled to 12"
    assert model_value(_target(output="researchers", year=2023), r) == 1100.0
    assert model_value(_target(), r) == 110.0, "no year: the mean of the years"


def test_jurisdiction_reads_the_split_column_or_sums_the_cities():
    r = _result()
    assert model_value(_target(jurisdiction="HK", year=2022), r) == 10.0
    t = _target(output="invention_patents", jurisdiction="GD", year=2022)
    assert model_value(t, r) == 100.0, "Shenzhen 70 + Guangzhou 30"


def test_city_and_field_read_the_by_city_table():
    r = _result()
    t = _target(output="invention_patents", city="Shenzhen", year=2023)
    assert model_value(t, r) == 84.0
    t = _target(output="invention_patents", field="ict", year=2022)
    assert model_value(t, r) == 82.0
    t = _target(output="invention_patents", city="Hong Kong", field="biomedicine", year=2023)
    assert model_value(t, r) == 4.0


def test_share_growth_and_distribution_statistics():
    r = _result()
    share = _target(
        output="invention_patents",
        city="Shenzhen",
        statistic="share",
        of={"jurisdiction": "GD"},
        year=2022,
    )
    assert model_value(share, r) == pytest.approx(0.7)
    growth = _target(
        output="invention_patents",
        city="Shenzhen",
        statistic="growth_rate",
        base_year=2022,
        year=2023,
    )
    assert model_value(growth, r) == pytest.approx(0.2)
    top = _target(
        output="invention_patents",
        jurisdiction="GD",
        statistic="top_share",
        across="city",
        year=2022,
    )
    assert model_value(top, r) == pytest.approx(0.7), "Shenzhen's share of Guangdong"
    tail = _target(output="invention_patents", statistic="tail_exponent", across="city", year=2022)
    expected = 3 / (math.log(70 / 5) + math.log(30 / 5))
    assert model_value(tail, r) == pytest.approx(expected)


def test_flow_targets_sum_a_link_kind_per_year():
    r = _result()
    cross = _target(output="count", flow={"element": "talent", "cross_border": True}, year=2022)
    assert model_value(cross, r) == 8.0
    domestic = _target(output="count", flow={"element": "talent", "cross_border": False}, year=2023)
    assert model_value(domestic, r) == 14.0, "7 in 6 months: 14 a year"
    one_way = _target(
        output="count", flow={"element": "talent", "origin": "GD", "destination": "HK"}, year=2022
    )
    assert model_value(one_way, r) == 5.0
    delay = _target(output="mean_delay_days", flow={"element": "talent"}, year=2022)
    assert model_value(delay, r) == pytest.approx((5 * 10 + 3 * 20) / 8)


def test_what_a_run_cannot_give_is_not_evaluable_with_a_reason():
    r = _result()
    with pytest.raises(NotEvaluable, match="year 2030 is not simulated"):
        model_value(_target(year=2030), r)
    r.by_city = None
    values, reasons = model_values([_target(output="invention_patents", city="Shenzhen")], r)
    assert math.isnan(values["t"]) and "no by-city table" in reasons["t"]


def test_objective_is_the_weighted_mean_squared_distance_in_bands():
    a = _target(id="a", value=100.0, tolerance=0.1, role="calibration")
    b = _target(id="b", value=10.0, tolerance=None, sd=1.0, weight=3.0, role="calibration")
    # a: 110 is one band off; b: 12 is one band (2 sd) off -> mean 1
    assert objective([a, b], {"a": 110.0, "b": 12.0}) == pytest.approx(1.0)
    assert objective([a, b], {"a": 120.0, "b": 10.0}) == pytest.approx(4.0 / 4)
    assert objective([a], {"a": float("nan")}) == 100.0, "no value counts as 10 bands off"


def test_a_real_run_gives_the_yearly_table_values():
    result = run(Scenario(scale=0.01, steps=24, warmup_steps=12, start_year=2022), 3)
    t = _target(jurisdiction="GD", year=2023)
    assert model_value(t, result) == pytest.approx(
        float(result.yearly.set_index("year").loc[2023, "pct_applications_GD"])
    )
    flows = result.flows
    talent = flows[(flows["element"] == "talent") & (flows["step"] < 12)]["count"].sum()
    flow_target = _target(output="count", flow={"element": "talent"}, year=2022)
    assert model_value(flow_target, result) == pytest.approx(talent)
