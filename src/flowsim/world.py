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

from flowsim.channels import Hold
from flowsim.flows import FlowLedger
from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, FIELDS, ZONES, Geography, load_geography
from flowsim.gravity import gravity, manufacturing_access
from flowsim.outputs import COUNTERS
from flowsim.policy import (
    FrictionTables,
    RuleSet,
    compile_policy,
    compile_rules,
    fresh_quota,
    fresh_rule_quota,
    rule_border_weights,
)
from flowsim.pools import Pools
from flowsim.populations import Population
from flowsim.streams import make_streams
from flowsim.tally import CityTally
from flowsim.whitelists import list_members  # noqa: I001

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
    researcher_pools: Pools
    researcher_counts: np.ndarray
    firm_pools: Pools
    firm_city_pools: Pools
    lab_pools: Pools
    lab_city_pools: Pools
    investor_pools: Pools

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
        self.set_policy(params)
        self.refill_quotas()

    def set_policy(self, params: Scenario) -> None:
        """Compile the border rules and every table derived from them, from ``params``.

        The one place where a scenario's policy becomes arrays: the friction tables, the
        expected border deterrence of each element, the talent kernels, manufacturing
        access, grant portability and guidance leverage. ``World.__init__`` calls it with
        the run's scenario; a model that changes the rules in force mid-run (a policy that
        starts on a date) calls it again with the scenario whose rules now apply. It
        reads only policy-dependent parts of ``params`` and the world's fixed figures, so
        calling it twice with the same scenario changes nothing.
        """
        self.policy_params = params
        hold = self.hold
        geo, n = self.geo, len(CITIES)
        travel = geo.travel_minutes
        self.tables = compile_policy(params.policy, geo, self.scale)
        # the rules (zone overrides and policy.rules), least specific first; conflicts raise
        base = hold.baseline if hold is not None else params
        lists = {**base.policy.whitelists, **params.policy.whitelists}
        self.list_names = tuple(dict.fromkeys([*params.policy.whitelists, *lists]))
        self.rules = compile_rules(params.policy, geo, self.scale, self.list_names)
        det = params.deterrence
        # one border response per element: the expected deterrence of a crossing
        self.border = {
            name: rule_border_weights(self.tables, self.rules, e, geo, det.for_element(name))
            for e, name in enumerate(ELEMENTS)
        }
        # a channel held at baseline (flowsim explain) meets the baseline's friction
        self.baseline_tables = compile_policy(base.policy, geo, self.scale)
        self.baseline_rules = compile_rules(base.policy, geo, self.scale, self.list_names)
        self.baseline_border = {
            name: rule_border_weights(
                self.baseline_tables,
                self.baseline_rules,
                e,
                geo,
                base.deterrence.for_element(name),
            )
            for e, name in enumerate(ELEMENTS)
        }
        self.whitelists = lists
        self.assign_lists()
        if hasattr(self, "rule_quota_left") and self.rule_quota_left.size != len(self.rules.quota):
            self.refill_rule_quotas()
        talent_border = self.border_for("job_move", "talent")
        self.capital_border = self.border_for("vc_round", "capital")
        tp = params.talent
        self.move_kernel = np.exp(-travel / tp.distance_decay_minutes)[None] * talent_border
        self.visit_weights = gravity(
            self.city_mass, travel, tp.distance_decay_minutes, talent_border
        )
        self.visit_weights *= (1.0 - np.eye(n))[None]
        self.manufacturing_access = manufacturing_access(
            geo.figures["manufacturing_capacity"], travel, talent_border
        )
        # grant portability per (zone slot, corridor): a zone's override applies only on
        # the corridors the zone covers (slot 0 = outside every zone)
        grants = base if "grant" in self.held else params
        self.grant_portability = np.full(
            (len(ZONES) + 1, len(CORRIDORS)), grants.research.grant_portability
        )
        for z, zone in enumerate(ZONES):
            override = getattr(grants.policy.zones, zone).grant_portability
            if override is not None:
                self.grant_portability[z + 1, geo.zone_corridors[z]] = override
        leverage = base if "guidance_coinvestment" in self.held else params
        self.guidance_leverage = np.asarray(leverage.capital.guidance_leverage.as_array())

    def assign_lists(self) -> None:
        """Whitelist membership (a bit per list) of each lab and firm; None with no list.

        Needs the agents: :func:`flowsim.setup.build_world` calls it once they are drawn.
        """
        if self.list_names and hasattr(self, "labs") and hasattr(self, "firms"):
            self.lab_lists, self.firm_lists = list_members(self, self.whitelists, self.list_names)
        else:
            self.lab_lists = self.firm_lists = None

    def tables_for(self, chan: str):
        """Friction tables a flow of channel ``chan`` meets (the baseline's if held)."""
        return self.baseline_tables if chan in self.held else self.tables

    def rules_for(self, chan: str) -> tuple[FrictionTables, RuleSet, np.ndarray]:
        """Tables, compiled rules and rule quotas left for channel ``chan`` (baseline's if held)."""
        if chan in self.held:
            return self.baseline_tables, self.baseline_rules, self.baseline_rule_quota_left
        return self.tables, self.rules, self.rule_quota_left

    def refill_quotas(self) -> None:
        """This month's quotas: the tables' pools, then each rule's, from the quota stream."""
        # quotas are rounded from a stream of their own, so that a quota that binds
        # nothing leaves every mechanism's draws as they were
        self.quota_left = fresh_quota(self.tables, self.rngs["quota"])
        self.refill_rule_quotas()

    def refill_rule_quotas(self) -> None:
        """The rules' quotas (drawn only where a rule of ``policy.rules`` sets one)."""
        self.rule_quota_left = fresh_rule_quota(self.rules, self.rngs["quota"])
        self.baseline_rule_quota_left = (
            fresh_rule_quota(self.baseline_rules, self.rngs["quota"])
            if self.held
            else self.rule_quota_left
        )

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

    def begin_step(self) -> None:
        """Reset counters and quotas, rebuild the pools from the current state."""
        for k in self.counters:
            self.counters[k] = 0.0
        self.refill_quotas()
        self.refresh_pools()

    def refresh_pools(self) -> None:
        """Group agents by city (and field) for drawing partners."""
        R, F, L = self.researchers, self.firms, self.labs
        nf = self.n_fields
        # small integer keys, built in place: the pools radix-sort them (see flowsim.pools);
        # researchers with a move under way are left out, found from talent's event list
        key = R.city.astype(np.int16)
        key *= nf
        key += R.field
        key[self.pending_moves] = -1
        self.researcher_pools = Pools(key, len(CITIES) * nf)
        self.researcher_counts = self.researcher_pools.counts.reshape(len(CITIES), nf)
        alive = F.alive
        size = F.staff.astype(np.float64) + 1.0
        firm_key = np.where(alive, F.city.astype(np.int16) * np.int16(nf) + F.sector, np.int16(-1))
        # firms hire (and license) in proportion to their size: growth begets growth
        self.firm_pools = Pools(firm_key, len(CITIES) * nf, weights=size)
        self.firm_city_pools = Pools(
            np.where(alive, F.city, np.int8(-1)), len(CITIES), weights=size
        )
        lab_key = L.city.astype(np.int16) * np.int16(nf) + L.field
        self.lab_pools = Pools(lab_key, len(CITIES) * nf, weights=L.budget)
        self.lab_city_pools = Pools(L.city, len(CITIES), weights=L.budget)
        self.refresh_investor_pools()

    def refresh_investor_pools(self) -> None:
        """Investors by city, weighted by dry powder."""
        inv = self.investors
        self.investor_pools = Pools(inv.city, len(CITIES), weights=np.maximum(inv.held, 0.0))
