"""Growth: the region's R&D inputs grow from outside the model, city by city.

Each reported month (never in the warm-up, which settles a stationary state at the base
year) every city gains researchers at its sourced yearly growth of R&D personnel, and its
labs' budgets and its firms' R&D spending per researcher grow at its sourced yearly growth
of R&D spending (``data/growth.csv``: Guangzhou Statistical Yearbook, Guangdong S&T
funding bulletins, Hong Kong C&SD innovation statistics; rows without a series are stated
assumptions).

The number of researchers a city gains is exogenous: after ``t`` reported months the city
has gained ``E_c x ((1 + g_c) ** (t / 12) - 1)`` (rounded down, the remainder carried to
the next month), where ``E_c`` is the city's expected researchers at the start (its
figures times ``population.city_multipliers`` and the scale) and ``g_c`` its personnel
growth times ``growth.researcher_multiplier`` and ``growth.city_multipliers``. It does
not depend on the seed, on the policy or on where researchers moved, so a policy run and
its baseline gain exactly the same researchers in every city (common random numbers carry
the rest: who they are is drawn from this mechanism's own stream). Job moves then
redistribute researchers as they do any others.

A new researcher is a new row (rows are appended, never reused, as start-ups are
founded): employed by a lab of the city with the city's public-research share (labs in
proportion to their budget), else by a firm of the city (alive firms in proportion to
their size), as a job move picks employers; its field is its employer's, its zone its
employer's, its skill drawn as the initial researchers' were. ``growth.enabled: false``
is the stationary region (the model before issue 18): nothing grows.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from flowsim.employment import add_staff, employer_field_zone, pick_in_city
from flowsim.geography import CITIES
from flowsim.paramtypes import ByCity, _Frozen, _nonneg
from flowsim.state import Memory

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "growth"
"""The scenario section this mechanism owns: ``growth.*``, of class :data:`Params`."""

MEASURES = ("researchers", "spending")
"""The measures of ``data/growth.csv``: yearly growth of R&D personnel and of R&D spending."""


class GrowthParams(_Frozen):
    """Exogenous growth of each city's R&D personnel and spending (``data/growth.csv``)."""

    enabled: bool = Field(
        True,
        description="the region's R&D inputs grow at data/growth.csv's rates from the first "
        "reported month [true/false]; false: the stationary region (nothing grows), for "
        "users who want the base year held",
    )
    researcher_multiplier: float = _nonneg(
        1.0,
        "multiplier of every city's yearly growth of R&D personnel [factor] (1 = "
        "data/growth.csv's rates; 0 = no new researchers)",
    )
    spending_multiplier: float = _nonneg(
        1.0,
        "multiplier of every city's yearly growth of R&D spending [factor] (1 = "
        "data/growth.csv's rates; 0 = budgets held)",
    )
    city_multipliers: ByCity = Field(
        default_factory=ByCity,
        description="multiplier of one city's growth rates, personnel and spending [factor] "
        "(1 = data/growth.csv's rates)",
    )


