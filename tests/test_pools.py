"""Pools: members grouped by key, uniform and weighted draws without all-pairs matching."""

from __future__ import annotations

import numpy as np

from flowsim.pools import Pools, choose_rows, run_starts, stable_argsort


def test_uniform_draws_stay_in_their_pool_and_empty_pools_give_minus_one():
    keys = np.array([0, 2, 2, -1, 0, 2])
    pools = Pools(keys, 3)
    assert pools.counts.tolist() == [2, 0, 3], f"pool sizes must count members, got {pools.counts}"
    rng = np.random.default_rng(1)
    want = np.array([0, 1, 2] * 200)
    got = pools.sample(want, rng)
    assert (got[want == 1] == -1).all(), "an empty pool yields -1"
    assert set(got[want == 0]) == {0, 4}, f"pool 0 holds rows 0 and 4, drew {set(got[want == 0])}"
    assert set(got[want == 2]) == {1, 2, 5}, (
        f"pool 2 holds rows 1, 2, 5, drew {set(got[want == 2])}"
    )
    assert 3 not in got, "a row with a negative key is in no pool"


def test_weighted_draws_follow_weights_and_skip_zero_weights():
    keys = np.array([0, 0, 0, 1])
    weights = np.array([1.0, 3.0, 0.0, 0.0])
    pools = Pools(keys, 2, weights=weights)
    assert pools.size(np.array([0, 1])).tolist() == [4.0, 0.0], "weighted size is the total weight"
    rng = np.random.default_rng(2)
    got = pools.sample(np.zeros(20_000, dtype=np.int64), rng)
    share = (got == 1).mean()
    assert abs(share - 0.75) < 0.02, f"row 1 has 3/4 of the weight, drawn {share:.3f}"
    assert (got != 2).all(), "a zero-weight member is never drawn"
    assert pools.sample(np.array([1]), rng)[0] == -1, "a pool of zero total weight yields -1"


def test_choose_rows_draws_columns_in_proportion_to_weights():
    weights = np.array([[0.0, 1.0, 1.0], [0.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    rng = np.random.default_rng(3)
    rows = np.array([0] * 10_000 + [1, 2])
    got = choose_rows(weights, rows, rng)
    assert set(got[:10_000]) == {1, 2}, "column 0 has zero weight for row 0"
    assert abs((got[:10_000] == 1).mean() - 0.5) < 0.02, "equal weights draw equally often"
    assert got[10_000] == -1, "a row whose weights are all zero gives -1"
    assert got[10_001] == 0, "the only positive column is always drawn"


def test_pools_are_deterministic_given_the_generator():
    keys = np.random.default_rng(0).integers(0, 5, 1000)
    a = Pools(keys, 5).sample(keys, np.random.default_rng(9))
    b = Pools(keys, 5).sample(keys, np.random.default_rng(9))
    assert np.array_equal(a, b), "the same Generator state must give the same draws"
    assert (keys[a] == keys).all(), "each draw comes from the requested pool"


def test_remembered_groupings_follow_changed_keys_and_leave_the_callers_arrays_writable():
    keys = np.random.default_rng(4).integers(-1, 6, 2000).astype(np.uint8)
    first = Pools(keys, 6)
    again = Pools(keys.copy(), 6)
    assert np.array_equal(first.members, again.members), "equal keys group equally"
    assert keys.flags.writeable, "the pools must not make the caller's key array read-only"
    keys[:50] = 2  # the same array, changed in place: a new grouping, not the remembered one
    changed = Pools(keys, 6)
    want = np.flatnonzero(keys < 6)
    want = want[np.argsort(keys[want], kind="stable")]
    assert np.array_equal(changed.members, want), "changed keys must be grouped anew"
    assert changed.counts.tolist() == np.bincount(keys[want], minlength=6).tolist(), (
        "the counts must follow the changed keys"
    )


def test_weighted_totals_add_the_members_weights_in_row_order():
    rng = np.random.default_rng(6)
    keys = rng.integers(-1, 40, 5000)
    weights = rng.random(5000) * 10
    pools = Pools(keys, 40, weights=weights)
    for k in (0, 17, 39):
        total = 0.0
        for w in weights[keys == k]:
            total += w
        assert pools.totals[k] == total, f"key {k}: total {pools.totals[k]!r}, want {total!r}"


def test_choose_rows_matches_the_cumulative_share_rule():
    rng = np.random.default_rng(7)
    weights = rng.random((30, 11))
    weights[4] = 0.0
    weights[:, 3] = 0.0
    rows = rng.integers(0, 30, 4000)
    got = choose_rows(weights, rows, np.random.default_rng(8))
    u = np.random.default_rng(8).random(rows.size)
    cum = (
        np.cumsum(weights, axis=1)
        / np.where(weights.sum(axis=1) > 0, weights.sum(axis=1), 1)[:, None]
    )
    want = np.minimum((u[:, None] >= cum[rows]).sum(axis=1), 10)
    want[rows == 4] = -1
    assert np.array_equal(got, want), "the column is the count of cumulative shares at or below u"


def test_stable_argsort_and_run_starts_match_numpy():
    rng = np.random.default_rng(9)
    for top in (5, 70_000, 2**40):
        keys = rng.integers(0, top, 3000)
        assert np.array_equal(stable_argsort(keys), np.argsort(keys, kind="stable")), top
        order = rng.permutation(3000)
        assert np.array_equal(
            stable_argsort(keys, order), order[np.argsort(keys[order], kind="stable")]
        ), f"keys below {top}: ties must keep the given order"
        ranked = np.sort(keys)
        assert np.array_equal(run_starts(ranked), np.searchsorted(ranked, ranked, side="left"))
    negative = rng.integers(-3, 3, 500)
    assert np.array_equal(stable_argsort(negative), np.argsort(negative, kind="stable"))
