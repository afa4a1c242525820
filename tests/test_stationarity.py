"""Issue 10: a baseline that knows what it is: its stocks stay put over the ten reported years.

Since issue 18 the default region grows (:mod:`flowsim.mechanisms.growth`); these tests run
its stationary option, ``growth.enabled: false``, which must stay flat. Four seeded
baselines at the default scale 0.1 for the whole 120 months (~14 s). Each output's drift is
the change over the nine years from the first to the last reported year implied by a log-
linear trend fitted to all four replicates' yearly values (:func:`flowsim.trend.drift`); it
must lie within +-5%, and its 95% interval must be narrow enough (half-width <= 5%) that the
check could fail. The capital side (VC deals, the book at cost, dry powder, funds raised,
write-offs) is too lumpy at this size for that: a few hundred investor agents raise funds of
hundreds of millions; it is measured at scale 0.1 x 24 replicates by
``benchmarks/stationarity.py`` (ODD section 8). So is the count of start-ups founded a year:
since founding follows sourced registrations and the registry hazard (docs/weight.md) it is
~210 agents a year at this scale, and its drift's interval is ~+-8% over four replicates;
the stock of start-ups alive is tested here.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.knowledge import settled_stock
from flowsim.params import Scenario
from flowsim.run import run
from flowsim.trend import drift

SCALE, REPLICATES, TOLERANCE = 0.1, 4, 0.05

STATIONARY = (
    "researchers",
    "firms_alive",
    "startups_alive",
    "projects_active",
    "developments_active",
    "lab_invention_stock",
    "knowledge_stock",
    "knowledge_productivity",
    "papers",
    "invention_patents",
    "commercialized",
)


@pytest.fixture(scope="module")
def yearly():
    runs = [
        run(Scenario(), seed=100 + r, overrides={"scale": SCALE, "growth.enabled": False}).yearly
        for r in range(REPLICATES)
    ]
    return {name: np.stack([y[name].to_numpy(float) for y in runs]) for name in runs[0].columns}


@pytest.mark.parametrize("name", STATIONARY)
def test_stock_or_counter_has_no_trend(yearly, name):
    change, low, high = drift(yearly[name])
    assert (high - low) / 2 <= TOLERANCE, (
        f"{name}: the drift's 95% interval [{low:+.1%}, {high:+.1%}] is too wide to test "
        f"+-{TOLERANCE:.0%}; use more replicates or a larger scale"
    )
    assert abs(change) <= TOLERANCE, (
        f"{name}: drifts {change:+.1%} [{low:+.1%}, {high:+.1%}] over the ten reported years, "
        f"beyond +-{TOLERANCE:.0%} (benchmarks/stationarity.py measures every output)"
    )


def test_drift_recovers_a_known_trend_and_ignores_noise():
    rng = np.random.default_rng(5)
    years = np.arange(10)
    flat = 100 * np.exp(0.05 * rng.standard_normal((6, 10)))
    change, low, high = drift(flat)
    assert low < 0 < high and abs(change) < 0.05, (
        f"no trend: {change:+.2%} [{low:+.2%}, {high:+.2%}]"
    )
    rising = flat * 1.02 ** years[None, :]
    change, low, high = drift(rising)
    assert low < 1.02**9 - 1 < high, f"+2% a year is {1.02**9 - 1:+.1%}: {change:+.1%}"
    assert np.isnan(drift(np.zeros((3, 10)))[0]), "zeros have no log-linear trend"


def test_settled_knowledge_is_its_own_steady_state():
    rng = np.random.default_rng(3)
    weights = np.eye(3) + 0.05 * rng.random((3, 3))
    inflow = rng.random((3, 2)) + 0.5
    keep, elasticity = 0.99, 0.2
    reference = weights @ (inflow / (1 - keep)) * 0.8
    made_at = np.full((3, 2), 1.1)
    K = settled_stock(inflow, made_at, keep, weights, reference, elasticity)
    produced = inflow * ((weights @ K) / reference) ** elasticity / made_at
    assert np.allclose(K * (1 - keep), produced, rtol=1e-9), (
        "at the settled stock, depreciation equals the inflow its own productivity gives"
    )
