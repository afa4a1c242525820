"""Agents as rows of numpy arrays.

A :class:`Population` is a set of named columns, each a numpy array; agent ``i``
is row ``i`` of every column. Each column is declared once, with its dtype and
meaning, by the module that owns it (:mod:`flowsim.state`: the core columns and
the declaration type :class:`~flowsim.state.Column`; each mechanism's ``STATE``),
and the tables are assembled in :mod:`flowsim.assembly`. Rows are appended
(start-ups are born); a dead firm keeps its row with ``alive = False``. The one
exception is a researcher who has left the region for CN or ROW: its row is
re-initialised (:meth:`Population.reset`) for the next researcher who arrives
(:func:`flowsim.mechanisms.talent.exchange`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowsim.state import Column

__all__ = ["Column", "Population", "compact"]


class Population:
    """Columnar store of one agent type.

    ``pop.city`` is a view of the live rows of column ``city``; writing into it
    (``pop.city[idx] = 3``) updates the population in place. Capacity grows by
    doubling when rows are appended, so appending is amortised O(1) per row.
    Rows beyond the live ones are allocated but never written until appended, so
    the operating system only commits their memory as the population grows.
    """

    def __init__(self, kind: str, columns: Sequence[Column], n: int, capacity: int | None = None):
        self.kind = kind
        self.columns = {c.name: c for c in columns}
        self.n = int(n)
        capacity = max(int(capacity or 0), self.n, 1)
        self._data = {}
        for c in columns:
            self._data[c.name] = np.empty(capacity, dtype=c.dtype)
            self._data[c.name][: self.n] = c.default

    def __getattr__(self, name: str) -> np.ndarray:
        data = self.__dict__.get("_data")
        if data is None or name not in data:
            raise AttributeError(
                f"{self.__dict__.get('kind', 'population')} has no column {name!r}"
            )
        return data[name][: self.n]

    def __len__(self) -> int:
        return self.n

    @property
    def capacity(self) -> int:
        """Rows allocated, live or not."""
        return len(next(iter(self._data.values())))

    def add(self, count: int, **values: np.ndarray | float | int) -> np.ndarray:
        """Append ``count`` rows (missing columns take their default); returns the new row ids."""
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.kind} has no columns {sorted(unknown)}")
        count = int(count)
        new_n = self.n + count
        if new_n > self.capacity:
            new_cap = max(new_n, 2 * self.capacity)
            for name, arr in self._data.items():
                grown = np.empty(new_cap, dtype=arr.dtype)
                grown[: self.n] = arr[: self.n]
                self._data[name] = grown
        ids = np.arange(self.n, new_n)
        for name, column in self.columns.items():
            self._data[name][self.n : new_n] = values.get(name, column.default)
        self.n = new_n
        return ids

    def reset(self, rows: np.ndarray, **values: np.ndarray | float | int) -> None:
        """Re-initialise ``rows``: every column takes its default unless given in ``values``."""
        unknown = set(values) - set(self.columns)
        if unknown:
            raise KeyError(f"{self.kind} has no columns {sorted(unknown)}")
        rows = np.asarray(rows, dtype=np.int64)
        for name, column in self.columns.items():
            self._data[name][rows] = values.get(name, column.default)

    def nbytes(self) -> int:
        """Bytes held by all columns (allocated capacity)."""
        return sum(a.nbytes for a in self._data.values())


def add_counts(column: np.ndarray, rows: np.ndarray, counts: np.ndarray | int = 1) -> None:
    """``np.add.at(column, rows, counts)`` for an integer column: the same numbers (pure core).

    From a few hundred rows on, one ``np.bincount`` over the column's length is several times
    faster than ``np.add.at``; integer counts add exactly either way (their sums are far below
    2**53, where a float64 bincount would round).
    """
    if column.dtype.kind not in "iu":
        raise TypeError(f"add_counts adds to integer columns, not {column.dtype}")
    rows = np.asarray(rows)
    if rows.size < 512:
        np.add.at(column, rows, counts)
        return
    weights = None
    if not (np.isscalar(counts) and counts == 1):
        weights = np.broadcast_to(np.asarray(counts, dtype=np.float64), rows.shape)
    column += np.bincount(rows, weights=weights, minlength=column.size).astype(column.dtype)


def compact(pop: Population, keep: np.ndarray) -> None:
    """Drop the rows of an event table (projects, developments) where ``keep`` is False.

    Only for event tables whose rows are never referenced by id from elsewhere;
    agent populations are never compacted.
    """
    keep = np.asarray(keep, dtype=bool)
    k = int(keep.sum())
    for arr in pop._data.values():
        arr[:k] = arr[: pop.n][keep]
    pop.n = k
