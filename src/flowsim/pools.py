"""Pools: draw agents by key (city, field, ...) without looking at all pairs.

A :class:`Pools` groups the rows of a population by an integer key with one
stable sort. Keys are cast to 8- or 16-bit integers whenever the number of
pools allows, because numpy's stable sort of such keys is a radix sort (O(n),
five to ten times faster than a comparison sort on a million rows): the employers'
pools are rebuilt several times a month. Drawing a member of pool ``k`` for each of
m requests is O(m) (uniform) or O(m log n) (weighted). The researchers' pools, the
largest, are not re-sorted each month: :meth:`Pools.regroup` finds the rows whose key
changed and moves only those (O(n) comparisons and copies, no sort), giving the same
members in the same order, on a helper thread (:class:`Regrouping`).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np


def keys_where(alive: np.ndarray, keys: np.ndarray, dtype: type = np.uint8) -> np.ndarray:
    """``np.where(alive, keys, -1)`` in ``dtype`` (where -1 is 255 in unsigned 8-bit) (pure).

    For keys in [0, max of ``dtype``): computed as ``(keys + 1) x alive - 1``, which does
    not branch on each row, as ``np.where`` does (several times slower on a mask such as
    the firms alive, closed ones scattered among them).
    """
    out = np.asarray(keys).astype(dtype)
    out += 1
    out *= alive
    out -= 1
    return out


def weights_where(alive: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``np.where(alive, np.maximum(weights, 0), 0)`` for finite weights, by arithmetic (pure)."""
    out = np.maximum(weights, 0.0)
    out *= alive
    return out


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
        self.keys: np.ndarray | None = None  # the keys grouped, where regroup() keeps them
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

    @classmethod
    def regroup(
        cls,
        keys: np.ndarray,
        n_keys: int,
        previous: Pools | None = None,
        max_changed: float = 1 / 16,
    ) -> Pools:
        """Unweighted pools of ``keys``, updated from ``previous`` where few rows changed.

        The same pools as ``Pools(keys, n_keys)`` (members in key order, each key's in row
        order), found without a sort: the rows whose key differs from the one ``previous``
        was grouped with (and rows added since, at the end) leave their old pool and enter
        their new one, at the places a binary search gives (:func:`segment_lower_bound`).
        Falls back to a full grouping when there is no usable ``previous`` (none, weighted,
        other key type, fewer rows now, another number of keys) or when more than
        ``max_changed`` of the rows changed. The pools keep a copy of ``keys`` for the next
        call.
        """
        keys = np.asarray(keys)
        old = getattr(previous, "keys", None)
        if (
            old is None
            or previous.weighted
            or old.dtype != keys.dtype
            or old.size > keys.size
            or previous.counts.size != n_keys
        ):
            return cls._keeping(keys, n_keys)
        n_old = old.size
        changed = np.flatnonzero(keys[:n_old] != old)
        if changed.size + keys.size - n_old > max_changed * keys.size:
            return cls._keeping(keys, n_keys)
        rows = np.concatenate((changed, np.arange(n_old, keys.size)))  # ascending
        was, now = old[changed].astype(np.int64), keys[rows].astype(np.int64)
        leaving = (was >= 0) & (was < n_keys)
        entering = (now >= 0) & (now < n_keys)
        # by key, then row (rows are ascending already): the searches want them so, and rows
        # entering different pools at one place (a pool's end, the next one's start) go in
        # key order
        out_rows, out_keys = _by_key(changed[leaving], was[leaving])
        in_rows, in_keys = _by_key(rows[entering], now[entering])
        members, counts = previous.members, previous.counts.copy()
        starts = previous.starts
        if out_rows.size:
            at = segment_lower_bound(members, starts, counts, out_keys, out_rows)
            if not np.array_equal(members[at], out_rows):
                raise RuntimeError("Pools.regroup: a changed row was not in its old pool")
            members = np.delete(members, at)
            counts -= np.bincount(out_keys, minlength=n_keys)
            starts = _starts(counts)
        if in_rows.size:
            at = segment_lower_bound(members, starts, counts, in_keys, in_rows)
            members = np.insert(members, at, in_rows)
            counts += np.bincount(in_keys, minlength=n_keys)
            starts = _starts(counts)
        pools = cls.__new__(cls)
        pools.members, pools.counts, pools.starts = members, counts, starts
        pools.weighted = False
        pools.keys = keys.copy()
        return pools

    @classmethod
    def _keeping(cls, keys: np.ndarray, n_keys: int) -> Pools:
        """``Pools(keys, n_keys)`` holding a copy of its keys for :meth:`regroup`."""
        pools = cls(keys, n_keys)
        pools.keys = keys.copy()
        return pools

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
        pos = sorted_search(self.cum, target)
        lo = self.starts[keys[ok]]
        hi = lo + self.counts[keys[ok]] - 1
        out[ok] = self.members[np.clip(pos, lo, hi)]
        return out


