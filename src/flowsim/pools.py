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

import numpy as np


class Pools:
    """Members grouped by key; ``sample`` draws one member per request.

    Args:
        keys: key of each row, integers in [0, n_keys); rows with a negative key are left out.
        n_keys: number of distinct keys.
        weights: optional non-negative weight of each row for weighted draws.
    """

    def __init__(self, keys: np.ndarray, n_keys: int, weights: np.ndarray | None = None):
        keys = np.asarray(keys)
        order, counts = _group(keys, n_keys)
        self.members = order
        self.counts = counts
        self.starts = np.concatenate(([0], np.cumsum(self.counts)[:-1]))
        self.weighted = weights is not None
        if weights is not None:
            w = np.asarray(weights, dtype=np.float64)[order]
            self.cum = np.cumsum(w)
            member_keys = np.repeat(np.arange(n_keys), counts)
            self.totals = np.bincount(member_keys, weights=w, minlength=n_keys)[:n_keys]
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


def _group(keys: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows with a non-negative key, sorted by key (stable), and the count of each key.

    With fewer than 255 (or 2**15) keys, the keys are cast to unsigned 8-bit (or
    16-bit) integers: -1 (and any negative key) wraps to a value above every real
    key, so one radix sort of all rows puts the members first, in the same order
    as a stable sort of the members alone.
    """
    if keys.dtype.kind in "iub" and n_keys < 2**15:
        small = keys.astype(np.uint8 if n_keys < 255 else np.uint16)
        order = np.argsort(small, kind="stable")
        counts = np.bincount(small, minlength=n_keys)[:n_keys]
        return order[: int(counts.sum())], counts
    members = np.flatnonzero(keys >= 0)
    order = members[np.argsort(keys[members], kind="stable")]
    return order, np.bincount(keys[order], minlength=n_keys)[:n_keys]


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
    choice = (u[:, None] >= cum[rows]).sum(axis=1)
    choice = np.minimum(choice, weights.shape[1] - 1)
    choice[totals[rows] <= 0] = -1
    return choice
