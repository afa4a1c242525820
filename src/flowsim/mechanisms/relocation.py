"""Relocation: labs and firms move into a cooperation zone whose rules give them better access.

A zone's rules (``policy.zones.<Zone>``) apply to agents located in the zone on the
corridors it covers. A lab or firm of the zone's city that is outside every zone
weighs what moving in would gain: its **access gain** is, for each element it uses
across the border, how much the zone's rules raise the expected border weight of
its crossings (:func:`flowsim.policy.border_weights`: approval x cost and delay
deterrence x residual border effect, 1 = no deterrence), averaged over the
cross-border destinations of its city weighted by their mass (researchers; fund
managers for capital), times its exposure to that element::

    gain[kind, zone, field] = sum_e exposure[kind, e, field]
        * sum_d mass_e[d] * (B_e[zone, city, d] - B_e[none, city, d]) / sum_d mass_e[d]

Exposure: talent 1 for labs and firms (both employ researchers who collaborate and
move across); capital 1 for firms (venture rounds), 0 for labs; data and samples
``need[field] x max(0, 1 - q_home / q_best_across)``: the field's probability of
needing the input (``research.data_need``, ``research.samples_need``) times the share
of quality the project loses when it makes do with its own jurisdiction's best
source (``data/input_quality.csv``). A negative gain (a zone with stricter rules)
counts as none.

Each month (reported months only: the initial zone populations are the data's, and
the zones fill from step 0) each eligible lab and firm relocates with probability
``relocation.rate x (1 - exp(-gain / relocation.gain_scale))`` into the zone of its
city with the largest gain. Zero gain, zero probability: a baseline without zone
rules relocates nothing and draws nothing. Each zone holds at most ``area_km2 x
density x scale`` (rounded down) labs, alive firms and researchers
(``relocation.lab_density``, ``firm_density``, ``researcher_density``). Candidates
are taken in random order while the zone has room for the agent and for its staff;
labs are placed before firms. A relocating lab or firm keeps its row and its city;
its zone changes, and so does the zone of its researchers (border control reads it)
and of researchers with a job move to it under way. Nothing is created or lost.

Researchers relocate only with their employer; a researcher's own job move already
picks a zone employer in proportion to its size (:func:`flowsim.employment.pick_employers`), so
zones that gain employers also gain hires. Those hires, start-ups founded in a zone
and spin-offs of zone labs are not held to the capacity: it bounds relocation, the
one flow into a zone this module adds.

``flowsim explain`` holds this channel (``relocation``) by computing the gain with
the baseline's border weights instead: a baseline without zone rules gives no gain.
The draws come from the stream ``relocation`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from flowsim.geography import CITIES, ELEMENTS, FIELDS, INPUT_ELEMENTS, ZONES
from flowsim.paramtypes import _Frozen, _nonneg, _positive, _share
from flowsim.state import Memory

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "relocation"
"""The scenario section this mechanism owns: ``relocation.*``, of class :data:`Params`."""


class RelocationParams(_Frozen):
    """Labs and firms moving into a cooperation zone whose rules give them better access."""

    rate: float = _share(
        0.004,
        "most relocations into a zone per lab or firm of the zone's city per month, reached "
        "when the access gain is large (assumption: about 5% a year, the order of the few per "
        "cent of firms that change location each year in firm-relocation studies, e.g. "
        "Pellenbarg, van Wissen & van Dijk 2002; most such moves stay within the metro area)",
    )
    gain_scale: float = _positive(
        0.25,
        "access gain at which the relocation probability reaches 63% of relocation.rate "
        "[border weight, 0-1 scale] (assumption: the Hetao package's talent rules alone, a gain "
        "of ~0.2, give 57% of the rate; its full package, ~0.5 for firms, 86%)",
    )
    lab_density: float = _nonneg(
        10.0,
        "labs a zone can hold per km2 of its area [labs / km2] (assumption: ~1.7x the model's "
        "initial Hetao density, 22 labs of 40 researchers in 3.89 km2)",
    )
    firm_density: float = _nonneg(
        200.0,
        "R&D firms a zone can hold per km2 of its area [firms / km2] (assumption: ~1.5x the "
        "model's initial Hetao density, 500 of Shenzhen's 25,000 R&D firms in 3.89 km2; about "
        "the 5,000 researchers per km2 of researcher_density at ~20 researchers per Shenzhen firm)",
    )
    researcher_density: float = _nonneg(
        5000.0,
        "researchers a zone can hold per km2 of its area [persons / km2] (assumption: built "
        "up at a floor-area ratio of 2.5 and 25 m2 per worker, a km2 holds ~100,000 workers; "
        "~5% of them researchers)",
    )


Params = RelocationParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``relocation`` section."""

