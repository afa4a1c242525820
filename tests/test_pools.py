"""Pools: members grouped by key, uniform and weighted draws without all-pairs matching."""

from __future__ import annotations

import numpy as np

from flowsim.pools import Pools, choose_rows


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
