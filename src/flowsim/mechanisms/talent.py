"""Talent: job moves and visits of researchers between cities, through border control.

A job move changes a researcher's city and employer after the border delay; a
visit leaves the researcher in place but creates a tie to the visited city that
makes a collaboration there likelier for ``talent.visit_tie_months``.
Destinations follow a gravity model (:mod:`flowsim.gravity`): the pull of a city
decays with travel time and is multiplied by the border weight of the talent
friction (:func:`flowsim.policy.border_weights`). For visits the pull is the
city's share of the region's researchers. For job moves it is the city's amenity
in the mover's field (balanced once, under the baseline friction, so that the
baseline keeps every city's share) times its research productivity in that field
relative to the start, to ``talent.opportunity_elasticity``: researchers move
toward opportunity, and a policy that lowers friction or raises a city's
knowledge changes where talent ends up. The new employer works in the mover's
field where the city has one, firms in proportion to their size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from flowsim.employment import add_staff, pick_employers, remove_staff
from flowsim.geography import CITIES
from flowsim.gravity import balanced_mass, choose_destinations, gravity
from flowsim.paramtypes import Policy, _Frozen, _nonneg, _positive, _share
from flowsim.policy import FlowKeys, border_weights, compile_policy, cross_border
from flowsim.pools import choose_rows
from flowsim.state import Column, Memory
from flowsim.streams import bernoulli_rows
from flowsim.whitelists import agent_lists

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "talent"
"""The scenario section this mechanism owns: ``talent.*``, of class :data:`Params`."""


class TalentParams(_Frozen):
    """Job moves, visits and the gravity model of where researchers go."""

    move_rate: float = _share(
        0.01171,
        "job moves per researcher per month ("
        "calibrated on model v2, scenarios/calibration/targets.yaml; "
        "hand value 0.01, assumption: ~12%/year)",
    )
    visit_rate: float = _share(0.03, "visits to another city per researcher per month (assumption)")
    distance_decay_minutes: float = Field(
        66.98,
        ge=1.0,
        le=100_000.0,
        description="travel time at which a city's pull falls by e [min] (calibrated on model "
        "v2, scenarios/calibration/targets.yaml; hand value 45, assumption; at least "
        "1 minute, below which every city's pull underflows to zero)",
    )
    opportunity_elasticity: float = _nonneg(
        2.0,
        "elasticity of a destination's pull for job moves to its research productivity relative "
        "to the start (assumption: researchers move toward better opportunity; 0 = moves keep "
        "every city's share)",
    )
    visit_tie_months: float = _positive(
        12.0, "months a visit keeps a researcher's cross-city tie active (assumption)"
    )


Params = TalentParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``talent`` section."""

