"""Bounded mobility (issue 18): posts bound arrivals, pay pulls movers, data are sourced."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
from model_helpers import stepped_worlds

from flowsim.geography import CITIES
from flowsim.mechanisms.talent import (
    city_post_pools,
    city_posts,
    fill_posts,
    pay_housing,
    post_pools,
    posts_by_city,
)
from flowsim.run import run
from flowsim.scenario import load_scenario

SEEDS = (1, 2, 3)
HK = "Hong Kong"


def _hk_researchers(scenario: str, overrides: dict, seed: int) -> float:
    sc = load_scenario(f"scenarios/{scenario}.yaml")
    over = {"scale": 0.01, "steps": 60, "warmup_steps": 24, **overrides}
    b = run(sc, seed=seed, overrides=over, cache=False).by_city
    last = b[(b.year == b.year.max()) & (b.output == "researchers") & (b.city == HK)]
    return float(last.value.sum())


def _gain(scenario: str, overrides: dict) -> np.ndarray:
    return np.array(
        [
            _hk_researchers(scenario, overrides, s) / _hk_researchers("baseline", overrides, s) - 1
            for s in SEEDS
        ]
    )


def test_fill_posts_accepts_no_more_than_the_posts_of_each_group():
    rng = np.random.default_rng(0)
    group = np.repeat([0, 1, 2], [10, 3, 5])
    got = fill_posts(np.array([4.0, 7.0, 0.5]), group, rng)
    counts = np.bincount(group[got], minlength=3)
    assert counts.tolist() == [4, 3, 0], f"posts 4, 7, 0.5 for 10, 3, 5 requests, got {counts}"


def test_posts_bound_the_fast_tracks_gain_in_hong_kong_researchers():
    bounded = _gain("fast_track_researchers", {})
    unbounded = _gain("fast_track_researchers", {"talent.posts": False})
    assert unbounded.mean() > 0.05, f"unbounded fast track must raise HK researchers: {unbounded}"
    assert bounded.mean() < 0.5 * unbounded.mean(), (
        f"posts must at least halve the fast track's HK gain: bounded {bounded} vs "
        f"unbounded {unbounded} (seeds {SEEDS})"
    )


def test_higher_hong_kong_pay_draws_more_researchers_there():
    gains = []
    for s in SEEDS:
        base = _hk_researchers("baseline", {"talent.posts": False}, s)
        paid = _hk_researchers(
            "baseline", {"talent.posts": False, "talent.pay_multipliers.HK": 1.5}, s
        )
        gains.append(paid / base - 1)
    assert min(gains) > 0.03, f"50% higher pay in Hong Kong must draw researchers there: {gains}"


def test_posts_keep_every_researcher_and_staff_counts():
    n0 = None
    exchanged = 0.0  # arrivals from CN and ROW less departures (tests/test_talent_exchange.py)
    for step, world in stepped_worlds({}, steps=24):
        R, L, F = world.researchers, world.labs, world.firms
        grown = int(world.growth_added.sum())
        present = R.n - world.away_rows.size
        exchanged += world.counters["researcher_arrivals"] - world.counters["researcher_departures"]
        n0 = present - grown - exchanged if n0 is None else n0
        assert present == n0 + grown + exchanged, (
            f"step {step}: researchers {present}, expected {n0} at the start + {grown} added by "
            f"growth + {exchanged} exchanged with CN and ROW: moves must neither create nor "
            "lose one"
        )
        assert L.staff.sum() + F.staff.sum() == present, (
            f"step {step}: staff must sum to the researchers present"
        )
        assert np.isfinite(L.open_posts).all() and np.isfinite(F.open_posts).all(), (
            f"step {step}: open posts must be finite"
        )


def test_pay_housing_data_cover_every_city_with_a_source():
    text = resources.files("flowsim.data").joinpath("pay_housing.csv").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    for row in rows:
        assert len(row["source"]) > 40 and row["year"].isdigit(), (
            f"pay_housing.csv row {row['city']} {row['figure']} needs a cited source and year"
        )
    pay, housing, _ = pay_housing()
    assert (pay > 0).all() and (housing > 0).all(), f"every city of {CITIES} needs both figures"


def test_open_posts_by_city_from_the_pools_equal_the_count_over_employers():
    # talent reads each city's open posts from its pools by city (a sum per pool) instead
    # of counting over every employer again: the same numbers, to the bit, every month
    for step, world in stepped_worlds({}, steps=12):
        if step < 0:
            continue
        pools = post_pools(world)
        got = posts_by_city(*pools[2:])
        assert np.array_equal(got, city_posts(world)), f"step {step}: {got} != {city_posts(world)}"
        assert np.array_equal(posts_by_city(*city_post_pools(world)), city_posts(world))
