"""Named white lists of labs and firms, and the categories of what projects ask for.

A rule of ``policy.rules`` may select the flows of agents on a named list
(``policy.whitelists``): members are drawn when the policy is compiled
(:meth:`flowsim.world.World.set_policy`), as one bit per list on each lab and firm
(``world.lab_lists``, ``world.firm_lists``); a researcher belongs through its employer.
A share-based list draws from a stream of its own (``whitelist:<name>``), so no
mechanism's draws move. Firms founded later are on no list (real lists name
institutions). Each data request has a category and each sample shipment a kind, drawn
by field from ``data/input_kinds.csv`` (assumed shares, one line each).
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from flowsim.geography import CITIES, FIELDS
from flowsim.paramtypes import DATA_CATEGORIES, SAMPLE_KINDS
from flowsim.streams import stream

if TYPE_CHECKING:
    from flowsim.paramtypes import Whitelist
    from flowsim.world import World

KINDS: dict[str, tuple[str, ...]] = {"data": DATA_CATEGORIES, "samples": SAMPLE_KINDS}
"""What a request of each input element is: data categories, sample kinds."""


def _names(value) -> list[str] | None:
    if value is None:
        return None
    return list(value) if isinstance(value, (list, tuple)) else [value]


def list_members(
    world: World, lists: dict[str, Whitelist], names: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Bit masks of the lists each lab and each firm is on (bit i: ``names[i]``)."""
    L, F = world.labs, world.firms
    lab_bits = np.zeros(L.n, dtype=np.int64)
    firm_bits = np.zeros(F.n, dtype=np.int64)
    for bit, name in enumerate(names):
        wl = lists[name]
        lab = wl.employer == "lab"
        table, bits = (L, lab_bits) if lab else (F, firm_bits)
        field = table.field if lab else table.sector
        eligible = np.ones(table.n, dtype=bool) if lab else F.alive[: F.n].copy()
        cities = _names(wl.cities)
        if cities is not None:
            eligible &= np.isin(table.city, [CITIES.index(c) for c in cities])
        fields = _names(wl.fields)
        if fields is not None:
            eligible &= np.isin(field, [FIELDS.index(f) for f in fields])
        if wl.top is not None:
            size = table.budget if lab else table.staff.astype(np.float64)
            rows = np.flatnonzero(eligible)
            n = max(1, int(round(wl.top * world.scale)))
            rows = rows[np.argsort(-size[rows], kind="stable")[:n]]
        else:
            u = stream(world.seed, f"whitelist:{name}").random(table.n)
            rows = np.flatnonzero(eligible & (u < wl.share))
        bits[rows] |= np.int64(1) << np.int64(bit)
    return lab_bits, firm_bits


def agent_lists(
    world: World, employer_kind: np.ndarray, employer: np.ndarray | None
) -> np.ndarray | None:
    """The list bits of agents who work for (or are) ``employer`` of ``employer_kind``.

    None when no list is defined (then no rule selects on lists).
    """
    if getattr(world, "lab_lists", None) is None or employer is None:
        return None
    kind = np.asarray(employer_kind, dtype=np.int64)
    row = np.asarray(employer, dtype=np.int64)
    out = np.zeros(row.size, dtype=np.int64)
    for k, bits in enumerate((world.lab_lists, world.firm_lists)):
        here = (kind == k) & (row >= 0) & (row < bits.size)
        out[here] = bits[row[here]]
    return out


@cache
def kind_shares(element: str) -> np.ndarray:
    """Share of each category (data) or kind (samples) by field, shape (fields, kinds)."""
    text = resources.files("flowsim.data").joinpath("input_kinds.csv").read_text("utf-8")
    names = KINDS[element]
    shares = np.full((len(FIELDS), len(names)), np.nan)
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        if row["element"] != element:
            continue
        share = float(row["share"])
        if share < 0:
            raise ValueError(f"input_kinds.csv line {line}: a share must be >= 0")
        shares[FIELDS.index(row["field"]), names.index(row["kind"])] = share
    if np.isnan(shares).any() or (shares.sum(axis=1) <= 0).any():
        raise ValueError(f"input_kinds.csv does not cover every {element} field x kind")
    shares = shares / shares.sum(axis=1, keepdims=True)
    shares.flags.writeable = False
    return shares


def draw_kinds(element: str, field: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The category (data) or kind (samples) of each request, by its field (one draw each)."""
    cum = np.cumsum(kind_shares(element), axis=1)[np.asarray(field, dtype=np.int64)]
    u = rng.random(cum.shape[0])
    return np.minimum((u[:, None] >= cum).sum(axis=1), cum.shape[1] - 1).astype(np.int64)