STATE = {
    "researchers": (
        Column("tie_city", np.int8, -1, "city of the last visit, -1 none"),
        Column("tie_until", np.int16, -1, "step until which the visit tie is active"),
        Column("arrive_step", np.int16, -1, "step a pending job move completes, -1 none"),
        Column("dest_city", np.int8, -1, "city of a pending job move"),
        Column("dest_zone", np.int8, -1, "zone of a pending job move"),
        Column("dest_employer_kind", np.int8, 0, "employer kind of a pending job move"),
        Column("dest_employer", np.int32, -1, "employer of a pending job move"),
    ),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = (
    Memory(
        "pending_moves",
        "event list: rows of the researchers with a job move under way (arrive_step >= 0)",
    ),
    Memory(
        "move_amenity",
        "each city's pull for job moves in each field (fields, cities), balanced once under "
        "the baseline friction",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "researcher_moves",
    "researcher_moves_cross_border",
    "researcher_moves_refused",
    "visits",
    "visits_cross_border",
    "visits_refused",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts."""

TALENT = 0

__all__ = [
    "arrive",
    "balanced_mass",
    "choose_destinations",
    "draw_movers",
    "gravity",
    "move_weights",
    "step",
]


def init(world: World) -> None:
    """No move under way; the job-move amenity of each city and field.

    The amenity is balanced once under the *baseline* friction so that the baseline
    keeps every city's share of each field's researchers; a policy's friction and
    changes in opportunity then move researchers (no share-keeping under policy).
    """
    world.pending_moves = np.zeros(0, dtype=np.int64)
    geo, params = world.geo, world.params
    baseline = compile_policy(Policy(), geo, params.scale)
    # with mobility held (flowsim explain), the baseline's talent deterrence: moves as in the
    # baseline
    held = world.hold is not None and "job_move" in world.held
    mobility = (world.hold.baseline if held else params).deterrence.talent
    border = border_weights(baseline, TALENT, geo.corridor, mobility)
    kernel = np.exp(-geo.travel_minutes / params.talent.distance_decay_minutes) * border[0]
    expected = world.expected_researchers
    field_share = expected / expected.sum(axis=0)
    world.move_amenity = np.stack(
        [balanced_mass(field_share[:, f], kernel) for f in range(world.n_fields)]
    )


def researcher_keys(
    world: World, rows: np.ndarray, destination_zone: np.ndarray | None = None
) -> FlowKeys:
    """What border rules may select on for researchers ``rows`` leaving their city."""
    R = world.researchers
    kind = R.employer_kind[rows]
    return FlowKeys(
        field=R.field[rows],
        employer=kind,
        lists=agent_lists(world, kind, R.employer[rows]),
        origin_zone=R.zone[rows],
        destination_zone=destination_zone,
    )


def draw_movers(n: int, rate: float, available: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows of the researchers who act this month: each available row with probability ``rate``."""
    rows = bernoulli_rows(n, rate, rng)
    return rows[available[rows]]


def move_weights(world: World) -> np.ndarray:
    """Pull of each destination for job moves, shape (zone slots x fields x origin, dest).

    amenity[f, d] x productivity[d, f] ** opportunity_elasticity x exp(-time/decay) x
    talent border weight: researchers move toward where their field is more productive.
    """
    opportunity = world.knowledge.productivity().T ** world.params.talent.opportunity_elasticity
    pull = world.move_amenity * opportunity  # (fields, dest)
    w = world.move_kernel[:, None, :, :] * pull[None, :, None, :]
    return w.reshape(-1, len(CITIES))


def step(world: World, t: int) -> None:
    """Visits, new job moves, then arrivals of moves whose delay has run out."""
    rng = world.rngs["talent"]
    R = world.researchers
    p = world.params.talent
    idle = R.arrive_step < 0

    # visits: anywhere but home, ties for the coming months
    visitors = draw_movers(R.n, p.visit_rate, idle, rng)
    if visitors.size:
        origin = R.city[visitors]
        dest = choose_destinations(origin, R.zone[visitors], world.visit_weights, rng)
        ok = dest >= 0
        visitors, origin, dest = visitors[ok], origin[ok], dest[ok]
        c = cross_border(
            world,
            TALENT,
            origin,
            dest,
            R.zone[visitors],
            rng,
            "visit",
            counter="visits",
            keys=researcher_keys(world, visitors),
        )
        went = visitors[c.approved]
        world.tally.link("visits", origin[c.approved], dest[c.approved], R.field[went])
        R.tie_city[went] = dest[c.approved]
        R.tie_until[went] = t + int(round(p.visit_tie_months))

    # job moves: choose a city, pass the border, wait out the delay
    movers = draw_movers(R.n, p.move_rate, idle, rng)
    if movers.size:
        origin = R.city[movers].astype(np.int64)
        field = R.field[movers].astype(np.int64)
        n = len(world.geo.city_jurisdiction)
        rows = ((R.zone[movers].astype(np.int64) + 1) * world.n_fields + field) * n + origin
        dest = choose_rows(move_weights(world), rows, rng)
        kind, employer, zone = pick_employers(world, dest, field, rng)
        ok = employer >= 0
        movers, origin, dest, kind, employer, zone = (
            a[ok] for a in (movers, origin, dest, kind, employer, zone)
        )
        c = cross_border(
            world,
            TALENT,
            origin,
            dest,
            R.zone[movers],
            rng,
            "job_move",
            counter="researcher_moves",
            keys=researcher_keys(world, movers, destination_zone=zone),
        )
        go = movers[c.approved]
        world.tally.link("job_moves", origin[c.approved], dest[c.approved], R.field[go])
        R.arrive_step[go] = t + c.delay_steps[c.approved]
        world.pending_moves = np.concatenate((world.pending_moves, go))
        R.dest_city[go] = dest[c.approved]
        R.dest_zone[go] = zone[c.approved]
        R.dest_employer_kind[go] = kind[c.approved]
        R.dest_employer[go] = employer[c.approved]

    arrive(world, t)


def arrive(world: World, t: int) -> None:
    """Complete the moves due this step: staff counts follow the researchers.

    Only the pending moves (an event list kept by the world) are looked at, not
    every researcher.
    """
    R = world.researchers
    pending = world.pending_moves
    arriving = R.arrive_step[pending] <= t
    if not arriving.any():
        return
    due = pending[arriving]
    world.pending_moves = pending[~arriving]
    remove_staff(world, R.employer_kind[due], R.employer[due])
    R.city[due] = R.dest_city[due]
    R.zone[due] = R.dest_zone[due]
    R.employer_kind[due] = R.dest_employer_kind[due]
    R.employer[due] = R.dest_employer[due]
    add_staff(world, R.employer_kind[due], R.employer[due])
    R.arrive_step[due] = -1
    R.dest_city[due] = -1
    R.dest_employer[due] = -1
