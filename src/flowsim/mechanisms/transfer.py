"""Technology transfer: lab inventions are licensed to firms, spun off, or abandoned.

Each month every invention in a lab's stock is licensed with probability
``licence_rate``, else spun off with probability ``spinoff_rate`` (times
``ownership_spinoff_multiplier`` in labs where researchers own their results),
else abandoned with probability 1 / ``invention_expiry_months``. A licensee is a
firm of the invention's field, in a city drawn by gravity under the capital
friction; its licence fee crosses the border as capital. Licensed inventions go
into development at the licensee; spin-offs become new start-ups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.firms import new_developments, new_firms
from flowsim.gravity import choose_capital_city
from flowsim.paramtypes import _Frozen, _nonneg, _positive, _share
from flowsim.policy import FlowKeys, cross_border
from flowsim.state import Column, Memory
from flowsim.whitelists import agent_lists

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "transfer"
"""The scenario section this mechanism owns: ``transfer.*``, of class :data:`Params`."""


class TransferParams(_Frozen):
    """Licences and spin-offs of lab inventions."""

    licence_rate: float = _share(0.02, "licences per lab invention per month (assumption)")
    spinoff_rate: float = _share(0.003, "spin-offs per lab invention per month (assumption)")
    researcher_ownership: float = _share(
        0.0, "share of labs where researchers own their results (negative-list reform; lever)"
    )
    ownership_spinoff_multiplier: float = _nonneg(
        3.0, "spin-off rate multiplier where researchers own results (assumption)"
    )
    invention_expiry_months: float = _positive(
        60.0, "mean months before an unused lab invention is abandoned (assumption)"
    )
    licence_fee_mean: float = _nonneg(1.0, "mean licence fee [RMB m] (assumption)")


Params = TransferParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``transfer`` section."""

