"""The per-agent table: every firm and lab with its name (if named) and its own outputs.

``flowsim run FILE --agents`` writes it as ``agents.parquet``; Mesa users get it from
:meth:`flowsim.model.FlowModel.agent_table`. One row per firm (alive or not, start-ups
founded during the run included) and per lab, with the columns of :data:`AGENT_COLUMNS`.
Outputs count the reported months only (not the warm-up) and are the agent's own, in
model units: a column's sum divided by the scale is the run's real-world total (e.g.
``pct_applications`` over firms and labs, divided by the scale, is the run's
``pct_applications`` summed over its months).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from flowsim.anchors import load_anchors
from flowsim.geography import CITIES, FIELDS, JURISDICTIONS

if TYPE_CHECKING:
    from flowsim.world import World

AGENT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("kind", "`firm` or `lab`"),
    ("id", "row of the agent in its table (firms and labs are numbered apart)"),
    ("anchor", "row of the named anchor in `data/anchors.csv`, -1 for a synthetic agent"),
    ("name", "the anchor's name; empty (null) for a synthetic agent"),
    ("city", "city where the agent is at the end of the run"),
    ("jurisdiction", "GD, HK or MO"),
    ("field", "research field of a lab, sector of a firm"),
    ("founded_month", "firms: reported month of founding (negative: before the run); labs: null"),
    ("closed_month", "firms: reported month the firm failed; null while alive and for labs"),
    ("alive", "the firm is alive at the end of the run (labs: true)"),
    ("staff", "researchers employed at the end of the run [model units]"),
    ("patents", "invention patents filed in the reported months [model units]"),
    ("pct_applications", "PCT applications filed in the reported months [model units]"),
    ("papers", "papers of its projects in the reported months, counted once [model units]"),
    ("vc_raised", "VC raised in the reported months (firms; labs 0) [RMB m, model units]"),
)
"""Columns of the per-agent table (``agents.parquet`` adds ``replicate`` and ``seed`` first)."""

COUNTED: dict[str, tuple[str, ...]] = {
    "firms": ("patents", "pct_applications", "papers", "vc_raised"),
    "labs": ("patents", "pct_applications", "papers"),
}
"""Per-agent counters, by table, that the table reports since the start of the run."""


def snapshot(world: World) -> dict[tuple[str, str], np.ndarray]:
    """The per-agent counters now (at the end of the warm-up): the table counts from here."""
    return {
        (table, name): getattr(getattr(world, table), name).copy()
        for table, names in COUNTED.items()
        for name in names
    }


def _since(world: World, table: str, name: str, start: dict) -> np.ndarray:
    now = getattr(getattr(world, table), name).astype(np.float64)
    before = start.get((table, name)) if start else None
    if before is not None:
        now[: before.size] -= before
    return now


def agent_table(
    world: World, warmup_steps: int, start: dict[tuple[str, str], np.ndarray] | None = None
) -> pd.DataFrame:
    """One row per firm and lab (:data:`AGENT_COLUMNS`).

    Args:
        world: the world at the end of (or during) the run.
        warmup_steps: months of warm-up, so that months are counted from the run's start.
        start: :func:`snapshot` at the end of the warm-up; None counts from month 0.
    """
    names = np.array(load_anchors().names + ("",), dtype=object)
    jur = np.asarray(JURISDICTIONS, dtype=object)
    city_jur = world.geo.city_jurisdiction
    frames = []
    for table, kind, field_column in (("firms", "firm", "sector"), ("labs", "lab", "field")):
        pop = getattr(world, table)
        n = pop.n
        city = pop.city.astype(np.int64)
        anchor = pop.anchor.astype(np.int64)
        name = names[np.where(anchor >= 0, anchor, -1)]
        name[anchor < 0] = None
        firm = table == "firms"
        founded = pd.array(
            pop.born_step.astype(np.int64) - warmup_steps if firm else [None] * n, dtype="Int32"
        )
        closed = pd.array(
            np.where(pop.closed_step >= 0, pop.closed_step.astype(np.int64) - warmup_steps, 0)
            if firm
            else np.zeros(n, dtype=np.int64),
            dtype="Int32",
        )
        closed[~(pop.closed_step >= 0) if firm else np.ones(n, dtype=bool)] = pd.NA
        frame = pd.DataFrame(
            {
                "kind": np.full(n, kind, dtype=object),
                "id": np.arange(n, dtype=np.int32),
                "anchor": anchor.astype(np.int16),
                "name": name,
                "city": np.asarray(CITIES, dtype=object)[city],
                "jurisdiction": jur[city_jur[city]],
                "field": np.asarray(FIELDS, dtype=object)[getattr(pop, field_column)],
                "founded_month": founded,
                "closed_month": closed,
                "alive": pop.alive.copy() if firm else np.ones(n, dtype=bool),
                "staff": pop.staff.astype(np.int32),
                "patents": _since(world, table, "patents", start).astype(np.int32),
                "pct_applications": _since(world, table, "pct_applications", start).astype(
                    np.int32
                ),
                "papers": _since(world, table, "papers", start).astype(np.int32),
                "vc_raised": _since(world, table, "vc_raised", start)
                if firm
                else np.zeros(n, dtype=np.float64),
            }
        )
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    assert tuple(out.columns) == tuple(c for c, _ in AGENT_COLUMNS)
    return out