def _by_key(rows: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rows`` and ``keys`` sorted by key, stably (ascending rows stay ascending per key)."""
    by_key = np.argsort(keys, kind="stable")
    return rows[by_key], keys[by_key]


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each key's members begin in the grouped order."""
    return np.concatenate(([0], np.cumsum(counts)[:-1]))


def segment_lower_bound(
    members: np.ndarray,
    starts: np.ndarray,
    counts: np.ndarray,
    keys: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    """For each (key, row), the first place in key's run of ``members`` holding row or more.

    Each key's members are in row order (``members[starts[k]:starts[k] + counts[k]]``
    ascending), so each run is searched with ``np.searchsorted``: one search per key
    present (a loop over pools, not over rows). ``keys`` must be sorted, and ``rows``
    ascending within each key.
    """
    at = np.empty(keys.size, dtype=np.int64)
    bounds = np.searchsorted(keys, np.arange(counts.size + 1))
    for key in np.flatnonzero(bounds[1:] > bounds[:-1]):
        a, b = bounds[key], bounds[key + 1]
        start = int(starts[key])
        run = members[start : start + int(counts[key])]
        at[a:b] = start + np.searchsorted(run, rows[a:b])
    return at


def sorted_search(cum: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``np.searchsorted(cum, target, side="right")``, the targets searched in sorted order.

    numpy starts each search of a sorted list of targets where the last one ended, which
    reads ``cum`` in order instead of at random: two to three times faster for thousands of
    targets in a long ``cum``, sorting them included.
    """
    if target.size < 256:
        return np.searchsorted(cum, target, side="right")
    order = np.argsort(target)
    pos = np.empty(target.size, dtype=np.intp)
    pos[order] = np.searchsorted(cum, target[order], side="right")
    return pos


_EXECUTOR: tuple[int, ThreadPoolExecutor] | None = None


def in_background(fn: Callable[..., Any], *args: Any) -> Future:
    """Run ``fn(*args)`` on a helper thread; its result (or error) comes from ``.result()``.

    For work that reads only what it is given (a regrouping of keys computed before the
    call) while the step goes on: numpy releases the GIL in its loops, so the two overlap on
    a second core, and the result is the same as in line. One helper thread per process
    (a process forked from this one, such as a sweep's worker, makes its own).
    """
    global _EXECUTOR
    with _LOCK:
        if _EXECUTOR is None or _EXECUTOR[0] != os.getpid():
            _EXECUTOR = (
                os.getpid(),
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="flowsim-pools"),
            )
        return _EXECUTOR[1].submit(fn, *args)


class Regrouping:
    """Pools being regrouped on the helper thread (:meth:`Pools.regroup`, :func:`in_background`).

    Reads as the :class:`Pools` it will be (``sample``, ``counts``, ...): the first read
    waits for the thread. Pickles as the finished pools (the warm-start cache keeps a world
    between months).
    """

    def __init__(self, future: Future):
        self._future: Future | None = future
        self._pools: Pools | None = None

    @classmethod
    def start(
        cls, keys: np.ndarray, n_keys: int, previous: Regrouping | Pools | None = None
    ) -> Regrouping:
        """Regroup ``keys`` from ``previous`` (last month's pools) on the helper thread."""
        if isinstance(previous, Regrouping):
            previous = previous.done()
        return cls(in_background(Pools.regroup, keys, n_keys, previous))

    def done(self) -> Pools:
        """The pools, once the thread has grouped them (its error, if it failed)."""
        if self._pools is None:
            self._pools, self._future = self._future.result(), None
        return self._pools

    def __getattr__(self, name: str):
        if name.startswith("_"):  # unpickling looks these up before __dict__ is set
            raise AttributeError(name)
        return getattr(self.done(), name)

    def __getstate__(self) -> dict:
        return {"_future": None, "_pools": self.done()}


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
