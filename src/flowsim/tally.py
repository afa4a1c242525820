"""Where outputs happen: per-step tallies by city x field, and links between cities.

The mechanisms feed a :class:`CityTally` alongside the region-wide counters of
:mod:`flowsim.outputs`: every output in :data:`BY_CITY_COUNTERS` is added by the
city and field where it happens, so that summing the tally over cities and
fields gives the region-wide counter exactly (counts) or to rounding (money).
The one exception is ``papers``, counted the way bibliometrics counts them
(*whole counting*): a paper counts once in every city that has an author, so the
cities' papers add up to the region's papers plus its co-authored papers between
distinct cities (link kind ``coauthored_papers``).

Links are counts and volumes per (kind, origin city, destination city, field):
see :data:`LINK_KINDS` for what each kind means and what its volume measures.

The stocks recorded each step are read from the world here too: :func:`city_stocks`
(by city and field, :data:`BY_CITY_GAUGES`) and :func:`gauges` (region-wide,
:data:`flowsim.outputs.GAUGES`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.geography import CITIES, FIELDS, PLACES
from flowsim.knowledge import learned_outside

if TYPE_CHECKING:
    from flowsim.world import World

BY_CITY_COUNTERS: tuple[str, ...] = (
    # research: at the PI's city and the project's field
    "projects_started",
    "projects_cross_border",
    "projects_same_city_collaboration",
    "projects_repeat_collaboration",
    "collaborations_fallback_domestic",
    "projects_completed",
    "papers",  # whole counting: also at the collaborator's city when it differs
    "inventions",
    "invention_patents",
    "pct_applications",
    "data_requests",
    "data_refused",
    "data_substituted",
    "samples_requests",
    "samples_refused",
    "samples_substituted",
    # transfer: at the lab's city and field
    "licences",
    "licence_fees",
    "spinoffs",
    "inventions_abandoned",
    # firms and capital: at the firm's city and sector
    "startups",
    "firm_failures",
    "vc_deals",
    "vc_screened_out",
    "vc_volume",
    "guidance_coinvestment",
    "vc_written_off",
    # market: at the firm's city and sector
    "developments_started",
    "developments_funded",
    "developments_dropped",
    "commercialized",
    "commercialized_value",
    # relocation: at the city of the zone moved into and the agent's field
    "relocations_labs",
    "relocations_firms",
    "relocations_researchers",
)
"""Per-step counters reported by city and field (a subset of :data:`flowsim.outputs.COUNTERS`)."""

BY_CITY_GAUGES: tuple[str, ...] = (
    "researchers",
    "labs",
    "firms_alive",
    "startups_alive",
    "lab_invention_stock",
    "capital_held",
    "capital_invested",
    "knowledge_stock",
)
"""Stocks reported by city and field at the end of each step (investors' with field ``any``)."""

BY_CITY_OUTPUTS: tuple[str, ...] = BY_CITY_COUNTERS + BY_CITY_GAUGES
"""Every output of the by-city table, counters first."""

BY_CITY_FIELDS: tuple[str, ...] = (*FIELDS, "any")
"""Fields of the by-city table: the research fields, then ``any`` for agents with no field
(investors)."""

ANY_FIELD = len(FIELDS)
"""Field number of ``any``."""

LINK_KINDS: tuple[str, ...] = (
    "coauthored_papers",
    "collaborations",
    "licences",
    "vc_deals",
    "job_moves",
    "visits",
    "patent_filings",
)
"""Kinds of link between places (cities, and the external places CN and ROW).

- ``coauthored_papers``: each paper once per pair of distinct author cities; origin the
  lead author's (PI's) city, destination the collaborator's; volume = count.
- ``collaborations``: projects started with a collaborator; origin the PI's city,
  destination the collaborator's; volume = count.
- ``licences``: licensor (lab) city -> licensee (firm) city; volume = licence fees [RMB m].
- ``vc_deals``: lead investor's city -> funded firm's city, field = the firm's sector;
  volume = round size incl. co-investment [RMB m].
- ``job_moves``: job moves approved at the border (they complete after its delay);
  origin -> destination city, field = the researcher's; volume = count.
- ``visits``: visits approved at the border; volume = count.
- ``patent_filings``: invention patents also filed outside home: applicant's city -> ``CN``
  (at CNIPA, by Hong Kong and Macao applicants) or ``ROW`` (PCT applications and direct
  foreign filings); volume = count.
"""

_COUNTER_INDEX = {name: i for i, name in enumerate(BY_CITY_COUNTERS)}
_LINK_INDEX = {name: i for i, name in enumerate(LINK_KINDS)}


class CityTally:
    """This step's outputs by (output, city, field) and links by (kind, measure, o, d, field).

    Model units; :meth:`close_step` returns the step's arrays and resets them.
    """

    def __init__(self) -> None:
        n_c, n_f = len(CITIES), len(BY_CITY_FIELDS)
        self.values = np.zeros((len(BY_CITY_COUNTERS), n_c, n_f))
        # the researchers by (city, field), the largest stock: counted from last month's
        self.researchers = RowCounts(n_c * n_f)
        # links: measure 0 = count, 1 = volume; fields only (links are between agents with a field);
        # between places: the cities, then the external places CN and ROW
        n_p = len(PLACES)
        self.links = np.zeros((len(LINK_KINDS), 2, n_p, n_p, len(FIELDS)))

    def add(
        self,
        name: str,
        city: np.ndarray,
        field: np.ndarray | int,
        weights: np.ndarray | float | None = None,
    ) -> None:
        """Add ``weights`` (default 1 each) to output ``name`` at each (city, field)."""
        city = np.asarray(city, dtype=np.int64)
        if city.size == 0:
            return
        n_c, n_f = len(CITIES), len(BY_CITY_FIELDS)
        cell = city * n_f + np.broadcast_to(np.asarray(field, dtype=np.int64), city.shape)
        w = None if weights is None else np.broadcast_to(np.asarray(weights, float), city.shape)
        self.values[_COUNTER_INDEX[name]] += np.bincount(
            cell, weights=w, minlength=n_c * n_f
        ).reshape(n_c, n_f)

    def link(
        self,
        kind: str,
        origin: np.ndarray,
        destination: np.ndarray,
        field: np.ndarray,
        count: np.ndarray | float = 1.0,
        volume: np.ndarray | float | None = None,
    ) -> None:
        """Add links of ``kind``; ``volume`` defaults to ``count``."""
        origin = np.asarray(origin, dtype=np.int64)
        if origin.size == 0:
            return
        n_c, n_f = len(PLACES), len(FIELDS)
        cell = (origin * n_c + np.asarray(destination, dtype=np.int64)) * n_f + np.asarray(
            field, dtype=np.int64
        )
        k = _LINK_INDEX[kind]
        cnt = np.broadcast_to(np.asarray(count, dtype=np.float64), origin.shape)
        vol = cnt if volume is None else np.broadcast_to(np.asarray(volume, float), origin.shape)
        size = n_c * n_c * n_f
        self.links[k, 0] += np.bincount(cell, weights=cnt, minlength=size).reshape(n_c, n_c, n_f)
        self.links[k, 1] += np.bincount(cell, weights=vol, minlength=size).reshape(n_c, n_c, n_f)

    def close_step(self) -> tuple[np.ndarray, np.ndarray]:
        """This step's (values, links) arrays; then reset."""
        out = self.values.copy(), self.links.copy()
        self.values[:] = 0.0
        self.links[:] = 0.0
        return out


class RowCounts:
    """How many rows have each key, kept from one call to the next by the rows that changed.

    ``update(keys)`` returns the count of each key in ``[0, n_keys)`` (other keys, such as
    255 in unsigned 8-bit keys, are not counted): ``np.bincount`` of the keys, the same
    numbers, found by comparing the keys with those of the last call and counting only
    the rows whose key changed or that were added at the end. A full count when there is
    no last call, when the key type differs, or when there are fewer rows now.
    """

    def __init__(self, n_keys: int):
        self.n_keys = n_keys
        self.keys: np.ndarray | None = None
        self.counts = np.zeros(n_keys, dtype=np.int64)

    def update(self, keys: np.ndarray) -> np.ndarray:
        """The count of each key now (a new array); ``keys`` is kept: do not change it."""
        old = self.keys
        if old is None or old.dtype != keys.dtype or old.size > keys.size:
            counts = self._count(keys)
        else:
            changed = np.flatnonzero(keys[: old.size] != old)
            counts = (
                self.counts
                - self._count(old[changed])
                + self._count(keys[changed])
                + self._count(keys[old.size :])
            )
        self.keys, self.counts = keys, counts
        return counts.copy()

    def _count(self, keys: np.ndarray) -> np.ndarray:
        n = self.n_keys
        if keys.dtype == np.uint8:
            return np.bincount(keys, minlength=256)[:n]
        return np.bincount(keys[(keys >= 0) & (keys < n)].astype(np.intp), minlength=n)


def researcher_cells(world: World) -> np.ndarray:
    """Researchers by (city, field of :data:`BY_CITY_FIELDS`), less those away (model units)."""
    R = world.researchers
    n_c, n_f = len(CITIES), len(BY_CITY_FIELDS)
    byte = n_c * n_f < 255
    key = R.city.astype(np.uint8 if byte else np.int16)
    key *= n_f
    np.add(key, R.field, out=key, casting="unsafe")  # fields are non-negative
    key[world.away_rows] = 255 if byte else -1
    return world.tally.researchers.update(key).reshape(n_c, n_f)


def city_field_counts(
    city: np.ndarray, field: np.ndarray | int, weights: np.ndarray | None = None
) -> np.ndarray:
    """A stock by (city, field of :data:`BY_CITY_FIELDS`) (pure core)."""
    n_c, n_f = len(CITIES), len(BY_CITY_FIELDS)
    # the cells in 16-bit integers: a stock of every researcher is the largest array counted
    # each month, and bincount reads these as fast as 64-bit ones, at a quarter of the memory
    cell = np.asarray(city).astype(np.int16)
    cell *= n_f
    cell += np.asarray(field, dtype=np.int16)
    return np.bincount(cell, weights=weights, minlength=n_c * n_f).reshape(n_c, n_f)


def city_stocks(world: World) -> np.ndarray:
    """Stocks of :data:`flowsim.tally.BY_CITY_GAUGES` by (city, field), model units."""
    L, F, inv = world.labs, world.firms, world.investors
    alive = F.alive
    start = alive & (F.stage == 0)
    stocks = {
        "researchers": researcher_cells(world),
        "labs": city_field_counts(L.city, L.field),
        # counted with 0/1 weights rather than over the rows a mask selects: a scattered
        # mask is slow to gather, and sums of ones are exact
        "firms_alive": city_field_counts(F.city, F.sector, alive.astype(np.float64)),
        "startups_alive": city_field_counts(F.city, F.sector, start.astype(np.float64)),
        "lab_invention_stock": city_field_counts(L.city, L.field, L.inventions.astype(np.float64)),
        "capital_held": city_field_counts(inv.city, ANY_FIELD, inv.held),
        "capital_invested": city_field_counts(inv.city, ANY_FIELD, inv.invested),
        "knowledge_stock": np.concatenate(
            [world.knowledge.stock, np.zeros((len(CITIES), 1))], axis=1
        ),
    }
    return np.stack([stocks[name] for name in BY_CITY_GAUGES])


def gauges(world: World) -> dict[str, float]:
    """Stocks at the end of the step, real-world units."""
    F, inv = world.firms, world.investors
    s = world.scale
    K = world.knowledge
    out_city, out_jur, _, _ = learned_outside(K.weights, K.stock, world.geo.city_jurisdiction)
    return {
        "researchers": (world.researchers.n - world.away_rows.size) / s,
        "labs": world.labs.n / s,
        "firms_alive": F.alive.sum() / s,
        "startups_alive": (F.alive & (F.stage == 0)).sum() / s,
        "projects_active": world.projects.active.sum() / s,
        "developments_active": world.developments.active.sum() / s,
        "lab_invention_stock": world.labs.inventions.sum() / s,
        "capital_raised": inv.raised.sum() / s,
        "capital_held": inv.held.sum() / s,
        "capital_invested": inv.invested.sum() / s,
        "capital_written_off": inv.written_off.sum() / s,
        "capital_realised": inv.realised.sum() / s,
        "knowledge_stock": K.stock.sum() / s,
        "knowledge_productivity": float(
            (K.productivity() * K.stock).sum() / max(K.stock.sum(), 1e-12)
        ),
        "knowledge_outside_city_share": out_city,
        "knowledge_outside_jurisdiction_share": out_jur,
    }
