"""Commercialization: development projects that need capital and manufacturing capacity.

A development project (from a firm's own invention or a licence) costs money.
Growth firms earn ``growth_firm_rd_budget`` of cash each month; start-ups live
on VC rounds. A project starts once the firm's cash covers it, or is dropped after
``funding_wait_months``; waiting firms seek capital (see
:mod:`~flowsim.mechanisms.capital`). When development ends it reaches market with
probability ``success_prob x (1 - w + w x access)``, where access is the firm's
reach to manufacturing capacity: the best capacity among cities, discounted by
travel time and, across a border, by the talent friction (engineers must be
there). A firm in Hong Kong thus depends on the Shenzhen border.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.mechanisms.capital import lognormal

if TYPE_CHECKING:
    from flowsim.world import World


def manufacturing_access(
    capacity: np.ndarray, travel_minutes: np.ndarray, border: np.ndarray
) -> np.ndarray:
    """Access of each (zone slot, city) to manufacturing (pure core), in [0, 1].

    ``border`` is the talent border weight, shape (zone slots, origin, destination).
    """
    own = np.diag(travel_minutes)
    reach = np.exp(-np.maximum(travel_minutes - own[:, None], 0.0) / 120.0)
    return np.clip((capacity[None, None, :] * reach[None] * border).max(axis=2), 0.0, 1.0)


def fund_in_order(firm: np.ndarray, cost: np.ndarray, cash: np.ndarray) -> np.ndarray:
    """Which waiting projects their firms can pay for, oldest first (pure core).

    ``firm`` and ``cost`` are in age order; a project is funded if the cumulative cost
    of the firm's waiting projects up to it fits in the firm's cash.
    """
    order = np.argsort(firm, kind="stable")
    f, c = firm[order], cost[order]
    cum = np.cumsum(c)
    first = np.searchsorted(f, f, side="left")
    before = np.where(first > 0, cum[first - 1], 0.0)
    within = cum - before
    ok = np.empty(firm.size, dtype=bool)
    ok[order] = within <= cash[f]
    return ok


def step(world: World, t: int) -> None:
    """Fund waiting projects, drop stale ones, finish due ones."""
    rng = world.rngs["commercialization"]
    p = world.params.commercialization
    D, F = world.developments, world.firms
    # established firms fund development from their own revenue; start-ups depend on VC
    F.cash[:] += np.where(F.alive & (F.stage == 1), p.growth_firm_rd_budget, 0.0)
    dead = np.flatnonzero(D.active & ~F.alive[D.firm])
    D.active[dead] = False
    world.count_by("developments_dropped", F.city[D.firm[dead]], F.sector[D.firm[dead]])

    waiting = np.flatnonzero(D.active & ~D.funded)
    if waiting.size:
        ok = fund_in_order(D.firm[waiting], D.cost[waiting], F.cash)
        go = waiting[ok]
        np.subtract.at(F.cash, D.firm[go], D.cost[go])
        D.funded[go] = True
        D.end_step[go] = t + np.maximum(1, rng.poisson(p.duration_months, go.size))
        world.count_by("developments_funded", F.city[D.firm[go]], F.sector[D.firm[go]])
        stale = waiting[~ok & (t - D.created_step[waiting] >= p.funding_wait_months)]
        D.active[stale] = False
        world.count_by("developments_dropped", F.city[D.firm[stale]], F.sector[D.firm[stale]])

    due = np.flatnonzero(D.active & D.funded & (D.end_step <= t))
    if due.size:
        D.active[due] = False
        firm = D.firm[due]
        slot = F.zone[firm].astype(np.int64) + 1
        access = world.manufacturing_access[slot, F.city[firm]]
        prob = p.success_prob * (1.0 - p.manufacturing_weight + p.manufacturing_weight * access)
        success = rng.random(due.size) < prob
        # a value for every project that ends, so the draws do not depend on success
        value = lognormal(p.value_mean, p.value_sigma, due.size, rng)[success]
        made = firm[success]
        world.count_by("commercialized", F.city[made], F.sector[made])
        world.count_by("commercialized_value", F.city[made], F.sector[made], value)
    world.compact_developments()
