"""Agents as rows of numpy arrays.

A :class:`Population` is a set of named columns, each a numpy array; agent ``i``
is row ``i`` of every column. The columns of each agent type are declared once,
here, with their dtype and meaning, so reading this file tells you the state of
every agent. Rows are appended (start-ups are born) but never reused: a dead
firm keeps its row with ``alive = False``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Column:
    """One declared column: its name, dtype, fill value for new rows, and meaning."""

    name: str
    dtype: type
    default: float | int | bool
    doc: str


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

    def nbytes(self) -> int:
        """Bytes held by all columns (allocated capacity)."""
        return sum(a.nbytes for a in self._data.values())


RESEARCHER_COLUMNS = (
    Column("city", np.int8, 0, "city number where the researcher works"),
    Column("zone", np.int8, -1, "cooperation zone number, -1 outside every zone"),
    Column("field", np.int8, 0, "research field number (params.FIELDS)"),
    Column("skill", np.float32, 1.0, "productivity multiplier, lognormal with mean 1"),
    Column("partner", np.int32, -1, "researcher row of the last collaboration partner, -1 none"),
    Column("employer_kind", np.int8, 0, "0 = lab, 1 = firm"),
    Column("employer", np.int32, 0, "row of the employing lab or firm"),
    Column("tie_city", np.int8, -1, "city of the last visit, -1 none"),
    Column("tie_until", np.int16, -1, "step until which the visit tie is active"),
    Column("arrive_step", np.int16, -1, "step a pending job move completes, -1 none"),
    Column("dest_city", np.int8, -1, "city of a pending job move"),
    Column("dest_zone", np.int8, -1, "zone of a pending job move"),
    Column("dest_employer_kind", np.int8, 0, "employer kind of a pending job move"),
    Column("dest_employer", np.int32, -1, "employer of a pending job move"),
)

LAB_COLUMNS = (
    Column("city", np.int8, 0, "city number"),
    Column("zone", np.int8, -1, "cooperation zone number, -1 none"),
    Column("field", np.int8, 0, "main research field"),
    Column("budget", np.float32, 0.0, "yearly research budget [RMB m]"),
    Column("staff", np.int32, 0, "researchers employed (kept up to date by talent moves)"),
    Column("inventions", np.int32, 0, "inventions not yet licensed, spun off or abandoned"),
    Column("ownership", np.bool_, False, "researchers own their results (negative-list reform)"),
)

FIRM_COLUMNS = (
    Column("city", np.int8, 0, "city number"),
    Column("zone", np.int8, -1, "cooperation zone number, -1 none"),
    Column("sector", np.int8, 0, "sector, numbered as research fields"),
    Column("stage", np.int8, 0, "0 start-up, 1 growth"),
    Column("alive", np.bool_, True, "False once the firm has failed"),
    Column("staff", np.int32, 0, "researchers employed"),
    Column("cash", np.float64, 0.0, "cash available for development [RMB m]"),
    Column("rounds", np.int16, 0, "VC rounds raised"),
    Column("vc_raised", np.float64, 0.0, "VC raised in total [RMB m]"),
    Column("born_step", np.int16, 0, "month of founding (negative: before the run)"),
    Column("pct_propensity", np.float32, 1.0, "multiplier of the PCT filing probability"),
    Column("patents", np.int32, 0, "invention patents filed (a screening signal)"),
    Column("products", np.int32, 0, "products brought to market"),
    Column(
        "signal",
        np.float32,
        0.0,
        "recent invention patents + products, decaying over capital.signal_months "
        "(what investors screen on)",
    ),
)

INVESTOR_COLUMNS = (
    Column("city", np.int8, 0, "city number"),
    Column("zone", np.int8, -1, "cooperation zone number, -1 none"),
    Column("investor_type", np.int8, 0, "0 VC fund, 1 government guidance fund"),
    Column("raised", np.float64, 0.0, "capital raised or mobilised in total [RMB m]"),
    Column("held", np.float64, 0.0, "dry powder: raised, not yet invested [RMB m]"),
    Column("invested", np.float64, 0.0, "invested at cost, not written off [RMB m]"),
    Column("written_off", np.float64, 0.0, "investments written off when firms failed [RMB m]"),
    Column("realised", np.float64, 0.0, "investments realised at cost by exits [RMB m]"),
    Column("deals", np.int32, 0, "deals made"),
)

DEAL_COLUMNS = (
    Column("firm", np.int32, 0, "firm funded"),
    Column("investor", np.int32, 0, "lead investor"),
    Column("amount", np.float64, 0.0, "amount invested by the investor and co-investors [RMB m]"),
    Column("step", np.int16, 0, "step of the deal"),
    Column("at_cost", np.float64, 0.0, "amount still invested at cost, after exits [RMB m]"),
    Column("written_off", np.bool_, False, "the firm failed and the deal was written off"),
)

PROJECT_COLUMNS = (
    Column("active", np.bool_, True, "the project is running"),
    Column("employer_kind", np.int8, 0, "0 lab project, 1 firm project"),
    Column("employer", np.int32, 0, "lab or firm running the project"),
    Column("pi", np.int32, 0, "principal investigator (researcher row)"),
    Column("collaborator", np.int32, -1, "external collaborator (researcher row), -1 none"),
    Column("collab_city", np.int8, -1, "collaborator's city at the start, -1 none"),
    Column("city", np.int8, 0, "city of the PI"),
    Column("field", np.int8, 0, "research field"),
    Column("cross_border", np.bool_, False, "the team spans two jurisdictions"),
    Column("quality", np.float32, 1.0, "output multiplier (skill, partner, inputs, knowledge)"),
    Column("end_step", np.int16, 0, "step the work is done, before waiting for data or samples"),
    Column("data_ready", np.int16, -1, "step the data arrives, -1 not needed"),
    Column("samples_ready", np.int16, -1, "step the samples clear customs, -1 not needed"),
)

DEVELOPMENT_COLUMNS = (
    Column("active", np.bool_, True, "the development project is running or waiting"),
    Column("firm", np.int32, 0, "firm developing the product"),
    Column("cost", np.float64, 0.0, "development cost [RMB m]"),
    Column("funded", np.bool_, False, "the cost has been paid"),
    Column("created_step", np.int16, 0, "step the project was created"),
    Column("end_step", np.int16, -1, "step development ends, -1 until funded"),
)


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
