"""Pools: members grouped by key, uniform and weighted draws without all-pairs matching."""

from __future__ import annotations

import multiprocessing
import sys

import numpy as np
import pytest

from flowsim.pools import (
    Pools,
    Regrouping,
    choose_rows,
    in_background,
    keys_where,
    run_starts,
    segment_lower_bound,
    sorted_search,
    stable_argsort,
    weights_where,
)


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


def _same_pools(got: Pools, want: Pools, note: str) -> None:
    assert np.array_equal(got.members, want.members), f"{note}: members differ from a fresh sort"
    assert np.array_equal(got.counts, want.counts), f"{note}: counts differ"
    assert np.array_equal(got.starts, want.starts), f"{note}: starts differ"


@pytest.mark.parametrize("dtype, absent", [(np.uint8, 255), (np.int16, -1)])
def test_regroup_gives_the_pools_a_fresh_sort_gives(dtype, absent):
    # a month at a time: some rows change key, some leave (absent), some come back, rows
    # are added at the end; the regrouped pools must equal a fresh grouping each time
    rng = np.random.default_rng(11)
    n_keys = 40
    keys = rng.integers(0, n_keys, 5000).astype(dtype)
    keys[rng.random(keys.size) < 0.1] = absent
    pools = Pools.regroup(keys, n_keys)
    for month in range(12):
        keys = keys.copy()
        moved = rng.choice(keys.size, 150, replace=False)
        keys[moved] = rng.integers(0, n_keys, moved.size)
        keys[rng.choice(keys.size, 40, replace=False)] = absent
        added = rng.integers(0, n_keys, 60).astype(dtype)
        added[:5] = absent
        keys = np.concatenate((keys, added))
        keys[keys == 7] = absent if month == 3 else keys[keys == 7]  # a pool emptied once
        pools = Pools.regroup(keys, n_keys, pools)
        _same_pools(pools, Pools(keys, n_keys), f"month {month}")
        draws = np.random.default_rng(month)
        want = Pools(keys, n_keys).sample(np.arange(n_keys).repeat(5), draws)
        got = pools.sample(np.arange(n_keys).repeat(5), np.random.default_rng(month))
        assert np.array_equal(got, want), f"month {month}: draws differ from a fresh grouping"


def test_regroup_falls_back_to_a_full_grouping_when_it_must():
    rng = np.random.default_rng(12)
    keys = rng.integers(0, 20, 3000).astype(np.uint8)
    pools = Pools.regroup(keys, 20)
    cases = {
        "fewer rows": keys[:2500],
        "another key type": keys.astype(np.int16),
        "most rows changed": rng.integers(0, 20, 3000).astype(np.uint8),
    }
    for note, new in cases.items():
        _same_pools(Pools.regroup(new, 20, pools), Pools(new, 20), note)
    _same_pools(Pools.regroup(keys, 30, pools), Pools(keys, 30), "another number of keys")
    weighted = Pools(keys, 20, weights=np.ones(keys.size))
    _same_pools(Pools.regroup(keys, 20, weighted), Pools(keys, 20), "a weighted previous")
    unchanged = Pools.regroup(keys.copy(), 20, pools)
    _same_pools(unchanged, pools, "no row changed")


def test_regroup_keeps_its_own_copy_of_the_keys():
    keys = np.array([0, 1, 1, 0], dtype=np.uint8)
    pools = Pools.regroup(keys, 2)
    keys[0] = 1  # the caller reuses its array: the next regroup must still see the change
    _same_pools(Pools.regroup(keys, 2, pools), Pools(keys, 2), "after the caller's change")


def test_segment_lower_bound_finds_each_rows_place_in_its_pool():
    keys = np.array([2, 0, 1, 0, 2, 2, 1, 0], dtype=np.uint8)
    pools = Pools(keys, 3)  # members [1, 3, 7 | 2, 6 | 0, 4, 5]
    want_keys = np.array([0, 0, 1, 2, 2], dtype=np.int64)
    rows = np.array([0, 4, 9, 3, 5])
    got = segment_lower_bound(pools.members, pools.starts, pools.counts, want_keys, rows)
    assert got.tolist() == [0, 2, 5, 6, 7], f"first member at or above each row, got {got}"


def test_sorted_search_matches_numpy_searchsorted():
    rng = np.random.default_rng(13)
    cum = np.cumsum(rng.random(5000))
    for m in (10, 5000):
        target = rng.random(m) * cum[-1]
        target[: m // 10] = cum[rng.integers(0, cum.size, m // 10)]  # ties with cum
        want = np.searchsorted(cum, target, side="right")
        assert np.array_equal(sorted_search(cum, target), want), f"{m} targets"


def test_in_background_returns_the_result_and_raises_the_error():
    assert in_background(np.add, 2, 3).result() == 5
    with pytest.raises(ZeroDivisionError):
        in_background(lambda: 1 // 0).result()


@pytest.mark.skipif(sys.platform != "linux", reason="fork is the hazard on Linux")
def test_in_background_works_in_a_process_forked_after_it_was_used():
    # a sweep's worker forked from a process whose helper thread exists would wait forever
    # on the parent's thread (threads do not survive fork): the child makes its own
    in_background(np.add, 1, 1).result()
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        assert pool.apply_async(_forked_sum).get(timeout=60) == 7


def _forked_sum() -> int:
    return int(in_background(np.add, 3, 4).result())


def test_a_regrouping_reads_and_pickles_as_the_pools_it_becomes():
    import pickle

    keys = np.random.default_rng(14).integers(0, 9, 2000).astype(np.uint8)
    first = Regrouping.start(keys, 9)
    keys = keys.copy()
    keys[:50] = 255
    later = Regrouping.start(keys, 9, first)  # regrouped from the first, on the thread
    _same_pools(later.done(), Pools(keys, 9), "regrouped on the helper thread")
    assert np.array_equal(later.counts, Pools(keys, 9).counts), "reads as its pools"
    copy = pickle.loads(pickle.dumps(later))
    _same_pools(copy.done(), later.done(), "pickled")


def test_keys_and_weights_where_equal_numpy_where():
    rng = np.random.default_rng(15)
    alive = rng.random(3000) < 0.6
    city = rng.integers(0, 11, 3000).astype(np.int8)
    got = keys_where(alive, city)
    assert got.dtype == np.uint8
    assert np.array_equal(got, np.where(alive, city, np.int8(-1)).astype(np.uint8)), "uint8"
    wide = city.astype(np.int16) * 7 + rng.integers(0, 7, 3000).astype(np.int16)
    assert np.array_equal(keys_where(alive, wide, np.int16), np.where(alive, wide, -1)), "int16"
    posts = rng.normal(0.0, 2.0, 3000)
    want = np.where(alive, np.maximum(posts, 0.0), 0.0)
    got_w = weights_where(alive, posts)
    assert np.array_equal(got_w, want) and not np.signbit(got_w).any(), "weights, no -0.0"
