"""Talent: gravity destinations, balanced job moves, visits; direction and invariants."""

from __future__ import annotations

import numpy as np
from model_helpers import flows_on, lowest_friction, small_run, stepped_worlds

from flowsim.geography import CORRIDORS
from flowsim.mechanisms.talent import balanced_mass, choose_destinations, draw_movers, gravity


def test_gravity_decays_with_travel_time_and_border_weight():
    mass = np.array([1.0, 1.0, 1.0])
    minutes = np.array([[10.0, 30.0, 90.0], [30.0, 10.0, 60.0], [90.0, 60.0, 10.0]])
    border = np.ones((1, 3, 3))
    border[0, 0, 2] = border[0, 2, 0] = 0.5
    pull = gravity(mass, minutes, 45.0, border)
    assert pull.shape == (1, 3, 3), "one pull per (zone slot, origin, destination)"
    assert pull[0, 0, 1] > pull[0, 0, 2], "a nearer city pulls more"
    assert np.isclose(pull[0, 0, 2], np.exp(-2.0) * 0.5), (
        "pull = mass x exp(-time/decay) x border weight"
    )


def test_balanced_mass_keeps_each_city_share_stationary():
    share = np.array([0.6, 0.3, 0.1])
    minutes = np.array([[20.0, 40.0, 100.0], [40.0, 20.0, 70.0], [100.0, 70.0, 20.0]])
    kernel = np.exp(-minutes / 45.0)
    kernel[0, 2] = kernel[2, 0] = kernel[0, 2] * 0.3  # a border between cities 0 and 2
    m = balanced_mass(share, kernel)
    moves = m[None, :] * kernel
    moves /= moves.sum(axis=1, keepdims=True)
    stationary = share @ moves
    assert np.allclose(stationary, share, atol=1e-6), (
        f"moves must keep shares {share}, got {stationary}"
    )


def test_choose_destinations_uses_the_zone_slot_row():
    weights = np.zeros((2, 2, 2))
    weights[0, 0, 0] = 1.0  # outside any zone, city 0 stays home
    weights[1, 0, 1] = 1.0  # in zone 0, city 0 goes to city 1
    rng = np.random.default_rng(0)
    out = choose_destinations(np.array([0, 0, 0]), np.array([-1, 0, -1]), weights, rng)
    assert out.tolist() == [0, 1, 0], f"the acting agent's zone picks the weight row, got {out}"


def test_draw_movers_only_draws_available_rows_once():
    rng = np.random.default_rng(4)
    arrive_step = np.where(np.arange(10_000) % 2 == 0, -1, 5)  # odd rows: a move under way
    available = arrive_step < 0
    rows = draw_movers(10_000, 0.1, arrive_step, rng)
    assert np.unique(rows).size == rows.size, "a researcher acts at most once a month"
    assert available[rows].all(), "researchers already moving do not move again"
    assert 400 < rows.size < 560, (
        f"~10% of the 5,000 available rows act (with duplicates collapsed), got {rows.size}"
    )


def test_raising_talent_approval_raises_cross_border_moves():
    approval = {f"policy.corridors.{c}.talent.approval": 1.0 for c in CORRIDORS}
    base = small_run().timeseries["researcher_moves_cross_border"].sum()
    more = small_run(approval).timeseries["researcher_moves_cross_border"].sum()
    assert more > 1.1 * base, (
        f"approval 1 on every corridor must raise cross-border moves: {base} -> {more}"
    )


def test_lower_talent_friction_raises_gd_hk_talent_crossings():
    base = flows_on(small_run().flows, "talent", "GD-HK")
    lower = flows_on(small_run(lowest_friction(("GD-HK",), ("talent",))).flows, "talent", "GD-HK")
    assert lower > 1.2 * base, (
        f"no GD-HK talent friction must raise GD-HK talent crossings: {base} -> {lower}"
    )


def test_stronger_border_effect_raises_cross_border_visits():
    base = small_run().timeseries["visits_cross_border"].sum()
    more = (
        small_run({"deterrence.talent.border_effect": 1.0}).timeseries["visits_cross_border"].sum()
    )
    assert more > 1.1 * base, f"border_effect 1 must raise cross-border visits: {base} -> {more}"


def test_moves_neither_create_nor_lose_researchers_and_staff_follow_them():
    n0, exchanged = None, 0.0
    for step, world in stepped_worlds({"talent.move_rate": 0.05}):
        R, L, F = world.researchers, world.labs, world.firms
        # researchers gone to CN or ROW keep their rows, away (tests/test_talent_exchange.py)
        here = np.ones(R.n, dtype=bool)
        here[world.away_rows] = False
        present = int(here.sum())
        exchanged += world.counters["researcher_arrivals"] - world.counters["researcher_departures"]
        grown = int(world.growth_added.sum())  # the region's growth appends researchers
        n0 = present - grown - exchanged if n0 is None else n0
        assert present == n0 + grown + exchanged, (
            f"step {step}: researcher count changed {n0} + {grown} + {exchanged} -> {present}"
        )
        assert L.staff.sum() + F.staff.sum() == present, (
            f"step {step}: staff counts must sum to the researchers"
        )
        lab = (R.employer_kind == 0) & here
        assert np.array_equal(np.bincount(R.employer[lab], minlength=L.n), L.staff), (
            f"step {step}: each lab's staff must equal the researchers employed there"
        )
        firm = (R.employer_kind == 1) & here
        assert np.array_equal(np.bincount(R.employer[firm], minlength=F.n), F.staff), (
            f"step {step}: each firm's staff must equal the researchers employed there"
        )
        assert (L.staff >= 0).all() and (F.staff >= 0).all(), f"step {step}: negative staff"
        assert (R.city >= 0).all(), f"step {step}: every researcher is in a city"
