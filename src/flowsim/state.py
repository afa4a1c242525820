"""Declared state: the columns of each agent table, and who owns each one.

A table's columns are assembled from the *core* columns below (where an agent is
and who employs it: owned by the population, drawn by :mod:`flowsim.setup`) and
from the ``STATE`` that each mechanism module declares for the tables it acts on,
e.g. ``STATE = {"researchers": (Column("tie_city", ...), ...)}``. The order is
fixed: the core columns, then each owner's in the order the owners are given
(:mod:`flowsim.assembly` gives the mechanisms in step order). A column declared
twice in one table, or a table that does not exist, is an error at assembly.

Every column is a numpy array of :class:`flowsim.populations.Population`; a new
row takes the column's default.

Besides its columns, a mechanism module declares its *memory*: the tables it
derives from the scenario once (e.g. talent's job-move amenity) and what it
remembers from month to month (e.g. capital's recent investment), as
``MEMORY = (Memory("pending_moves", ...), ...)``, and initialises them in its
``init(world)``, called once the initial agents are drawn (:func:`initialise`).
An ``init`` that sets an attribute it did not declare, or leaves one it declared
unset, is an error; so is a name declared twice (:func:`assemble_memory`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TABLES: tuple[str, ...] = (
    "researchers",
    "labs",
    "firms",
    "investors",
    "deals",
    "projects",
    "developments",
)
"""Agent types, then event tables (rows of an event table may be dropped)."""

CORE_OWNER = "flowsim.state"
"""Owner name of the core columns."""


class StateError(ValueError):
    """Declared state that cannot be assembled: a column declared twice, or an unknown table."""


@dataclass(frozen=True)
class Column:
    """One declared column: its name, dtype, fill value for new rows, and meaning."""

    name: str
    dtype: type
    default: float | int | bool
    doc: str


@dataclass(frozen=True)
class Memory:
    """One declared attribute of the world that a mechanism initialises and keeps."""

    name: str
    doc: str


CORE: dict[str, tuple[Column, ...]] = {
    "researchers": (
        Column("city", np.int8, 0, "city number where the researcher works"),
        Column("zone", np.int8, -1, "cooperation zone number, -1 outside every zone"),
        Column("field", np.int8, 0, "research field number (params.FIELDS)"),
        Column("employer_kind", np.int8, 0, "0 = lab, 1 = firm"),
        Column("employer", np.int32, 0, "row of the employing lab or firm"),
    ),
    "labs": (
        Column("city", np.int8, 0, "city number"),
        Column("zone", np.int8, -1, "cooperation zone number, -1 none"),
        Column("field", np.int8, 0, "main research field"),
        Column("budget", np.float32, 0.0, "yearly research budget [RMB m]"),
        Column("staff", np.int32, 0, "researchers employed (kept up to date by talent moves)"),
        Column(
            "anchor",
            np.int16,
            -1,
            "row of the named anchor in data/anchors.csv (flowsim.anchors), -1 synthetic",
        ),
    ),
    "firms": (
        Column("city", np.int8, 0, "city number"),
        Column("zone", np.int8, -1, "cooperation zone number, -1 none"),
        Column("sector", np.int8, 0, "sector, numbered as research fields"),
        Column("staff", np.int32, 0, "researchers employed"),
        Column(
            "anchor",
            np.int16,
            -1,
            "row of the named anchor in data/anchors.csv (flowsim.anchors), -1 synthetic",
        ),
    ),
    "investors": (
        Column("city", np.int8, 0, "city number"),
        Column("zone", np.int8, -1, "cooperation zone number, -1 none"),
    ),
}
"""Columns owned by the population itself: location, field or sector, employment."""


def assemble(
    core: Mapping[str, Sequence[Column]],
    owners: Iterable[tuple[str, Mapping[str, Sequence[Column]]]],
) -> tuple[dict[str, tuple[Column, ...]], dict[str, dict[str, str]]]:
    """Columns of every table, and the owner of every column.

    Args:
        core: the core columns by table (:data:`CORE`), owned by :data:`CORE_OWNER`.
        owners: (owner name, its ``STATE``) pairs, in the order their columns go.

    Returns:
        (columns by table, {table: {column name: owner name}}), tables in
        :data:`TABLES` order.

    Raises:
        StateError: a column is declared twice in a table, or a table is unknown.
    """
    columns: dict[str, list[Column]] = {table: [] for table in TABLES}
    owner: dict[str, dict[str, str]] = {table: {} for table in TABLES}
    for name, state in [(CORE_OWNER, core), *owners]:
        for table, declared in state.items():
            if table not in columns:
                raise StateError(
                    f"{name} declares columns of {table!r}, which is not a table "
                    f"(tables: {', '.join(TABLES)})"
                )
            for column in declared:
                if column.name in owner[table]:
                    raise StateError(
                        f"column {table}.{column.name} is declared by both "
                        f"{owner[table][column.name]} and {name}"
                    )
                owner[table][column.name] = name
                columns[table].append(column)
    return {table: tuple(cols) for table, cols in columns.items()}, owner


def assemble_memory(owners: Iterable[tuple[str, Sequence[Memory]]]) -> dict[str, str]:
    """The owner of every declared memory.

    A name the world itself already holds cannot be declared: :func:`initialise` would
    find it not set by its ``init``.

    Args:
        owners: (owner name, its ``MEMORY``) pairs.

    Returns:
        {memory name: owner name}, in declaration order.

    Raises:
        StateError: a name is declared twice.
    """
    owner: dict[str, str] = {}
    for name, memory in owners:
        for item in memory:
            if item.name in owner:
                raise StateError(f"{item.name!r} is declared by both {owner[item.name]} and {name}")
            owner[item.name] = name
    return owner


def initialise(
    world: object, owners: Iterable[tuple[str, Sequence[Memory], Callable[[object], None]]]
) -> None:
    """Call each owner's ``init(world)`` in turn; each must set exactly its declared memory.

    Raises:
        StateError: an ``init`` set a name it did not declare, or left a declared one unset.
    """
    for name, memory, init in owners:
        before = set(vars(world))
        init(world)
        made = set(vars(world)) - before
        declared = {item.name for item in memory}
        if made != declared:
            extra, missing = sorted(made - declared), sorted(declared - made)
            raise StateError(
                f"{name}.init set {extra or 'nothing undeclared'} and left "
                f"{missing or 'nothing declared'} unset: it must set exactly its MEMORY"
            )
