"""The simulated world: populations, compiled policy, random streams and shared matrices.

:func:`build_world` draws the initial agents from the city figures and each city's
field mix times the scale. The mechanisms read and update a :class:`World`; the
model owns one. The world is a container: it imports shared tools (gravity,
pools, border control, knowledge) and never a mechanism.
"""

from __future__ import annotations

import numpy as np

from flowsim.channels import Hold
from flowsim.flows import FlowLedger, channel
from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, FIELDS, ZONES, Geography, load_geography
from flowsim.gravity import balanced_mass, gravity, manufacturing_access
from flowsim.knowledge import KnowledgeStock, learned_outside, spillover_weights
from flowsim.outputs import COUNTERS
from flowsim.params import Policy, Scenario
from flowsim.policy import Crossing, border_weights, compile_policy, cross, fresh_quota
from flowsim.pools import Pools, choose_rows
from flowsim.populations import (
    DEAL_COLUMNS,
    DEVELOPMENT_COLUMNS,
    FIRM_COLUMNS,
    INVESTOR_COLUMNS,
    LAB_COLUMNS,
    PROJECT_COLUMNS,
    RESEARCHER_COLUMNS,
    Population,
    compact,
)
from flowsim.streams import make_streams, stochastic_round
from flowsim.tally import ANY_FIELD, BY_CITY_GAUGES, CityTally, city_field_counts

