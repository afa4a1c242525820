"""Border friction: compile a scenario's policy into lookup tables, and cross borders.

A flow from city ``o`` to city ``d`` meets friction only when the two cities are in
different jurisdictions; it then uses the friction of corridor ``corridor[o, d]``
for its element, unless the acting agent is located in a cooperation zone whose
rules cover that corridor, in which case the zone's overrides apply.

Tables are indexed ``[zone_slot, element, corridor]`` where zone slot 0 means "no
zone" and slot ``z + 1`` is zone ``z``. :func:`cross` is the pure core: arrays and
a Generator in, approvals, delays and costs out; :func:`cross_border` passes a
world's flows through it, records them in the flow ledger and counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from flowsim.flows import channel
from flowsim.geography import CORRIDORS, ELEMENTS, ZONES, Geography

if TYPE_CHECKING:
    from flowsim.paramtypes import Policy, Response
    from flowsim.world import World

DAYS_PER_STEP = 365.25 / 12
"""One model step is one month."""


@dataclass(frozen=True)
class FrictionTables:
    """Friction per (zone slot, element, corridor); quota is per month in model units."""

    approval: np.ndarray
    delay_days: np.ndarray
    cost: np.ndarray
    quota: np.ndarray
    quota_slot: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """(zone slots, elements, corridors)."""
        return self.approval.shape


def compile_policy(policy: Policy, geography: Geography, scale: float) -> FrictionTables:
    """Turn a policy into arrays. Quotas are scaled to model units (real quota x scale).

    ``quota_slot[s, e, c]`` is the quota pool a crossing uses: its zone's own pool
    where the zone overrides the quota, else the corridor's pool (slot 0).
    """
    slots, n_el, n_co = len(ZONES) + 1, len(ELEMENTS), len(CORRIDORS)
    approval = np.ones((slots, n_el, n_co))
    delay = np.zeros((slots, n_el, n_co))
    cost = np.zeros((slots, n_el, n_co))
    quota = np.full((slots, n_el, n_co), np.inf)
    quota_slot = np.zeros((slots, n_el, n_co), dtype=np.int64)
    for c, corridor in enumerate(CORRIDORS):
        cp = policy.corridors.for_corridor(corridor)
        for e, element in enumerate(ELEMENTS):
            f = getattr(cp, element)
            approval[:, e, c] = f.approval
            delay[:, e, c] = f.delay_days
            cost[:, e, c] = f.cost
            quota[0, e, c] = np.inf if f.quota is None else f.quota * scale
            for z, zone in enumerate(ZONES):
                if not geography.zone_corridors[z, c]:
                    continue
                o = getattr(getattr(policy.zones, zone), element)
                if o.approval is not None:
                    approval[z + 1, e, c] = o.approval
                if o.delay_days is not None:
                    delay[z + 1, e, c] = o.delay_days
                if o.cost is not None:
                    cost[z + 1, e, c] = o.cost
                if o.quota is not None:
                    quota[z + 1, e, c] = o.quota * scale
                    quota_slot[z + 1, e, c] = z + 1
    return FrictionTables(approval, delay, cost, quota, quota_slot)


@dataclass
class Crossing:
    """Outcome of a batch of flows: one entry per flow."""

    approved: np.ndarray
    refused: np.ndarray
    over_quota: np.ndarray
    delay_days: np.ndarray
    delay_steps: np.ndarray
    cost: np.ndarray
    corridor: np.ndarray


def cross(
    origin: np.ndarray,
    destination: np.ndarray,
    zone: np.ndarray,
    element: int,
    tables: FrictionTables,
    corridor_matrix: np.ndarray,
    quota_left: np.ndarray,
    rng: np.random.Generator,
) -> Crossing:
    """Send flows from ``origin`` to ``destination`` cities through border control.

    Args:
        origin: origin city of each flow.
        destination: destination city of each flow.
        zone: zone number of the acting agent (-1 none), one per flow.
        element: element number (``ELEMENTS.index(...)``).
        tables: compiled friction.
        corridor_matrix: corridor number of each city pair (-1 domestic).
        quota_left: crossings still allowed this month, shape (zone slots, elements,
            corridors); decremented in place for approved crossings.
        rng: the mechanism's Generator.

    Returns:
        A :class:`Crossing`. Domestic flows are always approved with no delay or cost.
        A crossing refused for lack of quota has ``refused`` and ``over_quota`` set.
    """
    origin = np.asarray(origin, dtype=np.int64)
    destination = np.asarray(destination, dtype=np.int64)
    n = origin.size
    corridor = corridor_matrix[origin, destination].astype(np.int64)
    border = corridor >= 0
    approved = np.ones(n, dtype=bool)
    over_quota = np.zeros(n, dtype=bool)
    delay_days = np.zeros(n)
    cost = np.zeros(n)
    b = np.flatnonzero(border)
    if b.size:
        c = corridor[b]
        z = np.asarray(zone, dtype=np.int64)[b]
        slot = np.where((z >= 0), z + 1, 0)
        p = tables.approval[slot, element, c]
        u = rng.random(b.size)
        mean_delay = tables.delay_days[slot, element, c]
        delay_days[b] = rng.exponential(1.0, b.size) * mean_delay
        cost[b] = tables.cost[slot, element, c]
        ok = u < p
        approved[b] = ok
        # quotas: among approved crossings, a random subset up to what is left in each pool
        qslot = tables.quota_slot[slot, element, c]
        limited = ok & np.isfinite(quota_left[qslot, element, c])
        if limited.any():
            idx = np.flatnonzero(limited)
            n_pools = quota_left.shape[0] * len(CORRIDORS)
            pool = qslot[idx] * len(CORRIDORS) + c[idx]
            wanted = np.bincount(pool, minlength=n_pools)
            left = np.floor(quota_left[:, element, :]).reshape(n_pools)
            if (wanted > left).any():
                # a quota binds: a random subset of its crossings, up to what is left, goes
                # through. Only then is the mechanism's stream drawn from, so that a quota
                # that binds nothing leaves every draw as it was.
                order = rng.permutation(idx.size)
                idx, pool = idx[order], pool[order]
                sort = np.argsort(pool, kind="stable")
                idx, pool = idx[sort], pool[sort]
                first = np.searchsorted(pool, pool, side="left")
                rank = np.arange(idx.size) - first
                denied = rank >= left[pool]
                approved[b[idx[denied]]] = False
                over_quota[b[idx[denied]]] = True
                pool = pool[~denied]
            used = np.bincount(pool, minlength=n_pools)
            quota_left[:, element, :] -= used.reshape(quota_left.shape[0], len(CORRIDORS))
    delay_days[~approved] = 0.0
    steps = np.floor(delay_days / DAYS_PER_STEP + rng.random(n)).astype(np.int64)
    steps[~border] = 0
    return Crossing(approved, ~approved, over_quota, delay_days, steps, cost, corridor)


def border_weights(
    tables: FrictionTables,
    element: int,
    corridor_matrix: np.ndarray,
    response: Response,
) -> np.ndarray:
    """Multiplier on the pull of each destination, shape (zone slots, origin, destination).

    1 inside a jurisdiction; across a border, the element's residual border effect
    times the approval probability times the deterrence of cost and delay, each
    element with its own response (``deterrence.<element>``).
    """
    slots = tables.approval.shape[0]
    n = corridor_matrix.shape[0]
    out = np.ones((slots, n, n))
    c = corridor_matrix.astype(np.int64)
    border = c >= 0
    for s in range(slots):
        a = tables.approval[s, element][c]
        d = tables.delay_days[s, element][c]
        k = tables.cost[s, element][c]
        w = (
            response.border_effect
            * a
            * np.exp(-k / response.cost_scale)
            * np.exp(-d / response.delay_scale_days)
        )
        out[s] = np.where(border, w, 1.0)
    return out


def fresh_quota(tables: FrictionTables, rng: np.random.Generator) -> np.ndarray:
    """This month's quota, stochastically rounded so that small scales keep the expected quota."""
    q = tables.quota.copy()
    finite = np.isfinite(q)
    if finite.any():
        base = np.floor(q[finite])
        q[finite] = base + (rng.random(base.shape) < (q[finite] - base))
    return q


def cross_border(
    world: World,
    element: int,
    origin: np.ndarray,
    destination: np.ndarray,
    zone: np.ndarray,
    rng: np.random.Generator,
    chan: str,
    counter: str | None = None,
    volume: np.ndarray | float = 1.0,
) -> Crossing:
    """Pass flows through border control, record them in the flow ledger and count them.

    ``chan`` names the channel of the flows (:data:`flowsim.flows.CHANNELS`).

    With ``counter`` set, approved flows add to ``counter``, approved cross-border
    ones to ``<counter>_cross_border`` and refused ones to ``<counter>_refused``.
    The cost of approved crossings adds to ``friction_cost``.
    """
    c = cross(
        origin,
        destination,
        zone,
        element,
        world.tables_for(chan),
        world.geo.corridor,
        world.quota_left,
        rng,
    )
    world.ledger.record(channel(chan), origin, destination, c.approved, volume, c.delay_days)
    if counter is not None:
        world.count(counter, c.approved.sum())
        world.count(f"{counter}_cross_border", (c.approved & (c.corridor >= 0)).sum())
        world.count(f"{counter}_refused", c.refused.sum())
    world.count("friction_cost", c.cost[c.approved].sum())
    return c
