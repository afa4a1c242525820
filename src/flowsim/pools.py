"""Pools: draw agents by key (city, field, ...) without looking at all pairs.

A :class:`Pools` groups the rows of a population by an integer key with one
stable sort. Keys are cast to 8- or 16-bit integers whenever the number of
pools allows, because numpy's stable sort of such keys is a radix sort (O(n),
five to ten times faster than a comparison sort on a million rows): the pools are
rebuilt every step, so this sort is the hottest line of the model. Drawing a
member of pool ``k`` for each of m requests is O(m) (uniform) or O(m log n)
(weighted).
"""

from __future__ import annotations

import threading

import numpy as np


class Pools:
    """Members grouped by key; ``sample`` draws one member per request.

    Args:
        keys: key of each row, integers in [0, n_keys); rows with a negative key (or one of
            n_keys or more) are left out.
        n_keys: number of distinct keys.
        weights: optional non-negative weight of each row for weighted draws.
    """

    def __init__(self, keys: np.ndarray, n_keys: int, weights: np.ndarray | None = None):
        keys = np.asarray(keys)
        order, counts, small = _group(keys, n_keys)
        self.members = order
        self.counts = counts
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1]))
        self.weighted = weights is not None
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64)
            self.cum = np.cumsum(weights.take(order))
            # the members of a key in row order, as in the sorted order (the sort is
            # stable): a bincount over the rows adds the same numbers in the same order
            if small is None:
                small = np.where(keys >= 0, keys, n_keys)
            self.totals = np.bincount(small, weights=weights, minlength=n_keys)[:n_keys]
            self.cum_start = self.cum[self.starts + self.counts - 1] - self.totals
            self.cum_start[self.counts == 0] = 0.0

    def size(self, keys: np.ndarray) -> np.ndarray:
        """Number of members (or total weight, if weighted) of each requested pool."""
        return self.totals[keys] if self.weighted else self.counts[keys]

    def sample(self, keys: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One member per requested key (with replacement); -1 where the pool is empty."""
        keys = np.asarray(keys, dtype=np.int64)
        out = np.full(keys.shape, -1, dtype=np.int64)
        u = rng.random(keys.shape)
        if keys.size == 0:
            return out
        if not self.weighted:
            n = self.counts[keys]
            ok = n > 0
            pos = self.starts[keys[ok]] + np.minimum((u[ok] * n[ok]).astype(np.int64), n[ok] - 1)
            out[ok] = self.members[pos]
            return out
        total = self.totals[keys]
        ok = total > 0
        target = self.cum_start[keys[ok]] + u[ok] * total[ok]
        pos = np.searchsorted(self.cum, target, side="right")
        lo = self.starts[keys[ok]]
        hi = lo + self.counts[keys[ok]] - 1
        out[ok] = self.members[np.clip(pos, lo, hi)]
        return out


MEMO_ROWS = 2**19
"""Groupings of at most this many rows are remembered (:func:`_group`)."""

_LOCK = threading.Lock()
_MEMO: dict[tuple, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]] = {}


def _group(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Rows with a non-negative key, sorted by key (stable), the count of each key, small keys.

    With fewer than 255 (or 2**15) keys, the keys are cast to unsigned 8-bit (or
    16-bit) integers (no copy where they are already): -1 (and any negative key)
    wraps to a value above every real key (as does a key of ``n_keys`` or more), so
    one radix sort of all rows puts the members first, in the same order as a stable
    sort of the members alone; those small keys are returned too (else None). The
    employers' keys are grouped several times a month, mostly unchanged (the world's
    pools, talent's posts, a firm failure's re-homing): the last few groupings of up
    to :data:`MEMO_ROWS` rows are remembered and reused when the keys are equal, and
    their arrays are read-only.
    """
    memo = (keys.dtype.str, keys.shape, n_keys)
    small_rows = keys.size <= MEMO_ROWS
    known = _MEMO.get(memo) if small_rows else None
    if known is not None and np.array_equal(known[0], keys):
        return known[1], known[2], known[3]
    if keys.dtype.kind in "iub" and n_keys < 2**15:
        small = keys.astype(np.uint8 if n_keys < 255 else np.uint16, copy=False)
        order = np.argsort(small, kind="stable")
        counts = np.bincount(small, minlength=n_keys)[:n_keys]
        order = order[: int(counts.sum())]
    else:
        small = None
        members = np.flatnonzero(keys >= 0)
        order = members[np.argsort(keys[members], kind="stable")]
        counts = np.bincount(keys[order], minlength=n_keys)[:n_keys]
    if small_rows:
        if small is keys:  # the caller's array: the memo keeps its own, read-only
            small = small.copy()
        for a in (order, counts, small):
            if a is not None:
                a.flags.writeable = False
        with _LOCK:  # the dashboard may run models in threads
            if len(_MEMO) >= 8:
                _MEMO.pop(next(iter(_MEMO)))
            _MEMO[memo] = (keys.copy(), order, counts, small)
    return order, counts, small


def choose_rows(weights: np.ndarray, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each request i, a column drawn with probability proportional to ``weights[rows[i]]``.

    ``weights`` is a small (k x m) matrix (e.g. origin city x destination city);
    rows whose weights are all zero give -1.
    """
    weights = np.asarray(weights, dtype=np.float64)
    totals = weights.sum(axis=1)
    cum = np.cumsum(weights, axis=1) / np.where(totals > 0, totals, 1.0)[:, None]
    rows = np.asarray(rows, dtype=np.int64)
    u = rng.random(rows.shape)
    # the column is the number of cumulative shares at or below u: counted one column at a
    # time (a few cities), in small integers, rather than over a (requests x columns) array
    n_cols = weights.shape[1]
    choice = np.zeros(rows.shape, dtype=np.int8 if n_cols < 127 else np.int64)
    for column in np.ascontiguousarray(cum.T):
        choice += column.take(rows) <= u
    choice = np.minimum(choice, n_cols - 1).astype(np.int64)
    choice[totals[rows] <= 0] = -1
    return choice


def stable_argsort(keys: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """``np.argsort(keys, kind="stable")`` for integer keys, by 16-bit radix sorts.

    numpy radix-sorts keys of up to 16 bits (O(n)) but merge-sorts wider ones: non-negative
    keys are sorted here 16 bits at a time, least significant first, each pass stable
    (negative keys fall back to numpy's sort). With ``order``, the rows ``order`` are sorted
    by their keys, ties kept in ``order``'s order (``order[stable_argsort(keys[order])]``).
    """
    keys = np.asarray(keys)
    if order is not None:
        keys = keys[order]
    if keys.size == 0 or keys.min() < 0 or keys.dtype.kind not in "iu":
        by_key = np.argsort(keys, kind="stable")
        return by_key if order is None else order[by_key]
    order = np.arange(keys.size) if order is None else order
    top = int(keys.max())
    shift = 0
    while True:
        digit = (keys >> shift).astype(np.uint16) if shift else keys.astype(np.uint16)
        by_digit = np.argsort(digit, kind="stable")
        order, keys = order[by_digit], keys[by_digit]
        shift += 16
        if top >> shift == 0:
            return order


def run_starts(values: np.ndarray) -> np.ndarray:
    """For each entry of a sorted array, the index of the first entry equal to it.

    ``np.searchsorted(values, values, side="left")`` in one pass.
    """
    if values.size == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.empty(values.size, dtype=bool)
    start[0] = True
    np.not_equal(values[1:], values[:-1], out=start[1:])
    return np.maximum.accumulate(np.where(start, np.arange(values.size), 0))