STATE: dict = {}
"""Columns this mechanism owns: none; it moves agents by writing the core ``zone`` columns."""

MEMORY = (
    Memory(
        "relocation_tables",
        "the per-run tables of relocation.tables (access gains, best zones, probabilities, "
        "capacities), made on first use",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "relocations_labs",
    "relocations_firms",
    "relocations_researchers",
    *(f"relocations_{kind}_{zone}" for zone in ZONES for kind in ("labs", "firms", "researchers")),
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts."""

LAB, FIRM = 0, 1
KINDS = ("labs", "firms")
CHANNEL = "relocation"


@dataclass(frozen=True)
class Tables:
    """What a world's policy offers each kind of agent, computed once per run."""

    gain: np.ndarray  # (kinds, zones, fields): access gain of moving into the zone
    best_zone: np.ndarray  # (kinds, cities, fields): zone of the city with the largest gain, -1
    prob: np.ndarray  # (kinds, cities, fields): monthly relocation probability
    capacity: np.ndarray  # (3, zones): labs, firms, researchers a zone holds, model units
    active: bool  # some agent has a positive probability


def input_gap(world: World, element: str) -> np.ndarray:
    """Share of input quality a project of each (city, field) loses at home.

    Its own jurisdiction's best source of ``element`` against the best one across a
    border; shape (cities, fields).
    """
    q = world.geo.input_quality[INPUT_ELEMENTS.index(element)]  # (jurisdictions, fields)
    jur = world.geo.city_jurisdiction.astype(np.int64)
    across = np.stack([np.delete(q, j, axis=0).max(axis=0) for j in jur])
    return np.clip(1.0 - q[jur] / across, 0.0, None)


def exposure(world: World) -> np.ndarray:
    """Weight of each element in an agent's access gain, shape (kinds, elements, cities, fields).

    Talent 1 for labs and firms; capital 1 for firms, 0 for labs; data and samples the
    field's need times :func:`input_gap`.
    """
    n_c, n_f = len(CITIES), len(FIELDS)
    out = np.zeros((len(KINDS), len(ELEMENTS), n_c, n_f))
    out[:, ELEMENTS.index("talent")] = 1.0
    out[FIRM, ELEMENTS.index("capital")] = 1.0
    for element, need in (("data", world.data_need), ("samples", world.samples_need)):
        out[:, ELEMENTS.index(element)] = need[None, :] * input_gap(world, element)
    return out


def access_gain(world: World, border: dict[str, np.ndarray]) -> np.ndarray:
    """Access gain of moving into each zone, shape (kinds, zones, fields).

    ``border[element]`` is the expected border weight per (zone slot, origin, destination).
    """
    geo = world.geo
    mass = {
        "talent": geo.figures["researchers"],
        "capital": geo.figures["fund_managers"],
        "data": geo.figures["researchers"],
        "samples": geo.figures["researchers"],
    }
    weight = exposure(world)
    gain = np.zeros((len(KINDS), len(ZONES), len(FIELDS)))
    for z, c in enumerate(geo.zone_city.astype(np.int64)):
        m_across = geo.corridor[c] >= 0
        if not m_across.any():
            continue
        for e, element in enumerate(ELEMENTS):
            b = border[element]
            m = mass[element] * m_across
            delta = float((m * (b[z + 1, c] - b[0, c])).sum() / m.sum())
            gain[:, z] += weight[:, e, c] * delta
    return np.maximum(gain, 0.0)


def tables(world: World) -> Tables:
    """The relocation tables of a world (computed on first use, then kept on the world)."""
    if world.relocation_tables is not None:
        return world.relocation_tables
    p = world.params.relocation
    held = world.hold is not None and CHANNEL in world.hold.groups
    gain = access_gain(world, world.baseline_border if held else world.border)
    geo = world.geo
    n_c = len(CITIES)
    best_zone = np.full((len(KINDS), n_c, len(FIELDS)), -1, dtype=np.int64)
    best_gain = np.zeros((len(KINDS), n_c, len(FIELDS)))
    for z, c in enumerate(geo.zone_city.astype(np.int64)):
        better = gain[:, z] > best_gain[:, c]
        best_zone[:, c][better] = z
        best_gain[:, c] = np.where(better, gain[:, z], best_gain[:, c])
    prob = p.rate * (1.0 - np.exp(-best_gain / p.gain_scale))
    density = np.array([p.lab_density, p.firm_density, p.researcher_density])
    capacity = np.floor(density[:, None] * geo.zone_area_km2[None, :] * world.scale + 1e-9)
    t = Tables(gain, best_zone, prob, capacity.astype(np.int64), bool((prob > 0).any()))
    world.relocation_tables = t
    return t


def occupancy(world: World) -> np.ndarray:
    """Labs, alive firms and researchers in each zone, shape (3, zones).

    Researchers are counted from their employers' staff: a researcher is in its
    employer's zone (``tests/test_relocation.py`` checks it), and summing ~10^5 staff
    counts is cheaper than reading ~10^6 researcher rows each month.
    """
    n_z = len(ZONES)
    L, F = world.labs, world.firms
    lab_slot = L.zone.astype(np.int64) + 1
    firm_slot = F.zone.astype(np.int64) + 1
    staff = np.bincount(lab_slot, weights=L.staff, minlength=n_z + 1) + np.bincount(
        firm_slot, weights=F.staff, minlength=n_z + 1
    )
    return np.stack(
        [
            np.bincount(lab_slot, minlength=n_z + 1)[1:],
            np.bincount(firm_slot[F.alive], minlength=n_z + 1)[1:],
            np.rint(staff[1:]),
        ]
    ).astype(np.int64)


def init(world: World) -> None:
    """No tables yet: :func:`tables` makes them on first use (no relocation in the warm-up)."""
    world.relocation_tables = None


def step(world: World, t: int, warmup: bool = False) -> None:
    """Labs, then firms, relocate into zones up to each zone's capacity.

    Nothing relocates in a ``warmup`` month (the model says which).
    """
    if warmup:
        return
    tab = tables(world)
    if not tab.active:
        return
    rng = world.rngs["relocation"]
    room = tab.capacity - occupancy(world)
    moved = []
    for kind, pop, field in (
        (LAB, world.labs, world.labs.field),
        (FIRM, world.firms, world.firms.sector),
    ):
        eligible = pop.zone < 0
        if kind == FIRM:
            eligible &= pop.alive
        prob = tab.prob[kind][pop.city, field]
        u = rng.random(pop.n)
        rows = np.flatnonzero(eligible & (u < prob))
        target = tab.best_zone[kind][pop.city[rows], field[rows]]
        accepted = np.zeros(pop.n, dtype=bool)
        for z in range(len(ZONES)):
            cand = rows[target == z]
            if cand.size == 0:
                continue
            cand = cand[rng.permutation(cand.size)]
            staff = pop.staff[cand].astype(np.int64)
            cand, staff = cand[staff <= room[2, z]], staff[staff <= room[2, z]]
            fits = (np.arange(1, cand.size + 1) <= room[kind, z]) & (np.cumsum(staff) <= room[2, z])
            go = np.sort(cand[fits])
            if go.size == 0:
                continue
            pop.zone[go] = z
            accepted[go] = True
            room[kind, z] -= go.size
            room[2, z] -= int(staff[fits].sum())
            world.count(f"relocations_{KINDS[kind]}_{ZONES[z]}", go.size)
        go = np.flatnonzero(accepted)
        world.count_by(f"relocations_{KINDS[kind]}", pop.city[go], field[go])
        moved.append(accepted)
    if not (moved[LAB].any() or moved[FIRM].any()):
        return
    _staff_follow(world, moved[LAB], moved[FIRM])


def _staff_follow(world: World, lab_moved: np.ndarray, firm_moved: np.ndarray) -> None:
    """Researchers of the relocated employers (and those on their way to one) take its zone."""
    R, L, F = world.researchers, world.labs, world.firms
    # employer (kind, row) -> moved, as one lookup: labs first, then firms
    moved = np.concatenate([lab_moved, firm_moved])
    zone_of = np.concatenate([L.zone, F.zone])
    offset = L.n
    key = R.employer_kind.astype(np.int32)
    key *= offset
    key += R.employer
    moving = np.take(moved, key)
    moving[world.away_rows] = False  # left the region: no employer here any more
    rows = np.flatnonzero(moving)
    zone = zone_of[key[rows]]
    R.zone[rows] = zone
    world.count_by("relocations_researchers", R.city[rows], R.field[rows])
    for z in range(len(ZONES)):
        world.count(f"relocations_researchers_{ZONES[z]}", int((zone == z).sum()))
    pending = world.pending_moves
    if pending.size:
        dkey = (
            R.dest_employer[pending].astype(np.int64)
            + np.int64(offset) * R.dest_employer_kind[pending]
        )
        follow = moved[dkey]
        R.dest_zone[pending[follow]] = zone_of[dkey[follow]]
