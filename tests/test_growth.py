"""Issue 18, a growing region: R&D inputs grow per city at the sourced rates from step 0.

Small models (scale 0.005, a 24-month warm-up) run 120 reported months; the growth of
researchers is exogenous (:mod:`flowsim.mechanisms.growth`), so the counts it adds are
checked exactly and the stocks (which job moves also shift) with replicates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowsim.geography import CITIES, load_geography
from flowsim.mechanisms import growth
from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides
from flowsim.scenario import load_scenario
from flowsim.warmstart import key

SMALL = {"scale": 0.005, "warmup_steps": 60, "steps": 120}
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _run(params: Scenario, seed: int, watch=None):
    model = FlowModel(params, rng=seed, cache=False)
    while model.running:
        model.step()
        if watch is not None:
            watch(model)
    return model


def _city_counts(model: FlowModel) -> np.ndarray:
    return np.bincount(model.world.researchers.city, minlength=len(CITIES))


@pytest.fixture(scope="module")
def grown():
    """Three replicates: researchers per city at step 0 and at the end, growing and not.

    Without the exchange of researchers with CN and ROW: at this scale (Hong Kong ~200
    researchers, a handful of employers with posts) its random walk and the arrivals that
    find no post move Hong Kong by up to 30% in ten years. At scale 0.02 with the exchange,
    Hong Kong grew x1.302 and x1.286 (seeds 1, 2; its path x1.286): the exchange keeps the
    path there (docs/open_region.md).
    """
    out = {}
    for enabled in (True, False):
        params = with_overrides(
            Scenario(), {**SMALL, "growth.enabled": enabled, "open_region.talent_factor": 0.0}
        )
        starts, ends, added = [], [], []
        for seed in (1, 2, 3):
            model = FlowModel(params, rng=seed, cache=False)
            starts.append(_city_counts(model))
            while model.running:
                model.step()
            ends.append(_city_counts(model))
            added.append(model.world.growth_added.copy())
        out[enabled] = (np.array(starts), np.array(ends), np.array(added))
    return out


def test_the_rates_are_the_sourced_ones():
    rates = growth.load_rates()
    i = CITIES.index
    assert rates["researchers"][i("Guangzhou")] == pytest.approx((27.87 / 19.57) ** 0.2 - 1, 1e-3)
    assert rates["spending"][i("Shenzhen")] == pytest.approx((2236.61 / 1328.28) ** 0.25 - 1, 1e-3)
    assert rates["spending"][i("Hong Kong")] == pytest.approx(
        (30138 / 26332.6) ** (1 / 3) - 1, 1e-3
    )
    personnel, spending = growth.yearly_rates(Scenario().growth)
    assert np.all(personnel > 0) and np.all(spending >= personnel), (
        "every city's R&D personnel grows, and its spending at least as fast"
    )
    off = growth.yearly_rates(with_overrides(Scenario(), {"growth.enabled": False}).growth)
    assert not np.any(off[0]) and not np.any(off[1]), "the stationary option grows nothing"
    doubled = with_overrides(Scenario(), {"growth.city_multipliers.Hong Kong": 2.0}).growth
    assert growth.yearly_rates(doubled)[0][i("Hong Kong")] == pytest.approx(
        2 * personnel[i("Hong Kong")]
    )


def test_regional_researchers_grow_at_the_sourced_rate_over_ten_years(grown):
    starts, ends, _ = grown[True]
    base = load_geography().figures["researchers"]
    personnel = growth.load_rates()["researchers"]
    expected = float((base * (1 + personnel) ** 10).sum() / base.sum())
    ratio = ends.sum(axis=1) / starts.sum(axis=1)
    assert np.all(np.abs(ratio / expected - 1) < 0.01), (
        f"the region's researchers grow x{expected:.3f} over ten years at the sourced rates "
        f"(weighted by the city figures); the replicates grew x{np.round(ratio, 3)}"
    )


def test_each_city_gains_researchers_on_its_sourced_path(grown):
    """Over ten years each city gains exactly base x ((1 + g) ** 10 - 1) researchers."""
    _, _, added = grown[True]
    personnel = growth.load_rates()["researchers"]
    params = with_overrides(Scenario(), SMALL)
    model = FlowModel(params, rng=1, cache=False)
    due = growth.added_by(model.world.growth_base, personnel, 120)
    for r in range(added.shape[0]):
        assert np.array_equal(added[r], due), (
            f"replicate {r}: researchers gained per city {added[r]} must follow the sourced "
            f"path {due} whatever the seed"
        )
    path = model.world.growth_base * ((1 + personnel) ** 10 - 1)
    assert np.all((due <= path + 1e-6) & (due > path - 1)), (
        f"the path is the sourced compound growth rounded down: {due} vs {np.round(path, 2)}"
    )


def test_guangdong_grows_at_its_rate_and_faster_than_hong_kong(grown):
    """Guangdong within 5% and Hong Kong within 10% of their sourced ten-year factors.

    Talent's amenity is re-balanced each year on the growth path's shares, so job moves do
    not pull researchers back to the base year's shares (balanced once, Hong Kong, 2.55% a
    year, x1.29 in ten years, ended 10-30% above its path, fed by Guangdong; now within
    -2% to +6%, seeds 1-3). Guangdong's ten-year factor is at least 1.25 times Hong Kong's
    (the sourced rates give 1.56), in every replicate, and both well above the stationary
    option's.
    """
    geo = load_geography()
    jur = geo.city_jurisdiction
    base = geo.figures["researchers"]
    personnel = growth.load_rates()["researchers"]
    starts, ends, _ = grown[True]
    flat_starts, flat_ends, _ = grown[False]

    def factor(s, e, j):
        return e[:, jur == j].sum(axis=1) / s[:, jur == j].sum(axis=1)

    gd, hk = factor(starts, ends, 0), factor(starts, ends, 1)
    mine = jur == 0
    expected = (base[mine] * (1 + personnel[mine]) ** 10).sum() / base[mine].sum()
    assert np.all(np.abs(gd / expected - 1) < 0.05), (
        f"GD: researchers grow x{expected:.3f} at the sourced rates; the replicates grew "
        f"x{np.round(gd, 3)}"
    )
    hk_mine = jur == 1
    hk_expected = (base[hk_mine] * (1 + personnel[hk_mine]) ** 10).sum() / base[hk_mine].sum()
    assert np.all(np.abs(hk / hk_expected - 1) < 0.10), (
        f"HK: researchers grow x{hk_expected:.3f} at the sourced rates; the replicates grew "
        f"x{np.round(hk, 3)} (job moves must keep the grown shares)"
    )
    assert np.all(gd / hk > 1.25), (
        f"GD grows x{np.round(gd, 3)}, HK x{np.round(hk, 3)}: the sourced gap must survive"
    )
    for name, grew, flat in (
        ("GD", gd, factor(flat_starts, flat_ends, 0)),
        ("HK", hk, factor(flat_starts, flat_ends, 1)),
    ):
        assert grew.min() > flat.max() + 0.15, (
            f"{name}: the growing region (x{np.round(grew, 3)}) grows beyond the stationary "
            f"option (x{np.round(flat, 3)})"
        )


def _exchanged(world) -> float:
    """This month's arrivals from CN and ROW less departures there (model units)."""
    return world.counters["researcher_arrivals"] - world.counters["researcher_departures"]


