"""Guards for the performance work of issue 6, without timing anything.

Speed itself is measured by ``benchmarks/bench_scale.py``; these tests check the
properties that keep it: draws that cost O(chosen rows), pools grouped by a radix
sort in the same order as a comparison sort, the pending-move event list in step
with the researchers' state, memory that does not grow with simulated time, no
Python loop over agents, and determinism.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import flowsim
from flowsim.mechanisms import talent
from flowsim.model import FlowModel
from flowsim.params import Scenario
from flowsim.pools import Pools
from flowsim.run import run
from flowsim.streams import bernoulli_rows


def test_bernoulli_rows_chooses_each_row_at_its_rate():
    """Geometric gaps choose every row independently with the given probability."""
    rng = np.random.default_rng(11)
    n, prob, reps = 5_000, 0.04, 200
    hits = np.zeros(n)
    for _ in range(reps):
        rows = bernoulli_rows(n, prob, rng)
        assert rows.size == 0 or (rows[0] >= 0 and rows[-1] < n), "rows must lie in range(n)"
        assert np.all(np.diff(rows) > 0), "rows must be ascending and distinct"
        hits[rows] += 1
    rate = hits.sum() / (n * reps)
    sd = np.sqrt(prob * (1 - prob) / (n * reps))
    assert abs(rate - prob) < 5 * sd, (
        f"overall rate {rate:.5f} should be {prob} within 5 sd ({sd:.5f})"
    )
    first, last = hits[: n // 10].mean() / reps, hits[-n // 10 :].mean() / reps
    assert abs(first - last) < 0.01, (
        f"rows at the start ({first:.4f}) and end ({last:.4f}) must be equally likely"
    )


def test_bernoulli_rows_edge_cases_and_determinism():
    """Empty, certain and near-certain draws; the same Generator state gives the same rows."""
    rng = np.random.default_rng(0)
    assert bernoulli_rows(0, 0.5, rng).size == 0, "no rows to draw from gives no rows"
    assert bernoulli_rows(10, 0.0, rng).size == 0, "probability 0 chooses nothing"
    assert np.array_equal(bernoulli_rows(7, 1.0, rng), np.arange(7)), (
        "probability 1 chooses every row"
    )
    assert np.array_equal(bernoulli_rows(3, 0.999, np.random.default_rng(1)), np.arange(3)), (
        "a probability near 1 must still reach the last row (chunks continue where they stopped)"
    )
    a = bernoulli_rows(10_000, 0.01, np.random.default_rng(5))
    b = bernoulli_rows(10_000, 0.01, np.random.default_rng(5))
    assert np.array_equal(a, b), "the same Generator state must give the same rows"


@pytest.mark.parametrize(
    "dtype,n_keys",
    [(np.int8, 60), (np.int16, 60), (np.int16, 600), (np.int64, 60), (np.int64, 40_000)],
)
def test_pools_group_like_a_stable_sort(dtype, n_keys):
    """The radix-sorted pools hold the same members, in the same order, as a comparison sort."""
    rng = np.random.default_rng(n_keys)
    keys = rng.integers(-1, n_keys, 20_000).astype(dtype)
    weights = rng.random(keys.size)
    pools = Pools(keys, n_keys, weights=weights)
    members = np.flatnonzero(keys >= 0)
    expected = members[np.argsort(keys[members], kind="stable")]
    assert np.array_equal(pools.members, expected), (
        f"{dtype.__name__} keys: members out of stable-sort order"
    )
    counts = np.bincount(keys[members].astype(np.int64), minlength=n_keys)
    assert np.array_equal(pools.counts, counts), "pool sizes must count the rows of each key"
    totals = np.bincount(keys[members].astype(np.int64), weights=weights[members], minlength=n_keys)
    assert np.allclose(pools.totals, totals), "pool weights must sum the weights of each key"
    drawn = pools.sample(np.arange(n_keys), rng)
    ok = drawn >= 0
    assert np.array_equal(keys[drawn[ok]].astype(np.int64), np.arange(n_keys)[ok]), (
        "a draw must come from its pool"
    )
    assert np.array_equal(ok, counts > 0), "only empty pools may give -1"


def test_pending_moves_event_list_follows_the_researchers():
    """The event list of pending moves always equals the researchers with ``arrive_step >= 0``."""
    # many, slow cross-border moves so that many moves are pending at once (no posts: they
    # would turn most of the moves away)
    slow = {f"policy.corridors.{c}.talent.delay_days": 90.0 for c in ("GD-HK", "GD-MO", "HK-MO")}
    model = FlowModel(
        Scenario(scale=0.01, steps=24, warmup_steps=2),
        rng=3,
        **{"talent.move_rate": 0.2, "talent.posts": False},
        **slow,
    )
    most_pending = 0
    while model.running:
        model.step()
        R = model.world.researchers
        pending = np.sort(model.world.pending_moves)
        on_the_move = (R.arrive_step >= 0) & (R.arrive_step != talent.AWAY)  # not gone abroad
        assert np.array_equal(pending, np.flatnonzero(on_the_move)), (
            f"step {model.step_index}: the pending-move list must hold exactly the researchers "
            "with a move under way"
        )
        assert np.all(R.arrive_step[pending] >= model.month), "no pending move may have been missed"
        most_pending = max(most_pending, pending.size)
    assert most_pending > 10, (
        f"the test needs moves under way to mean anything (at most {most_pending} pending)"
    )


def test_memory_does_not_grow_with_simulated_time():
    """Fixed populations keep their rows, event tables get compacted, firms grow by births only."""
    model = FlowModel(Scenario(scale=0.01, steps=72, warmup_steps=6), rng=4)
    w = model.world
    fixed = {name: getattr(w, name).capacity for name in ("labs", "investors")}
    researchers = w.researchers.n
    firms_before, born = w.firms.n, 0
    while model.running:
        model.step()
        born += int(round(w.counters["startups"]))
        for table in (w.projects, w.developments):
            active = int(table.active.sum())
            assert table.n <= max(1024, 2 * active + 1), (
                f"step {model.step_index}: {table.kind} holds {table.n} rows for {active} active; "
                "finished rows "
                "must be compacted away"
            )
            assert table.capacity <= 2 * max(1024, 2 * active + 1) + 4096, (
                f"{table.kind} capacity keeps growing"
            )
        assert w.pending_moves.size <= w.researchers.n, "the pending-move list must not accumulate"
    for name, capacity in fixed.items():
        assert getattr(w, name).capacity == capacity, (
            f"{name} must keep their rows; no per-step copies kept"
        )
    grown = int(w.growth_added.sum())
    assert w.researchers.n == researchers + grown, (
        "researcher rows may grow only by the region's growth"
    )
    assert w.researchers.capacity <= 2 * w.researchers.n, (
        "researchers keep their rows: capacity at most doubles as growth appends"
    )
    assert w.firms.n == firms_before + born, "firm rows may grow only by start-ups founded"


def _lines_executed(scale: float) -> int:
    """Lines of flowsim's own code run to build a small model and step it 3 times."""
    root = os.path.dirname(flowsim.__file__)
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(root) else None

    sys.settrace(tracer)
    try:
        model = FlowModel(Scenario(scale=scale, steps=3, warmup_steps=2), rng=9)
        while model.running:
            model.step()
    finally:
        sys.settrace(None)
    return count


def test_no_python_loop_over_agents():
    """Ten times the agents must not mean more Python lines run: the work is in numpy."""
    small, large = _lines_executed(0.004), _lines_executed(0.04)
    assert large < 1.5 * small, (
        f"{large} flowsim lines ran at scale 0.04 against {small} at scale 0.004: "
        "some code loops over agents in Python"
    )


def test_same_seed_same_outputs():
    """Determinism: the same seed gives identical outputs, another seed different ones."""
    scenario = Scenario(scale=0.005, steps=12, warmup_steps=6)
    a, b, c = run(scenario, seed=21), run(scenario, seed=21), run(scenario, seed=22)
    assert a.timeseries.equals(b.timeseries), "the same seed must give the same time series"
    assert a.flows.equals(b.flows), "the same seed must give the same flows"
    assert not a.timeseries.equals(c.timeseries), "another seed must give another run"
