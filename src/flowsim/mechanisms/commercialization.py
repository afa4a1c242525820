"""Commercialization: development projects that need capital and manufacturing capacity.

A development project (from a firm's own invention or a licence) costs money.
Growth firms earn ``rd_budget_per_researcher`` of cash each month per researcher
they employ, so development money grows with R&D staff; start-ups live
on VC rounds. A project starts once the firm's cash covers it, or is dropped after
``funding_wait_months``; waiting firms seek capital (see
:mod:`~flowsim.mechanisms.capital`). When development ends it reaches market with
probability ``success_prob x (1 - w + w x access)``, where access is the firm's
reach to manufacturing capacity: the best capacity among cities, discounted by
travel time and, across a border, by the talent friction (engineers must be
there). A firm in Hong Kong thus depends on the Shenzhen border. A product on the
market returns ``capital.revenue_share`` of its value to the firm as cash and
counts as traction when investors screen it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from flowsim.firms import compact_developments
from flowsim.gravity import manufacturing_access
from flowsim.paramtypes import _Frozen, _nonneg, _positive, _share
from flowsim.pools import run_starts, stable_argsort
from flowsim.populations import add_counts
from flowsim.state import Column
from flowsim.streams import lognormal

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "commercialization"
"""The scenario section this mechanism owns: ``commercialization.*``, of class :data:`Params`."""


class CommercializationParams(_Frozen):
    """Development projects that turn inventions into products."""

    develop_prob: float = _share(
        0.2, "probability a firm invention or licence starts development (assumption)"
    )
    duration_months: float = _positive(12.0, "mean development time [months] (assumption)")
    cost_mean: float = _positive(3.0, "mean development cost [RMB m] (assumption)")
    rd_budget_per_researcher: float = _nonneg(
        0.0156,
        "cash a growth firm earns for development each month per researcher it employs "
        "[RMB m] (assumption: about 0.19 M yuan a year, the previous 3 M yuan per growth firm "
        "spread over its ~16 researchers; Guangdong's business R&D is roughly 0.4 M yuan per "
        "R&D worker a year, about half of it salaries)",
    )
    cash_spend_rate: float = _share(
        0.03,
        "share of a firm's cash spent each month on costs outside the model (operations, "
        "salaries), so cash does not pile up (assumption)",
    )
    funding_wait_months: int = Field(
        6,
        ge=0,
        le=120,
        description="months a development project waits for capital before it is dropped",
    )
    success_prob: float = _share(
        0.6, "probability a funded development project reaches market (assumption)"
    )
    manufacturing_weight: float = _share(
        0.5, "how much success depends on access to manufacturing capacity (assumption)"
    )
    value_mean: float = _positive(
        0.7,
        "mean value of a commercialized project [RMB m] (Zhuhai-Macao institute: >180 projects, "
        ">120M yuan)",
    )
    value_sigma: float = _nonneg(1.0, "sigma of the lognormal project value (assumption)")


Params = CommercializationParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``commercialization`` section."""

STATE = {
    "firms": (Column("products", np.int32, 0, "products brought to market"),),
    "developments": (
        Column("active", np.bool_, True, "the development project is running or waiting"),
        Column("firm", np.int32, 0, "firm developing the product"),
        Column("cost", np.float64, 0.0, "development cost [RMB m]"),
        Column("funded", np.bool_, False, "the cost has been paid"),
        Column("created_step", np.int16, 0, "step the project was created"),
        Column("end_step", np.int16, -1, "step development ends, -1 until funded"),
    ),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = ()
"""Nothing kept on the world besides its columns."""

OUTPUTS = (
    "developments_funded",
    "developments_dropped",
    "commercialized",
    "commercialized_value",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts (development projects
are opened, and counted, by :func:`flowsim.firms.new_developments`)."""


__all__ = ["fund_in_order", "manufacturing_access", "step"]


def init(world: World) -> None:
    """Nothing to set: development projects start as an empty table."""


def fund_in_order(firm: np.ndarray, cost: np.ndarray, cash: np.ndarray) -> np.ndarray:
    """Which waiting projects their firms can pay for, oldest first (pure core).

    ``firm`` and ``cost`` are in age order; a project is funded if the cumulative cost
    of the firm's waiting projects up to it fits in the firm's cash.
    """
    order = stable_argsort(firm)
    f, c = firm[order], cost[order]
    cum = np.cumsum(c)
    first = run_starts(f)
    before = np.where(first > 0, cum[first - 1], 0.0)
    within = cum - before
    ok = np.empty(firm.size, dtype=bool)
    ok[order] = within <= cash[f]
    return ok


def step(world: World, t: int) -> None:
    """Fund waiting projects, drop stale ones, finish due ones."""
    rng = world.rngs["commercialization"]
    p = world.params.commercialization
    p_cap = world.params.capital
    D, F = world.developments, world.firms
    # established firms fund development from their own revenue; start-ups depend on VC
    F.cash[:] *= 1.0 - p.cash_spend_rate
    # R&D cash per researcher grows with the city's R&D spending per researcher
    # (world.rd_intensity, set by flowsim.mechanisms.growth; 1 in a stationary region)
    per_researcher = p.rd_budget_per_researcher * world.rd_intensity[F.city]
    budget = per_researcher * F.staff.astype(np.float64)
    budget *= F.alive & (F.stage == 1)  # np.where without a branch per firm: 0 elsewhere
    F.cash[:] += budget
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
        # revenue flows back: the firm gains cash and traction (a screening signal), and
        # hires in proportion to its size (flowsim.employment.pick_employers)
        np.add.at(F.cash, made, p_cap.revenue_share * value)
        add_counts(F.products, made)
        np.add.at(F.signal, made, np.float32(1.0))
    compact_developments(world)
