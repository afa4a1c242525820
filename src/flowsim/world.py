"""The simulated world: a container of agent tables, compiled policy, streams and counters.

The world holds what a step reads and writes: the agent tables (filled by
:func:`flowsim.setup.build_world`), the compiled friction tables and the matrices
that depend on the policy, the population's field mixes, the random streams, the
partner pools (rebuilt by :meth:`World.refresh_pools`), the flow ledger, the by-city
tally and the step's counters. Each mechanism's own tables and month-to-month memory
(talent's pending moves, capital's investment history, the knowledge stocks, ...) are
declared by that mechanism (its ``MEMORY``) and set by its ``init``
(:data:`flowsim.assembly.MEMORY_OWNERS` says whose each is), not here. What acts on
the world lives elsewhere, as functions taking it: the shared tools
(:mod:`flowsim.employment`, :mod:`flowsim.firms`, :func:`flowsim.policy.cross_border`,
:func:`flowsim.gravity.choose_capital_city`, :func:`flowsim.tally.gauges`) and, above
them, the mechanisms. The world imports shared tools (gravity, pools, border
control) and never a mechanism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim import regime
from flowsim.channels import Hold
from flowsim.flows import FlowLedger
from flowsim.geography import CITIES, FIELDS, Geography, load_geography
from flowsim.outputs import COUNTERS
from flowsim.pools import Pools, Regrouping, keys_where
from flowsim.populations import Population
from flowsim.streams import make_streams
from flowsim.tally import CityTally

if TYPE_CHECKING:
    from flowsim.params import Scenario  # above the mechanisms: type hints only

TALENT, CAPITAL = 0, 1


def field_mix(geo: Geography, multipliers: np.ndarray, kind: str) -> np.ndarray:
    """Each city's share of each field for ``kind`` (labs or firms).

    The data's mix times the scenario's field multipliers, renormalised per city;
    shape (cities, fields).
    """
    mix = geo.field_mix[kind] * np.asarray(multipliers, dtype=np.float64)[None, :]
    total = mix.sum(axis=1, keepdims=True)
    if (total <= 0).any():
        raise ValueError(
            "population.field_multipliers leave some city with no field at all; "
            "keep at least one field above zero"
        )
    return mix / total


class World:
    """Everything a step reads and writes. Built by :func:`flowsim.setup.build_world`.

    Besides what ``__init__`` sets, the world holds the agent tables (set by
    :func:`flowsim.setup.build_world`), the partner pools (:meth:`refresh_pools`) and
    each mechanism's declared memory (set by its ``init``).
    """

    researchers: Population
    labs: Population
    firms: Population
    investors: Population
    deals: Population
    projects: Population
    developments: Population
    researcher_pools: Regrouping
    firm_pools: Pools
    firm_city_pools: Pools
    lab_pools: Pools
    lab_city_pools: Pools
    investor_pools: Pools
    pct_residual: np.ndarray
    """Multiplier of the synthetic firms' mean PCT propensity per jurisdiction: what keeps
    each jurisdiction's expected filings once the named anchors file theirs (set by
    :func:`flowsim.setup.build_world`, :func:`flowsim.anchors.pct_propensities`)."""

    def __init__(
        self,
        params: Scenario,
        seed: int,
        geo: Geography | None = None,
        hold: Hold | None = None,
    ):
        self.params = params
        self.hold = hold
        self.held = hold.flow_channels if hold is not None else frozenset()
        self.seed = int(seed)
        self.geo = geo or load_geography()
        self.scale = params.scale
        self.n_fields = len(FIELDS)
        self.rngs = make_streams(self.seed)
        self.ledger = FlowLedger()
        self.tally = CityTally()
        self.counters = dict.fromkeys(COUNTERS, 0.0)
        geo = self.geo
        mult = np.asarray(params.population.field_multipliers.as_array())
        self.lab_mix = field_mix(geo, mult, "labs")
        self.firm_mix = field_mix(geo, mult, "firms")
        public = geo.figures["public_research_share"][:, None]
        mix = public * self.lab_mix + (1 - public) * self.firm_mix
        city_mass = geo.figures["researchers"] * np.asarray(
            params.population.city_multipliers.as_array()
        )
        # researchers by (city, field), real-world expected figures
        self.expected_researchers = city_mass[:, None] * mix
        self.city_mass = city_mass / city_mass.sum()
        self.public_share = geo.figures["public_research_share"]
        self.phase = None  # a policy's phase-in under way (flowsim.regime.Phase)
        regime.set_policy(self, params)
        regime.refill_quotas(self)

    def tables_for(self, chan: str):
        """Friction tables a flow of channel ``chan`` meets (the baseline's if held)."""
        return self.baseline_tables if chan in self.held else self.tables

    def border_for(self, chan: str, element: str) -> np.ndarray:
        """Expected border deterrence of ``element`` for channel ``chan`` (baseline's if held)."""
        return (self.baseline_border if chan in self.held else self.border)[element]

    # ------------------------------------------------------------------ bookkeeping

    def count(self, name: str, value: float) -> None:
        """Add to this step's counter ``name`` (model units)."""
        self.counters[name] += float(value)

    def count_by(
        self,
        name: str,
        city: np.ndarray,
        field: np.ndarray | int,
        weights: np.ndarray | None = None,
    ) -> None:
        """Add to counter ``name`` and to its tally at each (city, field) (model units).

        ``weights`` default to 1 per entry; the counter grows by their sum.
        """
        city = np.asarray(city)
        self.count(name, city.size if weights is None else np.sum(weights))
        self.tally.add(name, city, field, weights)

    def begin_step(self, month: int) -> None:
        """Start simulated month ``month``: its streams, zero counters, quotas and fresh pools.

        Each mechanism's stream is derived from the run's seed, its name and the month
        (:func:`flowsim.streams.make_streams`), so a lever that changes how many draws a
        mechanism makes one month leaves its later months' draws where they were.
        """
        self.rngs = make_streams(self.seed, month=month)
        for k in self.counters:
            self.counters[k] = 0.0
        regime.refill_quotas(self)
        self.refresh_pools()

    def refresh_pools(self) -> None:
        """Group agents by city (and field) for drawing partners."""
        R, F, L = self.researchers, self.firms, self.labs
        nf = self.n_fields
        # small integer keys, built in place: the pools radix-sort them (see flowsim.pools);
        # researchers with a move under way or away from the region (CN, ROW) are left out,
        # found from talent's event lists. Unsigned 8-bit keys where they fit (the pools sort
        # those without another copy): 255, above every key, is "left out" as -1 is
        byte = len(CITIES) * nf < 255
        key = R.city.astype(np.uint8 if byte else np.int16)
        key *= nf
        np.add(key, R.field, out=key, casting="unsafe")  # fields are non-negative
        key[self.pending_moves] = 255 if byte else -1
        key[self.away_rows] = 255 if byte else -1
        # most rows keep their key from one month to the next: regrouped, not re-sorted, on
        # a helper thread while talent's step goes on (it reads only this key array and the
        # last pools); the first use (research's partners) waits for it
        self.researcher_pools = Regrouping.start(
            key, len(CITIES) * nf, getattr(self, "researcher_pools", None)
        )
        alive = F.alive
        size = F.staff.astype(np.float64) + 1.0
        firm_key = keys_where(alive, F.city.astype(np.int16) * np.int16(nf) + F.sector, np.int16)
        # firms hire (and license) in proportion to their size: growth begets growth
        self.firm_pools = Pools(firm_key, len(CITIES) * nf, weights=size)
        self.firm_city_pools = Pools(keys_where(alive, F.city), len(CITIES), weights=size)
        lab_key = L.city.astype(np.int16) * np.int16(nf) + L.field
        self.lab_pools = Pools(lab_key, len(CITIES) * nf, weights=L.budget)
        self.lab_city_pools = Pools(L.city, len(CITIES), weights=L.budget)
        self.refresh_investor_pools()

    def refresh_investor_pools(self) -> None:
        """Investors by city, weighted by dry powder."""
        inv = self.investors
        self.investor_pools = Pools(inv.city, len(CITIES), weights=np.maximum(inv.held, 0.0))
