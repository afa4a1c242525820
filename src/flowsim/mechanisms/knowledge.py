"""Knowledge: each city x field's stock grows with research, depreciates and spills over.

The mechanism of :mod:`flowsim.knowledge` (the stock and its pure cores, a shared
tool that research, transfer, talent and the gauges read through ``world.knowledge``):
it owns the ``knowledge`` section of the scenario, declares the stock as its memory,
initialises it from the initial researchers' skill, and each month (:func:`step`, the
last phase before the record) depreciates the stocks and adds the month's inflow.
The model calls :func:`settle` once in the warm-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.geography import CITIES, FIELDS
from flowsim.knowledge import KnowledgeStock, spillover_weights
from flowsim.paramtypes import _Frozen, _nonneg, _positive, _share
from flowsim.state import Memory

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "knowledge"
"""The scenario section this mechanism owns: ``knowledge.*``, of class :data:`Params`."""


class KnowledgeParams(_Frozen):
    """Knowledge stocks per city x field: accumulation, depreciation, spillovers, productivity."""

    depreciation_per_year: float = _share(
        0.15,
        "share of a knowledge stock lost each year (Hall, Mairesse & Mohnen 2010: 15% is the "
        "conventional R&D-capital depreciation rate)",
    )
    halving_km: float = _positive(
        1200.0, "distance at which a spillover halves [km] (Keller 2002: ~1,200 km)"
    )
    outside_city: float = _share(
        0.05,
        "weight of another city's knowledge, at zero distance, relative to the own city's "
        "(calibrated: with the initial stocks, 20% of accessible knowledge lies outside the "
        "learner's city, as Peri 2005 finds outside the region)",
    )
    outside_jurisdiction: float = _share(
        0.3,
        "further weight of knowledge across a border, relative to the same distance at home "
        "(assumption: national borders cut knowledge flows by ~70%, Peri 2005 and Li 2014 "
        "border effects)",
    )
    elasticity: float = _nonneg(
        0.2,
        "elasticity of research output to the accessible knowledge stock relative to the start "
        "(assumption; knowledge-production-function elasticities of 0.1-0.3 for external "
        "knowledge, Jaffe 1986, Griliches 1992)",
    )
    link_transfer: float = _share(
        0.5,
        "share of a collaboration's output that also enters the partner city's stock, and of a "
        "licensed invention that enters the licensee city's (assumption: co-authors and "
        "licensees learn, whole counting)",
    )
    per_researcher: float = _positive(
        2.6,
        "initial knowledge per unit of researcher skill [knowledge units: papers and inventions "
        "of unit quality] (calibrated: the stock the baseline's output sustains at 15% a year)",
    )


Params = KnowledgeParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``knowledge`` section."""

STATE: dict = {}
"""Columns this mechanism owns: none; its state is a stock per city x field (:data:`MEMORY`)."""

MEMORY = (
    Memory(
        "knowledge",
        "the knowledge stocks per city x field, their spillover weights and the productivity "
        "they give (flowsim.knowledge.KnowledgeStock)",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS: tuple[str, ...] = ()
"""No counter: the stocks are reported as gauges (:func:`flowsim.tally.gauges`)."""

__all__ = ["KnowledgeParams", "init", "settle", "step"]


def init(world: World) -> None:
    """Each (city, field) starts with ``per_researcher`` x the skill of its researchers.

    With ``flowsim explain`` holding knowledge, the stock replays the baseline's
    productivity path instead of its own.
    """
    R, geo, kp = world.researchers, world.geo, world.params.knowledge
    skill = np.zeros((len(CITIES), len(FIELDS)))
    np.add.at(
        skill, (R.city.astype(np.int64), R.field.astype(np.int64)), R.skill.astype(np.float64)
    )
    away = world.away_rows  # researchers who have left the region for CN or ROW
    np.subtract.at(
        skill,
        (R.city[away].astype(np.int64), R.field[away].astype(np.int64)),
        R.skill[away].astype(np.float64),
    )
    weights = spillover_weights(
        geo.distance_km(),
        geo.city_jurisdiction,
        kp.halving_km,
        kp.outside_city,
        kp.outside_jurisdiction,
    )
    world.knowledge = KnowledgeStock(
        kp.per_researcher * skill, weights, kp.depreciation_per_year, kp.elasticity
    )
    if world.hold is not None and "knowledge" in world.hold.groups:
        world.knowledge.path = world.hold.knowledge_path


def settle(world: World) -> None:
    """Each stock to the fixed point of its steady state (:meth:`KnowledgeStock.settle`)."""
    world.knowledge.settle()


def step(world: World, t: int) -> None:
    """The stocks depreciate and take in this month's papers, inventions and links."""
    world.knowledge.end_month()