def test_the_stationary_option_stays_flat_and_nothing_is_created_or_lost():
    params = with_overrides(Scenario(), {**SMALL, "steps": 36, "growth.enabled": False})
    model = FlowModel(params, rng=4, cache=False)
    w = model.world
    n0, budget0 = w.researchers.n - w.away_rows.size, w.labs.budget.copy()
    exchanged = 0.0

    while model.running:
        model.step()
        exchanged += _exchanged(w)
        present = w.researchers.n - w.away_rows.size
        assert present == n0 + exchanged, (
            "without growth, researchers change only by the exchange with CN and ROW"
        )
    assert np.array_equal(w.labs.budget, budget0), "lab budgets are held without growth"
    assert np.all(w.rd_intensity == 1.0) and not w.growth_added.any()


def test_researchers_are_created_only_by_growth_and_stay_employed():
    params = with_overrides(Scenario(), {**SMALL, "steps": 36})
    model = FlowModel(params, rng=5, cache=False)
    w = model.world
    n0 = w.researchers.n - w.away_rows.size
    seen = []
    exchanged = 0.0

    while model.running:
        model.step()
        exchanged += _exchanged(w)
        present = w.researchers.n - w.away_rows.size
        added = int(w.growth_added.sum())
        assert present == n0 + added + exchanged, (
            f"month {model.step_index}: {present} researchers, {n0} at the start + {added} by "
            f"growth + {exchanged} exchanged with CN and ROW"
        )
        staff = int(w.labs.staff.sum() + w.firms.staff.sum())
        assert staff == present, f"every researcher has one employer: staff {staff} vs {present}"
        seen.append(added)
    assert seen[-1] > seen[0] > 0, "growth adds researchers month after month"


