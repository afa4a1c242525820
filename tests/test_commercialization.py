"""Commercialization: funding of development projects, manufacturing access, success."""

from __future__ import annotations

import numpy as np
from model_helpers import small_run, stepped_worlds

from flowsim.assembly import build_world
from flowsim.geography import CITIES, load_geography
from flowsim.mechanisms.commercialization import fund_in_order, manufacturing_access
from flowsim.params import Scenario


def test_fund_in_order_pays_oldest_first_within_cash():
    firm = np.array([0, 1, 0, 0, 1])
    cost = np.array([3.0, 5.0, 2.0, 1.0, 1.0])
    cash = np.array([5.5, 4.0])
    ok = fund_in_order(firm, cost, cash)
    assert ok.tolist() == [True, False, True, False, False], (
        f"cumulative cost per firm must fit its cash, got {ok}"
    )


def test_manufacturing_access_is_bounded_and_falls_with_the_border():
    capacity = np.array([1.0, 0.1])
    minutes = np.array([[20.0, 40.0], [40.0, 20.0]])
    open_border = np.ones((1, 2, 2))
    closed = open_border.copy()
    closed[0, 1, 0] = closed[0, 0, 1] = 0.1
    a_open = manufacturing_access(capacity, minutes, open_border)
    a_closed = manufacturing_access(capacity, minutes, closed)
    assert ((a_open >= 0) & (a_open <= 1)).all(), "access is in [0, 1]"
    assert a_open[0, 0] == 1.0, "a city with full capacity has full access"
    assert a_closed[0, 1] < a_open[0, 1], "a border to the factory city lowers access"


def test_hong_kong_access_depends_on_the_talent_border():
    hk = CITIES.index("Hong Kong")
    shut = build_world(Scenario(scale=0.002), seed=1)
    opened = build_world(
        Scenario.model_validate(
            {
                "scale": 0.002,
                "deterrence": {"talent": {"border_effect": 1.0}},
                "policy": {
                    "corridors": {
                        "GD-HK": {"talent": {"approval": 1.0, "delay_days": 0.0, "cost": 0.0}}
                    }
                },
            }
        ),
        seed=1,
    )
    assert opened.manufacturing_access[0, hk] > shut.manufacturing_access[0, hk], (
        "opening the Shenzhen border gives Hong Kong firms more manufacturing access"
    )
    assert load_geography().figures["manufacturing_capacity"][hk] < 1.0, (
        "Hong Kong manufactures little itself"
    )


def test_higher_success_probability_raises_commercialized_projects():
    base = small_run().timeseries
    more = small_run({"commercialization.success_prob": 1.0}).timeseries
    assert more["commercialized"].sum() > 1.3 * base["commercialized"].sum(), (
        f"success 1.0 must raise commercialized projects: {base['commercialized'].sum()} -> "
        f"{more['commercialized'].sum()}"
    )
    assert more["commercialized_value"].sum() > base["commercialized_value"].sum(), (
        "and their value"
    )


def test_no_capital_no_development():
    ts = small_run(
        {
            "population.firm_cash_mean": 0.0,
            "capital.seek_rate_startup": 0.0,
            "capital.seek_rate_growth": 0.0,
            "capital.seek_rate_waiting": 0.0,
            "transfer.licence_rate": 0.0,
            "commercialization.rd_budget_per_researcher": 0.0,
        }
    ).timeseries
    base = small_run().timeseries
    assert ts["developments_funded"].sum() < 0.5 * base["developments_funded"].sum(), (
        "firms with no cash, no revenue and no VC fund far fewer developments"
    )


def test_revenue_of_growth_firms_funds_development():
    poor = small_run({"commercialization.rd_budget_per_researcher": 0.0}).timeseries
    base = small_run().timeseries
    assert base["developments_funded"].sum() > 1.2 * poor["developments_funded"].sum(), (
        "growth firms' own R&D budget must fund more development: "
        f"{poor['developments_funded'].sum()} -> {base['developments_funded'].sum()}"
    )


def test_cash_and_development_stocks_stay_non_negative():
    for step, world in stepped_worlds():
        assert (world.firms.cash >= -1e-9).all(), f"step {step}: negative firm cash"
        D = world.developments
        assert (D.cost[D.active] > 0).all(), f"step {step}: a development with no cost"
        assert (~D.active | world.firms.alive[D.firm]).all(), (
            f"step {step}: a failed firm still develops"
        )