TALENT, CAPITAL = 0, 1
LAB, FIRM = 0, 1


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
    """Everything a step reads and writes. Built by :func:`build_world`."""

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
        self.tables = compile_policy(params.policy, self.geo, params.scale)
        self.quota_left = fresh_quota(self.tables, self.rngs["quota"])
        self.ledger = FlowLedger()
        self.tally = CityTally()
        self.counters = dict.fromkeys(COUNTERS, 0.0)
        # event list: rows of the researchers with a job move under way (arrive_step >= 0)
        self.pending_moves = np.zeros(0, dtype=np.int64)
        # the last 12 months of lab inventions (inflow, outflow, stock): for transfer.settle
        self.lab_inflow = 0.0
        self.lab_history: list[tuple[float, float, float]] = []
        # the last 24 months of the VC book at cost (added, written off, recorded deals'
        # book and whole book at the month's start): for capital.settle_book
        self.book_history: list[tuple[float, float, float, float]] = []
        # founding base of each city: its firms at the start (capital.found_startups)
        self.entry_base = np.zeros(len(CITIES), dtype=np.int64)
        rp = params.research
        self.data_need = np.asarray(rp.data_need.as_array())
        self.samples_need = np.asarray(rp.samples_need.as_array())
        geo, n = self.geo, len(CITIES)
        travel = geo.travel_minutes
        det = params.deterrence
        # one border response per element: the expected deterrence of a crossing
        self.border = {
            name: border_weights(self.tables, e, geo.corridor, det.for_element(name))
            for e, name in enumerate(ELEMENTS)
        }
        # a channel held at baseline (flowsim explain) meets the baseline's friction
        base = hold.baseline if hold is not None else params
        self.baseline_tables = compile_policy(base.policy, geo, params.scale)
        self.baseline_border = {
            name: border_weights(
                self.baseline_tables, e, geo.corridor, base.deterrence.for_element(name)
            )
            for e, name in enumerate(ELEMENTS)
        }
        talent_border = self.border_for("job_move", "talent")
        self.capital_border = self.border_for("vc_round", "capital")
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
        mass = city_mass / city_mass.sum()
        tp = params.talent
        # amenity: each city's pull for job moves in each field, balanced once under the
        # *baseline* friction so the baseline keeps its shares; a policy's friction and
        # changes in opportunity then move researchers (no share-keeping under policy)
        baseline_tables = compile_policy(Policy(), geo, params.scale)
        baseline_border = border_weights(baseline_tables, TALENT, geo.corridor, det.talent)
        kernel = np.exp(-travel / tp.distance_decay_minutes) * baseline_border[0]
        field_share = self.expected_researchers / self.expected_researchers.sum(axis=0)
        self.move_amenity = np.stack(
            [balanced_mass(field_share[:, f], kernel) for f in range(self.n_fields)]
        )
        self.move_kernel = np.exp(-travel / tp.distance_decay_minutes)[None] * talent_border
        self.visit_weights = gravity(mass, travel, tp.distance_decay_minutes, talent_border)
        self.visit_weights *= (1.0 - np.eye(n))[None]
        # candidate partners: researchers of the field, by travel time, own city favoured
        own = 1.0 + (rp.same_city_factor - 1.0) * np.eye(n)
        fmass = self.expected_researchers.T  # (fields, cities)
        self.collab_weights = (
            fmass[:, None, :] * (np.exp(-travel / rp.collab_decay_minutes) * own)[None]
        ).reshape(self.n_fields * n, n)
        # input sources: research mass by travel time, within each jurisdiction
        jur = geo.city_jurisdiction
        src = mass[None, :] * np.exp(-travel / rp.input_decay_minutes)
        self.source_weights = np.stack(
            [np.where(jur[None, :] == j, src, 0.0) for j in range(3)]
        )  # (jurisdiction, origin, source)
        self.manufacturing_access = manufacturing_access(
            geo.figures["manufacturing_capacity"], travel, talent_border
        )
        self.public_share = geo.figures["public_research_share"]
        kp = params.knowledge
        self.knowledge_weights = spillover_weights(
            geo.distance_km(), jur, kp.halving_km, kp.outside_city, kp.outside_jurisdiction
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
                self.grant_portability[z + 1, self.geo.zone_corridors[z]] = override
        leverage = base if "guidance_coinvestment" in self.held else params
        self.guidance_leverage = np.asarray(leverage.capital.guidance_leverage.as_array())

    def tables_for(self, chan: str):
        """Friction tables a flow of channel ``chan`` meets (the baseline's if held)."""
        return self.baseline_tables if chan in self.held else self.tables

    def border_for(self, chan: str, element: str) -> np.ndarray:
        """Expected border deterrence of ``element`` for channel ``chan`` (baseline's if held)."""
        return (self.baseline_border if chan in self.held else self.border)[element]

    def move_weights(self) -> np.ndarray:
        """Pull of each destination for job moves, shape (zone slots x fields x origin, dest).

        amenity[f, d] x productivity[d, f] ** opportunity_elasticity x exp(-time/decay) x
        talent border weight: researchers move toward where their field is more productive.
        """
        opportunity = self.knowledge.productivity().T ** self.params.talent.opportunity_elasticity
        pull = self.move_amenity * opportunity  # (fields, dest)
        w = self.move_kernel[:, None, :, :] * pull[None, :, None, :]
        return w.reshape(-1, len(CITIES))

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
        # quotas are rounded from a stream of their own, so that a quota that binds
        # nothing leaves every mechanism's draws as they were
        self.quota_left = fresh_quota(self.tables, self.rngs["quota"])
        self.refresh_pools()

    def refresh_pools(self) -> None:
        """Group agents by city (and field) for drawing partners."""
        R, F, L = self.researchers, self.firms, self.labs
        nf = self.n_fields
        # small integer keys, built in place: the pools radix-sort them (see flowsim.pools);
        # researchers with a move under way are left out, found from the event list
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

    def cross_border(
        self,
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
            self.tables_for(chan),
            self.geo.corridor,
            self.quota_left,
            rng,
        )
        self.ledger.record(channel(chan), origin, destination, c.approved, volume, c.delay_days)
        if counter is not None:
            self.count(counter, c.approved.sum())
            self.count(f"{counter}_cross_border", (c.approved & (c.corridor >= 0)).sum())
            self.count(f"{counter}_refused", c.refused.sum())
        self.count("friction_cost", c.cost[c.approved].sum())
        return c

    # ------------------------------------------------------------------ partner choice

    def choose_capital_city(
        self, origin: np.ndarray, zone: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """City of the counterpart of a capital flow, by gravity on investors' dry powder.

        Used by firms looking for investors and labs looking for licensees.
        """
        p = self.params
        held = np.bincount(
            self.investors.city, weights=np.maximum(self.investors.held, 0.0), minlength=len(CITIES)
        )
        base = gravity(
            held, self.geo.travel_minutes, p.capital.distance_decay_minutes, self.capital_border
        )
        base = base * (1.0 + p.capital.home_bias * np.eye(len(CITIES)))[None]
        slots, n, _ = base.shape
        rows = (np.asarray(zone, dtype=np.int64) + 1) * n + np.asarray(origin, dtype=np.int64)
        return choose_rows(base.reshape(slots * n, n), rows, rng)

    def pick_employers(
        self,
        city: np.ndarray,
        field: np.ndarray,
        rng: np.random.Generator,
        firms_only: bool = False,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A new employer in each city: a lab with the city's public-research share, else a firm.

        The employer works in the researcher's field where the city has one (labs by
        budget, firms by size), else any employer of that kind in the city. With
        ``firms_only`` (researchers of a failed firm) the employer is another firm, so
        that failures do not shift researchers from industry into labs; a lab only where
        the city has no firm left. Returns (employer kind, employer row or -1 if the city
        has none, employer zone).
        """
        city = np.asarray(city, dtype=np.int64)
        field = np.asarray(field, dtype=np.int64)
        n = city.size
        lab_share = 0.0 if firms_only else self.public_share[np.maximum(city, 0)]
        kind = np.where(rng.random(n) < lab_share, LAB, FIRM)
        key = np.maximum(city, 0) * self.n_fields + field
        employer = np.full(n, -1, dtype=np.int64)
        lab = kind == LAB
        employer[lab] = self.lab_pools.sample(key[lab], rng)
        employer[~lab] = self.firm_pools.sample(key[~lab], rng)
        # no employer of the field: any of the kind in the city, then the other kind
        for pools, want in ((self.lab_city_pools, LAB), (self.firm_city_pools, FIRM)):
            m = (kind == want) & (employer < 0)
            employer[m] = pools.sample(city[m], rng)
        missing_lab = lab & (employer < 0)
        employer[missing_lab] = self.firm_city_pools.sample(city[missing_lab], rng)
        kind[missing_lab] = FIRM
        missing_firm = ~lab & (employer < 0)
        employer[missing_firm] = self.lab_city_pools.sample(city[missing_firm], rng)
        kind[missing_firm] = LAB
        employer[city < 0] = -1
        zone = np.full(n, -1, dtype=np.int64)
        ok = employer >= 0
        zone[ok & (kind == LAB)] = self.labs.zone[employer[ok & (kind == LAB)]]
        zone[ok & (kind == FIRM)] = self.firms.zone[employer[ok & (kind == FIRM)]]
        return kind, employer, zone

    # ------------------------------------------------------------------ state changes

    def add_staff(self, kind: np.ndarray, employer: np.ndarray) -> None:
        """Count researchers joining employers."""
        self.labs.staff[:] += np.bincount(employer[kind == LAB], minlength=self.labs.n).astype(
            np.int32
        )
        self.firms.staff[:] += np.bincount(employer[kind == FIRM], minlength=self.firms.n).astype(
            np.int32
        )

    def remove_staff(self, kind: np.ndarray, employer: np.ndarray) -> None:
        """Count researchers leaving employers."""
        self.labs.staff[:] -= np.bincount(employer[kind == LAB], minlength=self.labs.n).astype(
            np.int32
        )
        self.firms.staff[:] -= np.bincount(employer[kind == FIRM], minlength=self.firms.n).astype(
            np.int32
        )

    def rehome_researchers(self, rng: np.random.Generator) -> None:
        """Researchers of failed firms (or heading to one) join another firm in their city."""
        R, F = self.researchers, self.firms
        size = F.staff.astype(np.float64) + 1.0
        self.firm_city_pools = Pools(
            np.where(F.alive, F.city, np.int8(-1)), len(CITIES), weights=size
        )
        nf = self.n_fields
        key = np.where(F.alive, F.city.astype(np.int16) * np.int16(nf) + F.sector, np.int16(-1))
        self.firm_pools = Pools(key, len(CITIES) * nf, weights=size)
        orphan = np.zeros(0, dtype=np.int64)
        # staff counts tell, without a scan, whether a failed firm still has researchers
        if F.staff[~F.alive].any():
            orphan = np.flatnonzero((R.employer_kind == FIRM) & ~F.alive[R.employer])
        if orphan.size:
            self.remove_staff(R.employer_kind[orphan], R.employer[orphan])
            kind, employer, zone = self.pick_employers(
                R.city[orphan], R.field[orphan], rng, firms_only=True
            )
            # nowhere to go in the city (tiny scales): stay with the failed firm's row
            stay = employer < 0
            kind[stay], employer[stay] = FIRM, R.employer[orphan[stay]]
            zone[stay] = R.zone[orphan[stay]]
            R.employer_kind[orphan] = kind
            R.employer[orphan] = employer
            R.zone[orphan] = zone
            self.add_staff(kind, employer)
        pending = np.sort(self.pending_moves)
        pending = pending[R.dest_employer_kind[pending] == FIRM]
        pending = pending[~F.alive[R.dest_employer[pending]]]
        if pending.size:
            kind, employer, zone = self.pick_employers(
                R.dest_city[pending], R.field[pending], rng, firms_only=True
            )
            ok = employer >= 0
            R.dest_employer_kind[pending[ok]] = kind[ok]
            R.dest_employer[pending[ok]] = employer[ok]
            R.dest_zone[pending[ok]] = zone[ok]

    def new_firms(
        self,
        city: np.ndarray,
        zone: np.ndarray,
        sector: np.ndarray,
        t: int,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Found start-ups; returns their rows. Their PCT propensity is drawn from ``rng``."""
        pp = self.params.population
        k = np.asarray(city).size
        sig = pp.pct_propensity_sigma
        ids = self.firms.add(
            k,
            city=city,
            zone=zone,
            sector=sector,
            stage=0,
            alive=True,
            cash=0.5,
            born_step=t,
            pct_propensity=np.exp(sig * rng.standard_normal(k) - 0.5 * sig**2),
        )
        self.count_by("startups", city, sector)
        return ids

    def new_developments(self, firm: np.ndarray, t: int) -> None:
        """Open development projects at the given firms (one per entry).

        Costs are commercialization's draws, one per entry whether or not the firm is
        still alive, so that the number of draws never depends on which firms failed.
        """
        firm = np.asarray(firm, dtype=np.int64)
        if firm.size == 0:
            return
        p = self.params.commercialization
        rng = self.rngs["commercialization"]
        cost = p.cost_mean * np.exp(0.8 * rng.standard_normal(firm.size) - 0.32)
        alive = self.firms.alive[firm]
        firm, cost = firm[alive], cost[alive]
        if firm.size == 0:
            return
        self.developments.add(
            firm.size, firm=firm, cost=cost, funded=False, created_step=t, end_step=-1
        )
        F = self.firms
        self.count_by("developments_started", F.city[firm], F.sector[firm])

    def firms_waiting_for_capital(self) -> np.ndarray:
        """Boolean per firm: it has a development project waiting for money."""
        D = self.developments
        waiting = D.active & ~D.funded
        return np.bincount(D.firm[waiting], minlength=self.firms.n)[: self.firms.n] > 0

    def compact_developments(self) -> None:
        """Drop finished development rows once they are most of the table."""
        D = self.developments
        if D.n > 1024 and D.active.sum() < D.n // 2:
            compact(D, D.active.copy())

    # ------------------------------------------------------------------ reporting

    def city_stocks(self) -> np.ndarray:
        """Stocks of :data:`flowsim.tally.BY_CITY_GAUGES` by (city, field), model units."""
        R, L, F, inv = self.researchers, self.labs, self.firms, self.investors
        alive = F.alive
        start = alive & (F.stage == 0)
        stocks = {
            "researchers": city_field_counts(R.city, R.field),
            "labs": city_field_counts(L.city, L.field),
            "firms_alive": city_field_counts(F.city[alive], F.sector[alive]),
            "startups_alive": city_field_counts(F.city[start], F.sector[start]),
            "lab_invention_stock": city_field_counts(
                L.city, L.field, L.inventions.astype(np.float64)
            ),
            "capital_held": city_field_counts(inv.city, ANY_FIELD, inv.held),
            "capital_invested": city_field_counts(inv.city, ANY_FIELD, inv.invested),
            "knowledge_stock": np.concatenate(
                [self.knowledge.stock, np.zeros((len(CITIES), 1))], axis=1
            ),
        }
        return np.stack([stocks[name] for name in BY_CITY_GAUGES])

    def gauges(self) -> dict[str, float]:
        """Stocks at the end of the step, real-world units."""
        F, inv = self.firms, self.investors
        s = self.scale
        K = self.knowledge
        out_city, out_jur, _, _ = learned_outside(K.weights, K.stock, self.geo.city_jurisdiction)
        return {
            "researchers": self.researchers.n / s,
            "labs": self.labs.n / s,
            "firms_alive": F.alive.sum() / s,
            "startups_alive": (F.alive & (F.stage == 0)).sum() / s,
            "projects_active": self.projects.active.sum() / s,
            "developments_active": self.developments.active.sum() / s,
            "lab_invention_stock": self.labs.inventions.sum() / s,
            "capital_raised": inv.raised.sum() / s,
            "capital_held": inv.held.sum() / s,
            "capital_invested": inv.invested.sum() / s,
            "capital_written_off": inv.written_off.sum() / s,
            "capital_realised": inv.realised.sum() / s,
            "knowledge_stock": K.stock.sum() / s,
            "knowledge_productivity": float(
                (K.productivity() * K.stock).sum() / max(K.stock.sum(), 1e-12)
            ),
            "knowledge_outside_city_share": out_city,
            "knowledge_outside_jurisdiction_share": out_jur,
        }


def _split_by_city(real: np.ndarray, scale: float, rng: np.random.Generator) -> np.ndarray:
    return stochastic_round(np.asarray(real, dtype=np.float64) * scale, rng)


def _zones_for(city: np.ndarray, geo: Geography, rng: np.random.Generator) -> np.ndarray:
    """Zone of each agent: in each zone's city, a share ``zone_population_share`` is in the zone."""
    zone = np.full(city.size, -1, dtype=np.int8)
    u = rng.random(city.size)
    for z, zc in enumerate(geo.zone_city):
        share = geo.zone_population_share[z]
        inside = (city == zc) & (zone < 0) & (u < share)
        zone[inside] = z
        u = np.where(city == zc, u - share, u)
    return zone


def _draw_fields(city: np.ndarray, mix: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A field for each agent from its city's field mix (one uniform draw per agent)."""
    cum = np.cumsum(mix, axis=1)
    u = rng.random(city.size)
    field = (u[:, None] >= cum[city.astype(np.int64)]).sum(axis=1)
    return np.minimum(field, mix.shape[1] - 1).astype(np.int8)


def build_world(params: Scenario, seed: int, hold: Hold | None = None) -> World:
    """Draw the initial agents from the city figures and field mixes times ``params.scale``."""
    w = World(params, seed, hold=hold)
    geo, rng, s = w.geo, w.rngs["population"], params.scale
    pp = params.population
    n_cities = len(CITIES)
    # population.city_multipliers scales a city's counts and R&D spending, never its shares
    multiplier = np.asarray(pp.city_multipliers.as_array())
    fig = {
        k: v * multiplier if k in ("researchers", "firms", "fund_managers", "gerd") else v
        for k, v in geo.figures.items()
    }

    researchers_by_city = _split_by_city(fig["researchers"], s, rng)
    public = rng.binomial(researchers_by_city, fig["public_research_share"])
    labs_by_city = _split_by_city(
        fig["researchers"] * fig["public_research_share"] / pp.researchers_per_lab, s, rng
    )
    labs_by_city = np.where(public > 0, np.maximum(labs_by_city, 1), labs_by_city)
    firms_by_city = _split_by_city(fig["firms"], s, rng)
    firms_by_city = np.where(
        researchers_by_city - public > 0, np.maximum(firms_by_city, 1), firms_by_city
    )
    investors_by_city = _split_by_city(fig["fund_managers"], s, rng)

    # labs: field from the city's lab mix
    lab_city = np.repeat(np.arange(n_cities), labs_by_city).astype(np.int8)
    lab_budget = (
        fig["gerd"] * 100.0 * fig["public_research_share"] / np.maximum(labs_by_city / s, 1.0)
    )
    w.labs = Population("labs", LAB_COLUMNS, lab_city.size)
    L = w.labs
    L.city[:] = lab_city
    L.zone[:] = _zones_for(lab_city, geo, rng)
    L.field[:] = _draw_fields(lab_city, w.lab_mix, rng)
    L.budget[:] = lab_budget[lab_city] * np.exp(0.5 * rng.standard_normal(L.n) - 0.125)
    L.ownership[:] = rng.random(L.n) < params.transfer.researcher_ownership

    # firms (room for the start-ups to come, so appends rarely reallocate): sector from the
    # city's firm mix, a heavy-tailed size weight, a PCT propensity and an age
    firm_city = np.repeat(np.arange(n_cities), firms_by_city).astype(np.int8)
    w.firms = Population("firms", FIRM_COLUMNS, firm_city.size, capacity=2 * firm_city.size + 16)
    F = w.firms
    F.city[:] = firm_city
    F.zone[:] = _zones_for(firm_city, geo, rng)
    F.sector[:] = _draw_fields(firm_city, w.firm_mix, rng)
    F.stage[:] = np.where(rng.random(F.n) < fig["startup_share"][firm_city], 0, 1)
    F.cash[:] = rng.exponential(pp.firm_cash_mean, F.n) if pp.firm_cash_mean > 0 else 0.0
    w.entry_base = np.bincount(firm_city.astype(np.int64), minlength=n_cities)
    sig = pp.pct_propensity_sigma
    F.pct_propensity[:] = np.exp(sig * rng.standard_normal(F.n) - 0.5 * sig**2)
    # ages: start-ups young, growth firms older (exponential, assumption)
    age = rng.exponential(pp.firm_age_mean_months, F.n) * np.where(F.stage == 0, 0.3, 1.0)
    F.born_step[:] = -np.minimum(age, 30000).astype(np.int16)
    size_weight = (1.0 - rng.random(F.n)) ** (-1.0 / pp.firm_size_alpha)  # Pareto(alpha), min 1

    # researchers: employed by a lab (by budget) or a firm (by size weight) of their city
    n_res = int(researchers_by_city.sum())
    w.researchers = Population("researchers", RESEARCHER_COLUMNS, n_res)
    R = w.researchers
    R.city[:] = np.repeat(np.arange(n_cities), researchers_by_city)
    is_public = (
        np.concatenate([np.arange(k) < p for k, p in zip(researchers_by_city, public, strict=True)])
        if n_res
        else np.zeros(0, bool)
    )
    city = R.city.astype(np.int64)
    lab_pool = Pools(L.city, n_cities, weights=L.budget)
    firm_pool = Pools(F.city, n_cities, weights=size_weight)
    R.employer_kind[:] = np.where(is_public, LAB, FIRM)
    employer = np.zeros(n_res, dtype=np.int64)
    employer[is_public] = lab_pool.sample(city[is_public], rng)
    employer[~is_public] = firm_pool.sample(city[~is_public], rng)
    R.employer[:] = np.maximum(employer, 0)
    lab_rows = R.employer_kind == LAB
    R.zone[:] = np.where(
        lab_rows,
        L.zone[np.where(lab_rows, R.employer, 0)],
        F.zone[np.where(lab_rows, 0, R.employer)],
    )
    R.field[:] = np.where(
        lab_rows,
        L.field[np.where(lab_rows, R.employer, 0)],
        F.sector[np.where(lab_rows, 0, R.employer)],
    )
    sigma = pp.skill_sigma
    R.skill[:] = np.exp(sigma * rng.standard_normal(n_res) - 0.5 * sigma**2)
    w.add_staff(R.employer_kind.astype(np.int64), R.employer.astype(np.int64))
    # the collaboration network before the run: a prior partner of the same city and field
    key = city * len(FIELDS) + R.field.astype(np.int64)
    R.partner[:] = Pools(key, n_cities * len(FIELDS)).sample(key, rng)

    # knowledge: each (city, field) starts with per_researcher x the skill of its researchers
    skill = np.zeros((n_cities, len(FIELDS)))
    np.add.at(skill, (city, R.field.astype(np.int64)), R.skill.astype(np.float64))
    kp = params.knowledge
    w.knowledge = KnowledgeStock(
        kp.per_researcher * skill, w.knowledge_weights, kp.depreciation_per_year, kp.elasticity
    )
    if hold is not None and "knowledge" in hold.groups:
        w.knowledge.path = hold.knowledge_path

    # investors: fund sizes lognormal; dry powder = dry_powder_years of the region's
    # investment, the rest invested at cost
    inv_city = np.repeat(np.arange(n_cities), investors_by_city).astype(np.int8)
    w.investors = Population("investors", INVESTOR_COLUMNS, inv_city.size)
    inv = w.investors
    inv.city[:] = inv_city
    inv.zone[:] = _zones_for(inv_city, geo, rng)
    u = rng.random(inv.n)
    inv.investor_type[:] = np.where(u < pp.guidance_fund_share, 1, 0)
    size = pp.fund_size_mean * np.exp(
        pp.fund_size_sigma * rng.standard_normal(inv.n) - 0.5 * pp.fund_size_sigma**2
    )
    yearly = expected_yearly_investment(params, F)
    w.invested_history = [yearly / 12.0]
    held_share = np.clip(pp.dry_powder_years * yearly / max(size.sum(), 1e-9), 0.0, 1.0)
    inv.raised[:] = size
    inv.held[:] = size * held_share
    inv.invested[:] = size - inv.held

    w.deals = Population("deals", DEAL_COLUMNS, 0, capacity=1024)
    w.projects = Population("projects", PROJECT_COLUMNS, 0, capacity=max(1024, n_res // 8))
    w.developments = Population(
        "developments", DEVELOPMENT_COLUMNS, 0, capacity=max(1024, F.n // 4)
    )
    w.refresh_pools()
    return w


def expected_yearly_investment(params: Scenario, firms: Population) -> float:
    """Money the initial firms would raise in a year (model units, RMB m).

    At the seek rates, round sizes and base screening: the yardstick of
    ``population.dry_powder_years``.
    """
    cp = params.capital
    startups = float((firms.stage == 0).sum())
    growth = float(firms.n) - startups
    per_month = (
        startups * cp.seek_rate_startup * cp.round_size_startup
        + growth * cp.seek_rate_growth * cp.round_size_growth
    ) * cp.screening_base
    return 12.0 * per_month
