"""Shared core of the two input flows a project may need from elsewhere: data and samples.

A project in field f needs the input with probability ``need[f]``. The input is
held in its collaborator's city (with probability ``collaborator_source_prob``,
when it has a collaborator) or else in a city drawn by research mass and travel
time. The request then crosses the border, if any, under the element's friction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from flowsim.policy import Crossing, FrictionTables, cross

if TYPE_CHECKING:
    from flowsim.world import World
from flowsim.pools import choose_rows


@dataclass
class Requests:
    """Requests made by a batch of projects: which projects asked, from where, and the outcome."""

    project: np.ndarray
    source: np.ndarray
    crossing: Crossing


def request_inputs(
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
    need: np.ndarray,
    collaborator_source_prob: float,
    source_weights: np.ndarray,
    element: int,
    tables: FrictionTables,
    corridor_matrix: np.ndarray,
    quota_left: np.ndarray,
    rng: np.random.Generator,
) -> Requests:
    """Which projects need the input, where it comes from, and whether it gets through (pure core).

    Args:
        field: research field of each new project.
        city: city of each new project's PI.
        zone: zone of each new project's PI (-1 none).
        collaborator_city: city of each project's collaborator, -1 none.
        need: probability of needing the input, by field.
        collaborator_source_prob: probability the input is held by the collaborator.
        source_weights: (origin city, source city) pull for inputs held elsewhere.
        element: element number of the input.
        tables: compiled friction (see :func:`flowsim.policy.cross`).
        corridor_matrix: corridor number of each city pair.
        quota_left: quotas left this month, decremented in place.
        rng: the element's Generator.
    """
    n = field.size
    needs = rng.random(n) < need[field]
    from_collaborator = (collaborator_city >= 0) & (rng.random(n) < collaborator_source_prob)
    proj = np.flatnonzero(needs)
    source = np.where(from_collaborator[proj], collaborator_city[proj], -1)
    other = source < 0
    if other.any():
        source[other] = choose_rows(source_weights, city[proj][other], rng)
    # the input travels from its source to the project
    c = cross(source, city[proj], zone[proj], element, tables, corridor_matrix, quota_left, rng)
    return Requests(proj, source, c)


@dataclass(frozen=True)
class InputCounters:
    """Names of the counters an input element reports (see :mod:`flowsim.outputs`)."""

    channel: str
    requests: str
    crossed: str
    refused: str
    delay_days: str | None = None


def request_and_record(
    world: World,
    element: int,
    need: np.ndarray,
    counters: InputCounters,
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
) -> Requests:
    """Requests of a batch of new projects for one input, recorded in the ledger and counters.

    The input's own random stream is the one named after its element.
    """
    from flowsim.flows import channel
    from flowsim.geography import ELEMENTS

    req = request_inputs(
        field,
        city,
        zone,
        collaborator_city,
        need,
        world.params.research.collaborator_source_prob,
        world.source_weights,
        element,
        world.tables,
        world.geo.corridor,
        world.quota_left,
        world.rngs[ELEMENTS[element]],
    )
    c = req.crossing
    crossed = c.approved & (c.corridor >= 0)
    world.ledger.record(
        channel(counters.channel), req.source, city[req.project], c.approved, 1.0, c.delay_days
    )
    asked = req.project
    world.count_by(counters.requests, city[asked], field[asked])
    world.count(counters.crossed, crossed.sum())
    refused = asked[c.refused]
    world.count_by(counters.refused, city[refused], field[refused])
    if counters.delay_days is not None:
        world.count(counters.delay_days, c.delay_days[crossed].sum())
    world.count("friction_cost", c.cost[c.approved].sum())
    return req
