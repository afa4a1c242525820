"""Firms and development projects: founding, opening, waiting, compacting (a shared tool).

Start-ups are founded by :mod:`~flowsim.mechanisms.capital` and (spin-offs) by
:mod:`~flowsim.mechanisms.transfer`; development projects are opened by
:mod:`~flowsim.mechanisms.research` and :mod:`~flowsim.mechanisms.transfer` and
run by :mod:`~flowsim.mechanisms.commercialization`. These functions take the
:class:`~flowsim.world.World`; this module imports no mechanism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.populations import compact

if TYPE_CHECKING:
    from flowsim.world import World

OUTPUTS = ("startups", "developments_started")
"""The counters of :data:`flowsim.outputs.COUNTERS` counted here, for whichever mechanism founds
the firm or opens the project (:data:`flowsim.assembly.OUTPUT_OWNERS`)."""


def draw_fields(city: np.ndarray, mix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A field for each agent from its city's field mix (one uniform draw per agent).

    ``mix`` is (cities, fields), each row summing to 1 (:func:`flowsim.world.field_mix`);
    used for the initial labs and firms and for the start-ups founded each month.
    """
    cum = np.cumsum(mix, axis=1)
    u = rng.random(city.size)
    field = (u[:, None] >= cum[np.asarray(city, dtype=np.int64)]).sum(axis=1)
    return np.minimum(field, mix.shape[1] - 1).astype(np.int8)


def new_firms(
    world: World,
    city: np.ndarray,
    zone: np.ndarray,
    sector: np.ndarray,
    t: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Found start-ups; returns their rows. Their PCT propensity is drawn from ``rng``."""
    pp = world.params.population
    k = np.asarray(city).size
    sig = pp.pct_propensity_sigma
    ids = world.firms.add(
        k,
        city=city,
        zone=zone,
        sector=sector,
        stage=0,
        alive=True,
        cash=0.5,
        born_step=t,
        # the synthetic firms' mean propensity, less what the named anchors file
        pct_propensity=np.exp(sig * rng.standard_normal(k) - 0.5 * sig**2)
        * world.pct_residual[world.geo.city_jurisdiction[np.asarray(city, dtype=np.int64)]],
    )
    world.count_by("startups", city, sector)
    return ids


def new_developments(world: World, firm: np.ndarray, t: int) -> None:
    """Open development projects at the given firms (one per entry).

    Costs are commercialization's draws, one per entry whether or not the firm is
    still alive, so that the number of draws never depends on which firms failed.
    """
    firm = np.asarray(firm, dtype=np.int64)
    if firm.size == 0:
        return
    p = world.params.commercialization
    rng = world.rngs["commercialization"]
    cost = p.cost_mean * np.exp(0.8 * rng.standard_normal(firm.size) - 0.32)
    alive = world.firms.alive[firm]
    firm, cost = firm[alive], cost[alive]
    if firm.size == 0:
        return
    world.developments.add(
        firm.size, firm=firm, cost=cost, funded=False, created_step=t, end_step=-1
    )
    F = world.firms
    world.count_by("developments_started", F.city[firm], F.sector[firm])


def firms_waiting_for_capital(world: World) -> np.ndarray:
    """Boolean per firm: it has a development project waiting for money."""
    D = world.developments
    waiting = D.active & ~D.funded
    return np.bincount(D.firm[waiting], minlength=world.firms.n)[: world.firms.n] > 0


def compact_developments(world: World) -> None:
    """Drop finished development rows once they are most of the table."""
    D = world.developments
    if D.n > 1024 and D.active.sum() < D.n // 2:
        compact(D, D.active.copy())