Params = GrowthParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``growth`` section."""

STATE: dict = {}
"""Columns this mechanism owns: none (it appends rows to the researchers' table)."""

MEMORY = (
    Memory(
        "growth_base",
        "expected researchers of each city at the start [model units]: what its growth "
        "compounds on, the same for every seed and policy",
    ),
    Memory(
        "growth_added",
        "researchers each city has gained by growth since the first reported month "
        "[model units, int64 per city]",
    ),
    Memory(
        "growth_path",
        "each city's researchers on its growth path now, relative to the start [factor]: "
        "(1 + personnel growth) ** (months / 12); what job moves should keep shares of "
        "(:func:`expected_researchers`)",
    ),
    Memory(
        "rd_intensity",
        "each city's R&D spending per researcher relative to the base year [factor]: "
        "(1 + spending growth) / (1 + personnel growth) compounded; firms' R&D cash per "
        "researcher is multiplied by it",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS: tuple[str, ...] = ()
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts: none (the
researchers gauge shows the growth)."""


@cache
def load_rates() -> dict[str, np.ndarray]:
    """Yearly growth rates by measure, one per city in :data:`~flowsim.geography.CITIES` order.

    Raises:
        ValueError: ``growth.csv`` lacks a city or measure, repeats one, or has a rate
            outside (-1, 1].
    """
    text = resources.files("flowsim.data").joinpath("growth.csv").read_text(encoding="utf-8")
    rates = {m: np.full(len(CITIES), np.nan) for m in MEASURES}
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        city, measure = row["city"], row["measure"]
        if city not in CITIES or measure not in MEASURES:
            raise ValueError(
                f"growth.csv line {line}: city {city!r} or measure {measure!r} is not one of "
                f"{', '.join(CITIES)} / {', '.join(MEASURES)}"
            )
        rate = float(row["rate"])
        if not -1.0 < rate <= 1.0 or not np.isnan(rates[measure][CITIES.index(city)]):
            raise ValueError(
                f"growth.csv line {line}: the rate must be in (-1, 1] and given once per city "
                f"and measure, got {rate} for {city} {measure}"
            )
        rates[measure][CITIES.index(city)] = rate
    for measure, values in rates.items():
        if np.isnan(values).any():
            missing = [c for c, v in zip(CITIES, values, strict=True) if np.isnan(v)]
            raise ValueError(f"growth.csv lacks the {measure} rate of {', '.join(missing)}")
    return rates


def yearly_rates(params: GrowthParams) -> tuple[np.ndarray, np.ndarray]:
    """(personnel, spending) yearly growth per city under ``params`` (zeros when disabled)."""
    n = len(CITIES)
    if not params.enabled:
        return np.zeros(n), np.zeros(n)
    rates = load_rates()
    city = np.asarray(params.city_multipliers.as_array())
    return (
        rates["researchers"] * params.researcher_multiplier * city,
        rates["spending"] * params.spending_multiplier * city,
    )


def added_by(base: np.ndarray, personnel: np.ndarray, months: int) -> np.ndarray:
    """Researchers each city has gained after ``months`` reported months (pure core).

    ``floor(base x ((1 + personnel) ** (months / 12) - 1))``, never below 0: the exogenous
    path that the monthly additions follow exactly.
    """
    factor = np.power(1.0 + np.asarray(personnel, float), months / 12.0) - 1.0
    return np.maximum(np.floor(np.asarray(base, float) * factor + 1e-9), 0).astype(np.int64)


def init(world: World) -> None:
    """The base each city's growth compounds on; nothing added yet; spending at the base year.

    Reads no ``growth`` parameter: the warm-up (and its cache key, :mod:`flowsim.warmstart`)
    never depends on them.
    """
    world.growth_base = world.expected_researchers.sum(axis=1) * world.scale
    world.growth_added = np.zeros(len(CITIES), dtype=np.int64)
    world.growth_path = np.ones(len(CITIES))
    world.rd_intensity = np.ones(len(CITIES))


def step(world: World, t: int) -> None:
    """Reported month ``t`` (0 = the first): new researchers per city, budgets grow.

    Called by the model from the first reported month only, after the month's streams
    are derived (the warm-up is stationary).
    """
    params = world.params.growth
    if not params.enabled:
        return
    personnel, spending = yearly_rates(params)
    world.growth_path = np.power(1.0 + personnel, (t + 1) / 12.0)
    due = added_by(world.growth_base, personnel, t + 1)
    new = np.maximum(due - world.growth_added, 0)
    if new.any():
        hired = _hire(world, np.repeat(np.arange(len(CITIES)), new), world.rngs["growth"])
        world.growth_added += np.bincount(hired, minlength=len(CITIES))
    # spending: labs' budgets at the spending rate; firms' R&D cash per researcher at the
    # spending rate over the personnel rate (their staff grows with the researchers)
    monthly = np.power(1.0 + spending, 1.0 / 12.0)
    L = world.labs
    L.budget[:] *= monthly[L.city].astype(np.float32)
    world.rd_intensity *= monthly / np.power(1.0 + personnel, 1.0 / 12.0)


def expected_researchers(world: World) -> np.ndarray:
    """Expected researchers by (city, field) on the growth path now, real-world units.

    The base year's :attr:`~flowsim.world.World.expected_researchers` times each city's
    :data:`growth_path` factor: the shares that job moves should keep in a growing region
    (talent's amenity is balanced once, on the base year's shares; rebalancing it on these
    is the fix of the pull-back docs/growth.md describes).
    """
    return world.expected_researchers * world.growth_path[:, None]


def _hire(world: World, city: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Append one researcher per entry of ``city``, employed there; the cities of those hired.

    A lab with the city's public-research share (by budget), else a firm (alive, by size);
    the other kind where the city has none of the one drawn; nobody where it has neither.
    """
    kind, employer = pick_in_city(world, city, rng)
    skill_draw = rng.standard_normal(city.size)
    ok = employer >= 0
    city, kind, employer, skill_draw = city[ok], kind[ok], employer[ok], skill_draw[ok]
    if city.size == 0:
        return city
    field, zone = employer_field_zone(world, kind, employer)
    sigma = world.params.population.skill_sigma
    world.researchers.add(
        city.size,
        city=city,
        zone=zone,
        field=field,
        employer_kind=kind,
        employer=employer,
        skill=np.exp(sigma * skill_draw - 0.5 * sigma**2),
    )
    add_staff(world, kind, employer)
    return city