STATE = {
    "labs": (
        Column("inventions", np.int32, 0, "inventions not yet licensed, spun off or abandoned"),
        Column(
            "ownership", np.bool_, False, "researchers own their results (negative-list reform)"
        ),
    ),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = (
    Memory(
        "lab_inflow",
        "lab inventions made this month (research adds them; transfer's step files them)",
    ),
    Memory(
        "lab_history",
        "the last 12 months of lab inventions: inflow, outflow, stock (read by transfer.settle)",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "licences",
    "licences_cross_border",
    "licence_fees",
    "spinoffs",
    "inventions_abandoned",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts (spin-offs' firms are
counted as start-ups by :func:`flowsim.firms.new_firms`)."""

CAPITAL = 1


def init(world: World) -> None:
    """No lab invention made yet, no history."""
    world.lab_inflow = 0.0
    world.lab_history = []


def transfer_outcomes(
    stock: np.ndarray,
    licence_rate: float,
    spinoff_rate: np.ndarray,
    expiry_rate: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Licence candidates, spin-offs and abandoned inventions per lab this month (pure core).

    The three are drawn in turn from what is left, so their sum never exceeds the stock.
    """
    stock = np.asarray(stock, dtype=np.int64)
    licences = rng.binomial(stock, licence_rate)
    spinoffs = rng.binomial(stock - licences, spinoff_rate)
    expired = rng.binomial(stock - licences - spinoffs, expiry_rate)
    return licences, spinoffs, expired


def settle(world: World) -> None:
    """Scale the labs' invention stocks to the steady state of the last 12 months.

    Called once at the end of the warm-up: the pipeline starts empty, so the stocks
    would otherwise keep rising for years. Steady state = inflow / outflow rate, both
    measured over the last 12 months; each lab's stock is scaled by one factor and
    rounded (no random draw).
    """
    hist = world.lab_history
    if not hist:
        return
    inflow = sum(h[0] for h in hist)
    outflow = sum(h[1] for h in hist)
    stock = sum(h[2] for h in hist)
    if inflow <= 0 or outflow <= 0 or stock <= 0:
        return
    steady = (inflow / len(hist)) / (outflow / stock)  # monthly inflow / monthly outflow rate
    current = float(world.labs.inventions.sum())
    if current > 0:
        L = world.labs
        L.inventions[:] = np.rint(L.inventions * (steady / current)).astype(np.int32)


def step(world: World, t: int) -> None:
    """Licences, spin-offs and expiry of lab inventions."""
    rng = world.rngs["transfer"]
    L = world.labs
    p = world.params.transfer
    spin_rate = p.spinoff_rate * np.where(L.ownership, p.ownership_spinoff_multiplier, 1.0)
    licences, spinoffs, expired = transfer_outcomes(
        L.inventions,
        p.licence_rate,
        np.minimum(spin_rate, 1.0),
        1.0 / p.invention_expiry_months,
        rng,
    )
    stock_before = float(L.inventions.sum())
    L.inventions[:] -= (spinoffs + expired).astype(np.int32)
    world.count_by("inventions_abandoned", L.city, L.field, expired)

    # licences: find a licensee firm and move the fee across the border
    lab = np.repeat(np.arange(L.n), licences)
    if lab.size:
        lab_city = L.city[lab].astype(np.int64)
        field = L.field[lab].astype(np.int64)
        firm_city = choose_capital_city(world, lab_city, L.zone[lab], rng)
        ok = firm_city >= 0
        lab, lab_city, field, firm_city = lab[ok], lab_city[ok], field[ok], firm_city[ok]
        firm = world.firm_pools.sample(firm_city * world.n_fields + field, rng)
        fee = (
            rng.exponential(p.licence_fee_mean, lab.size)
            if p.licence_fee_mean > 0
            else np.zeros(lab.size)
        )
        ok = firm >= 0
        lab, lab_city, firm, fee, firm_city = (
            lab[ok],
            lab_city[ok],
            firm[ok],
            fee[ok],
            firm_city[ok],
        )
        F = world.firms
        affordable = F.cash[firm] >= fee
        lab, lab_city, firm, fee, firm_city = (
            a[affordable] for a in (lab, lab_city, firm, fee, firm_city)
        )
        # the zone rules of either party apply: a lab in Hetao gets Hetao's fee rules
        zone = np.where(L.zone[lab] >= 0, L.zone[lab], F.zone[firm])
        # the lab is the acting agent (employer kind lab); either party's lists count
        both = np.zeros(lab.size, dtype=np.int64)
        lists = None
        if world.lab_lists is not None:
            lists = agent_lists(world, both, lab) | agent_lists(world, both + 1, firm)
        keys = FlowKeys(
            field=L.field[lab],
            employer=both,
            lists=lists,
            origin_zone=F.zone[firm],
            destination_zone=L.zone[lab],
        )
        c = cross_border(
            world,
            CAPITAL,
            firm_city,
            lab_city,
            zone,
            rng,
            "licence_fee",
            volume=fee,
            keys=keys,
        )
        ok = c.approved
        lab, firm, fee, firm_city = lab[ok], firm[ok], fee[ok], firm_city[ok]
        # a firm licensing several inventions at once pays for all; cash cannot go negative
        cost = np.bincount(firm, weights=fee, minlength=F.n)
        paid = np.minimum(cost, F.cash)
        F.cash[:] -= paid
        L.inventions[:] -= np.bincount(lab, minlength=L.n).astype(np.int32)
        world.count_by("licences", L.city[lab], L.field[lab])
        world.count("licences_cross_border", (c.corridor[c.approved] >= 0).sum())
        world.count_by("licence_fees", L.city[lab], L.field[lab], fee)
        world.tally.link("licences", L.city[lab], firm_city, L.field[lab], 1.0, fee)
        # the licensee's city learns the invention (a knowledge link)
        world.knowledge.add(
            F.city[firm], F.sector[firm], world.params.knowledge.link_transfer * np.ones(firm.size)
        )
        new_developments(world, firm, t)

    outflow = float(spinoffs.sum() + expired.sum()) + float(lab.size)
    world.lab_history.append((world.lab_inflow, outflow, stock_before))
    del world.lab_history[:-12]
    world.lab_inflow = 0.0

    # spin-offs: new start-ups in the lab's city, zone and field
    lab = np.repeat(np.arange(L.n), spinoffs)
    world.count_by("spinoffs", L.city[lab], L.field[lab])
    if lab.size:
        new_firms(world, L.city[lab], L.zone[lab], L.field[lab], t, rng)
