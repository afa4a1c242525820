"""Talent: job moves and visits of researchers between cities, through border control.

A job move changes a researcher's city and employer after the border delay; a
visit leaves the researcher in place but creates a tie to the visited city that
makes a collaboration there likelier for ``talent.visit_tie_months``.
Destinations follow a gravity model: the pull of a city decays with travel time
and is multiplied by the border weight of the talent friction
(:func:`flowsim.policy.border_weights`). For visits the pull is the city's share
of the region's researchers; for job moves it is balanced
(:func:`balanced_mass`) so that moves keep each city's share of researchers in
expectation: friction changes how many moves cross a border, not where
researchers end up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.pools import choose_rows
from flowsim.streams import bernoulli_rows

if TYPE_CHECKING:
    from flowsim.world import World

TALENT = 0


def gravity(
    mass: np.ndarray, travel_minutes: np.ndarray, decay_minutes: float, border: np.ndarray
) -> np.ndarray:
    """Pull of each destination per (zone slot, origin): mass x exp(-time/decay) x border weight."""
    return mass[None, None, :] * np.exp(-travel_minutes / decay_minutes)[None, :, :] * border


def balanced_mass(share: np.ndarray, kernel: np.ndarray, iterations: int = 500) -> np.ndarray:
    """Pull of each city such that job moves keep the cities' shares of researchers (pure core).

    With move probabilities ``P[o, d] ~ m[d] K[o, d]`` and a symmetric kernel ``K``,
    the stationary distribution is proportional to ``m[o] * sum_d m[d] K[o, d]``;
    this solves for the ``m`` that makes it equal to ``share``, so moves circulate
    researchers (more or less across borders, as friction allows) without draining
    small cities into large ones.
    """
    m = np.asarray(share, dtype=np.float64).copy()
    for _ in range(iterations):
        m = share / (kernel @ m)
        m /= m.sum()
    return m


def choose_destinations(
    origin: np.ndarray, zone: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Destination city for each traveller (pure core).

    Args:
        origin: origin city of each traveller.
        zone: zone number of each traveller (-1 none).
        weights: pull, shape (zone slots, origin, destination).
        rng: the mechanism's Generator.
    """
    slots, n, _ = weights.shape
    rows = (np.asarray(zone, dtype=np.int64) + 1) * n + np.asarray(origin, dtype=np.int64)
    return choose_rows(weights.reshape(slots * n, n), rows, rng)


def draw_movers(n: int, rate: float, available: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rows of the researchers who act this month: each available row with probability ``rate``."""
    rows = bernoulli_rows(n, rate, rng)
    return rows[available[rows]]


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
        c = world.cross_border(
            TALENT, origin, dest, R.zone[visitors], rng, "visit", counter="visits"
        )
        went = visitors[c.approved]
        world.tally.link("visits", origin[c.approved], dest[c.approved], R.field[went])
        R.tie_city[went] = dest[c.approved]
        R.tie_until[went] = t + int(round(p.visit_tie_months))

    # job moves: choose a city, pass the border, wait out the delay
    movers = draw_movers(R.n, p.move_rate, idle, rng)
    if movers.size:
        origin = R.city[movers]
        dest = choose_destinations(origin, R.zone[movers], world.move_weights, rng)
        kind, employer, zone = world.pick_employers(dest, rng)
        ok = employer >= 0
        movers, origin, dest, kind, employer, zone = (
            a[ok] for a in (movers, origin, dest, kind, employer, zone)
        )
        c = world.cross_border(
            TALENT, origin, dest, R.zone[movers], rng, "job_move", counter="researcher_moves"
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
    world.remove_staff(R.employer_kind[due], R.employer[due])
    R.city[due] = R.dest_city[due]
    R.zone[due] = R.dest_zone[due]
    R.employer_kind[due] = R.dest_employer_kind[due]
    R.employer[due] = R.dest_employer[due]
    world.add_staff(R.employer_kind[due], R.employer[due])
    R.arrive_step[due] = -1
    R.dest_city[due] = -1
    R.dest_employer[due] = -1
