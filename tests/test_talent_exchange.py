"""The outside as a pool of talent: researchers arriving from and leaving for CN and ROW.

docs/open_region.md ("Talent"); :func:`flowsim.mechanisms.talent.exchange`.
"""

from __future__ import annotations

import numpy as np
import pytest

from flowsim import openregion, policy
from flowsim.geography import CITIES, JURISDICTIONS, PLACES, load_geography
from flowsim.mechanisms import talent
from flowsim.model import FlowModel
from flowsim.params import Scenario
from flowsim.run import run

GEO = load_geography()
HK, CN = CITIES.index("Hong Kong"), PLACES.index("CN")
SMALL = {"scale": 0.05, "steps": 36, "warmup_steps": 24}
EASY_ENTRY = [
    {"element": "talent", "direction": "CN->HK", "approval": 1.0, "delay_days": 0.0, "cost": 0.0}
]


def _hk_cn(result) -> tuple[float, float, float]:
    """Arrivals CN -> HK, departures HK -> CN (whole run) and HK's researchers in the last year."""
    links = result.links
    moves = links[links["kind"] == "job_moves"]
    arrivals = moves[(moves["origin"] == "CN") & (moves["destination"] == "Hong Kong")]
    departures = moves[(moves["origin"] == "Hong Kong") & (moves["destination"] == "CN")]
    by = result.by_city
    hk = by[(by["output"] == "researchers") & (by["city"] == "Hong Kong")]
    last = hk[hk["year"] == hk["year"].max()]["value"].sum()
    return arrivals["count"].sum(), departures["count"].sum(), last


@pytest.fixture(scope="module")
def pairs():
    """Baseline and easy entry from the mainland into Hong Kong, 3 common seeds."""
    out = []
    for seed in (1, 2, 3):
        base = run(Scenario(**SMALL), seed=seed)
        easy = run(Scenario(**SMALL), seed=seed, overrides={"policy.rules": EASY_ENTRY})
        out.append((base, easy))
    return out


def test_every_rate_is_sourced_and_monthly_rates_compound_to_the_yearly():
    rates = openregion.load_talent_rates()
    assert rates.shape == (len(JURISDICTIONS), 2) and (rates > 0).all()
    op = Scenario().open_region
    monthly = openregion.monthly_talent_rates(op)
    assert 1 - (1 - monthly) ** 12 == pytest.approx(rates, rel=1e-12)
    off = op.model_copy(update={"enabled": False})
    assert not openregion.monthly_talent_rates(off).any()
    none = op.model_copy(update={"talent_factor": 0.0})
    assert not openregion.monthly_talent_rates(none).any()


def test_at_baseline_hong_kong_exchanges_its_sourced_share_each_way(pairs):
    """4% a year of HK's researchers arrive from the mainland and as many leave for it.

    data/external_talent.csv's rate within 15%; arrivals and departures balance within 10%.
    """
    for base, _ in pairs:
        arrivals, departures, researchers = _hk_cn(base)
        years = SMALL["steps"] / 12
        rate = openregion.load_talent_rates()[JURISDICTIONS.index("HK"), 0]
        for name, value in (("arrivals", arrivals), ("departures", departures)):
            measured = value / years / researchers
            assert measured == pytest.approx(rate, rel=0.15), (
                f"HK {name} with CN: {measured:.4f} a year per researcher, data {rate}"
            )
        assert arrivals / departures == pytest.approx(1.0, abs=0.10), (arrivals, departures)
        ts = base.timeseries
        region = ts["researcher_arrivals"].sum() / ts["researcher_departures"].sum()
        assert region == pytest.approx(1.0, abs=0.05), f"region arrivals/departures {region:.3f}"


def _analytic_ratio() -> float:
    """Deterrence x approval of entry CN -> HK with the rule over the baseline's."""

    def weight(rules_yaml):
        s = Scenario(policy={"rules": rules_yaml})
        tables = policy.compile_policy(s.policy, GEO, 1.0)
        ext = policy.compile_external(s.policy, tables, 1.0)
        rules = policy.compile_rules(s.policy, GEO, 1.0, ())
        o, d, z, k = np.array([CN]), np.array([HK]), np.array([-1]), policy.FlowKeys()
        w = policy.external_weights(ext, rules, 0, d, o, True, z, k, GEO, s.deterrence.talent)
        f = policy.resolve(ext, rules, 0, o, d, z, k, GEO.place_jurisdiction, GEO.place_corridor)
        return float(w[0] * f.approval[0])

    return weight(EASY_ENTRY) / weight([])


def test_easier_entry_into_hong_kong_brings_researchers_from_the_mainland(pairs):
    """A rule easing CN -> HK entry brings researchers from the mainland, and only inwards.

    It multiplies the arrivals by the ratio of the border's deterrence x approval (2.13; at
    most 20% less, for lack of posts), leaves departures within 10%, and Hong Kong ends with
    at least 2% more researchers.
    """
    expected = _analytic_ratio()
    assert expected == pytest.approx(2.13, abs=0.05)
    for base, easy in pairs:
        a0, d0, r0 = _hk_cn(base)
        a1, d1, r1 = _hk_cn(easy)
        assert 0.8 * expected <= a1 / a0 <= 1.05 * expected, (
            f"arrivals x{a1 / a0:.2f} under easy entry, analytic x{expected:.2f}"
        )
        assert d1 / d0 == pytest.approx(1.0, abs=0.10), f"departures x{d1 / d0:.2f}"
        assert r1 / r0 - 1.0 > 0.02, f"HK researchers {r1 / r0 - 1.0:+.1%} under easy entry"


def test_nobody_is_created_or_lost_and_the_away_are_nowhere():
    """Nobody is created or lost: present = start + growth + arrivals - departures.

    Employers' staff, the partner pools and the researchers gauge count the present only.
    """
    m = FlowModel(scale=0.02, steps=24, warmup_steps=12, seed=4)
    w = m.world
    start = w.researchers.n - w.away_rows.size
    arrived = left = 0.0
    for _ in range(24):
        m.step()
        arrived += w.counters["researcher_arrivals"]
        left += w.counters["researcher_departures"]
    R = w.researchers
    present = R.n - w.away_rows.size
    assert arrived > 50 and left > 50, (arrived, left)
    assert present == start + int(w.growth_added.sum()) + arrived - left
    assert int(w.labs.staff.sum() + w.firms.staff.sum()) == present
    assert (R.arrive_step[w.away_rows] == talent.AWAY).all()
    assert np.unique(w.away_rows).size == w.away_rows.size
    assert not np.isin(w.pending_moves, w.away_rows).any()
    # by city, the employers' staff (what present_by_city reads) equal the rows present
    rows = np.bincount(R.city, minlength=11) - np.bincount(R.city[w.away_rows], minlength=11)
    np.testing.assert_array_equal(
        talent.present_by_city(w), rows, err_msg="researchers by city: staff against rows"
    )
    w.refresh_pools()
    assert int(w.researcher_pools.counts.sum()) == present - w.pending_moves.size
    gauge = m.datacollector.get_model_vars_dataframe()["researchers"].iloc[-1]
    assert gauge == pytest.approx(present / w.scale)


def test_no_exchange_without_the_open_region_or_with_a_zero_factor():
    for over in ({"open_region.enabled": False}, {"open_region.talent_factor": 0.0}):
        r = run(Scenario(scale=0.01, steps=6, warmup_steps=6), seed=1, overrides=over)
        ts = r.timeseries
        assert ts["researcher_arrivals"].sum() == 0 and ts["researcher_departures"].sum() == 0