def test_new_researchers_join_their_employers_field_and_zone():
    model = FlowModel(with_overrides(Scenario(), SMALL), rng=7, cache=False)
    w = model.world
    n0 = w.researchers.n
    city = np.repeat(np.arange(len(CITIES)), 50)
    hired = growth._hire(w, city, np.random.default_rng(0))
    R, new = w.researchers, np.arange(n0, w.researchers.n)
    assert new.size == hired.size == city.size, "every city has employers at this scale"
    assert np.array_equal(R.city[new], city), "hired in their own city"
    for kind, table, column in ((0, w.labs, "field"), (1, w.firms, "sector")):
        rows = new[R.employer_kind[new] == kind]
        assert rows.size > 0, f"new researchers join employers of kind {kind}"
        assert np.array_equal(R.field[rows], getattr(table, column)[R.employer[rows]])
        assert np.array_equal(R.zone[rows], table.zone[R.employer[rows]])
    share = (R.employer_kind[new] == 0).mean()
    expected = w.public_share[city].mean()
    assert abs(share - expected) < 0.06, (
        f"labs hire the city's public-research share: {share:.3f} vs {expected:.3f}"
    )


def test_a_policy_and_its_baseline_gain_the_same_researchers_in_every_city():
    base = with_overrides(Scenario(), {**SMALL, "steps": 48})
    policy = with_overrides(
        load_scenario(SCENARIOS / "fast_track_researchers.yaml"), {**SMALL, "steps": 48}
    )
    added = {}
    counts = {}
    for name, params in (("baseline", base), ("policy", policy)):
        months = []
        model = _run(params, 6, lambda m, months=months: months.append(m.world.growth_added.copy()))
        added[name] = np.array(months)
        counts[name] = _city_counts(model)
    assert np.array_equal(added["baseline"], added["policy"]), (
        "common seeds: the researchers each city gains by growth are bit-identical, month by "
        "month, under a talent policy and its baseline"
    )
    assert not np.array_equal(counts["baseline"], counts["policy"]), (
        "the policy does act (researchers' cities differ), so the pairing is not vacuous"
    )


def test_growth_is_not_in_the_warm_start_key():
    params = Scenario()
    off = with_overrides(params, {"growth.enabled": False, "growth.researcher_multiplier": 2.0})
    assert key(params, 1) == key(off, 1), "the warm-up never reads growth: one cache entry"
    assert key(params, 1) != key(with_overrides(params, {"scale": 0.2}), 1)


def test_added_by_follows_the_compound_path():
    base = np.array([1000.0, 10.0, 0.0])
    rate = np.array([0.1, 0.1, 0.5])
    assert list(growth.added_by(base, rate, 12)) == [100, 1, 0]
    assert list(growth.added_by(base, rate, 0)) == [0, 0, 0]
    assert growth.added_by(base, rate, 120)[0] == int(np.floor(1000 * (1.1**10 - 1) + 1e-9))


def test_the_growth_path_gives_the_grown_expected_shares():
    model = FlowModel(with_overrides(Scenario(), {**SMALL, "steps": 24}), rng=8, cache=False)
    w = model.world
    assert np.array_equal(growth.expected_researchers(w), w.expected_researchers)
    while model.running:
        model.step()
    personnel = growth.load_rates()["researchers"]
    assert np.allclose(w.growth_path, (1 + personnel) ** 2), "two years on the path"
    share = growth.expected_researchers(w).sum(axis=1)
    share /= share.sum()
    base = w.expected_researchers.sum(axis=1) / w.expected_researchers.sum()
    hk = CITIES.index("Hong Kong")
    assert share[hk] < base[hk], "Hong Kong's expected share falls as Guangdong grows faster"
