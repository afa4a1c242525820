"""The initial agents: drawn from the city figures and each city's field mix times the scale.

:func:`build_world` makes a :class:`~flowsim.world.World` and fills its agent
tables, whose columns it is given (:data:`flowsim.assembly.COLUMNS`: the core
columns of :mod:`flowsim.state` plus every mechanism's declared ``STATE``). A
column that the draw below does not set keeps its declared default. The
mechanisms' own tables and memory (their ``MEMORY``) are then set by their
``init``, which it is given too. This module imports no mechanism.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from flowsim import regime
from flowsim.anchors import Anchors, load_anchors, pct_propensities
from flowsim.channels import Hold
from flowsim.employment import FIRM, LAB, add_staff
from flowsim.firms import draw_fields
from flowsim.geography import CITIES, FIELDS, JURISDICTIONS, Geography
from flowsim.pools import Pools
from flowsim.populations import Population
from flowsim.state import Column, Memory, initialise
from flowsim.streams import stochastic_round
from flowsim.world import World

if TYPE_CHECKING:
    from flowsim.params import Scenario  # above the mechanisms: type hints only


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


def _anchor_staff(
    anchors: Anchors,
    multiplier: np.ndarray,
    scale: float,
    public: np.ndarray,
    private: np.ndarray,
) -> np.ndarray:
    """Researchers of each anchor (model units): staff x scale, at least 1, within the city.

    An anchor of a city whose ``population.city_multipliers`` entry is 0 has none. Where a
    city's anchors of one kind would outnumber its drawn researchers of that kind (tiny
    scales, small multipliers), they shrink in proportion, and those left with none are
    dropped.
    """
    mult = multiplier[anchors.city]
    want = np.where(mult > 0, np.maximum(1.0, np.rint(anchors.staff * mult * scale)), 0.0)
    n_cities = len(CITIES)
    room = np.where(anchors.kind == LAB, public[anchors.city], private[anchors.city])
    asked = np.zeros(anchors.staff.size)
    for kind in (LAB, FIRM):
        mine = anchors.kind == kind
        total = np.bincount(anchors.city[mine], want[mine], n_cities)
        asked[mine] = total[anchors.city[mine]]
    factor = np.minimum(1.0, room / np.maximum(asked, 1.0))
    return np.floor(want * factor).astype(np.int64)


def _anchor_employer(
    city: np.ndarray, rank: np.ndarray, anchor_city: np.ndarray, anchor_staff: np.ndarray
) -> np.ndarray:
    """Which anchor employs each researcher (pure core), -1 none.

    A city's researchers of rank 0, 1, ... (within the city and employer kind) fill its
    anchors in order, each up to its staff; the rest are left to the synthetic agents.
    Returns the anchor's position in ``anchor_city``.
    """
    if anchor_city.size == 0:
        return np.full(city.size, -1, dtype=np.int64)
    n = len(CITIES)
    stride = int(max(rank.max(initial=0), anchor_staff.sum())) + 1
    order = np.argsort(anchor_city, kind="stable")
    ac, staff = anchor_city[order].astype(np.int64), anchor_staff[order].astype(np.int64)
    first = np.concatenate(([0], np.cumsum(np.bincount(ac, minlength=n))[:-1]))[ac]
    cum = np.cumsum(staff)
    # the end (exclusive) of each anchor's ranks within its city, keyed by city
    end = ac * stride + cum - (cum - staff)[first]
    key = city.astype(np.int64) * stride + rank.astype(np.int64)
    pos = np.minimum(np.searchsorted(end, key, side="right"), ac.size - 1)
    ok = (ac[pos] == city) & (end[pos] > key)
    return np.where(ok, order[pos], -1)


def firm_invention_share(
    params: Scenario, firm_researchers: np.ndarray, lab_researchers: np.ndarray
) -> np.ndarray:
    """Share of the inventions made in firms, per jurisdiction, at the research rates.

    Projects a month times inventions a project, of firm and of lab researchers; the
    quality of their projects is taken to be the same on average.
    """
    rp = params.research
    firm = (
        np.asarray(firm_researchers, float) * rp.project_rate_firm * rp.inventions_per_project_firm
    )
    lab = np.asarray(lab_researchers, float) * rp.project_rate_lab * rp.inventions_per_project_lab
    return np.where(firm + lab > 0, firm / np.maximum(firm + lab, 1e-12), 1.0)


def build_world(
    params: Scenario,
    seed: int,
    columns: Mapping[str, Sequence[Column]],
    memories: Sequence[tuple[str, Sequence[Memory], Callable[[World], None]]] = (),
    hold: Hold | None = None,
) -> World:
    """Draw the initial agents from the city figures and field mixes times ``params.scale``.

    ``columns`` are the columns of each table by name (``"researchers"``, ``"labs"``,
    ``"firms"``, ``"investors"``, ``"deals"``, ``"projects"``, ``"developments"``).
    ``memories`` are (owner, declared ``MEMORY``, ``init``) of each mechanism, in step
    order: once the agents are drawn, each ``init(world)`` sets its declared memory
    (:func:`flowsim.state.initialise`).
    """
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

    anchors = load_anchors()
    researchers_by_city = _split_by_city(fig["researchers"], s, rng)
    public = rng.binomial(researchers_by_city, fig["public_research_share"])
    private = researchers_by_city - public
    # the named anchors: their staff times the scale (at least one researcher), within the
    # city's drawn researchers of their kind; the synthetic agents fill the rest
    a_staff = _anchor_staff(anchors, multiplier, s, public, private)
    present = a_staff > 0
    a_lab = np.flatnonzero(present & (anchors.kind == LAB))
    a_firm = np.flatnonzero(present & (anchors.kind == FIRM))
    lab_anchor_staff = np.bincount(anchors.city[a_lab], a_staff[a_lab], n_cities)
    firm_anchor_staff = np.bincount(anchors.city[a_firm], a_staff[a_firm], n_cities)
    real_lab_staff = np.bincount(
        anchors.city[a_lab], anchors.staff[a_lab] * multiplier[anchors.city[a_lab]], n_cities
    )
    public_synth = public - lab_anchor_staff.astype(np.int64)
    private_synth = private - firm_anchor_staff.astype(np.int64)
    labs_by_city = _split_by_city(
        np.maximum(fig["researchers"] * fig["public_research_share"] - real_lab_staff, 0.0)
        / pp.researchers_per_lab,
        s,
        rng,
    )
    labs_by_city = np.where(public_synth > 0, np.maximum(labs_by_city, 1), labs_by_city)
    firms_by_city = _split_by_city(
        np.maximum(fig["firms"] - np.bincount(anchors.city[a_firm], None, n_cities), 0.0),
        s,
        rng,
    )
    firms_by_city = np.where(private_synth > 0, np.maximum(firms_by_city, 1), firms_by_city)
    investors_by_city = _split_by_city(fig["fund_managers"], s, rng)

    # labs: the anchors first, then the synthetic labs, field from the city's lab mix; a
    # city's public R&D spending shared by its labs, an anchor's in proportion to its staff
    lab_city = np.concatenate(
        [anchors.city[a_lab], np.repeat(np.arange(n_cities), labs_by_city)]
    ).astype(np.int8)
    per_lab = (
        fig["gerd"]
        * 100.0
        * fig["public_spending_share"]
        / np.maximum(labs_by_city / s + real_lab_staff / pp.researchers_per_lab, 1.0)
    )
    w.labs = Population("labs", columns["labs"], lab_city.size)
    L = w.labs
    k_lab = a_lab.size
    L.city[:] = lab_city
    L.zone[:] = _zones_for(lab_city, geo, rng)
    L.field[:] = draw_fields(lab_city, w.lab_mix, rng)
    L.budget[:] = per_lab[lab_city] * np.exp(0.5 * rng.standard_normal(L.n) - 0.125)
    L.ownership_readiness[:] = rng.random(L.n)
    L.anchor[:k_lab] = a_lab
    L.zone[:k_lab] = -1
    L.field[:k_lab] = anchors.field[a_lab]
    L.budget[:k_lab] = (
        per_lab[anchors.city[a_lab]]
        * anchors.staff[a_lab]
        * multiplier[anchors.city[a_lab]]
        / pp.researchers_per_lab
    )
    regime.lab_ownership(w, params.transfer.researcher_ownership)

    # firms (room for the start-ups to come, so appends rarely reallocate): the anchors
    # first, then the synthetic firms with a sector from the city's firm mix, a heavy-tailed
    # size weight, a PCT propensity and an age
    firm_city = np.concatenate(
        [anchors.city[a_firm], np.repeat(np.arange(n_cities), firms_by_city)]
    ).astype(np.int8)
    k_firm = a_firm.size
    w.firms = Population(
        "firms", columns["firms"], firm_city.size, capacity=2 * firm_city.size + 16
    )
    F = w.firms
    F.city[:] = firm_city
    F.zone[:] = _zones_for(firm_city, geo, rng)
    F.sector[:] = draw_fields(firm_city, w.firm_mix, rng)
    F.stage[:] = np.where(rng.random(F.n) < fig["startup_share"][firm_city], 0, 1)
    F.cash[:] = rng.exponential(pp.firm_cash_mean, F.n) if pp.firm_cash_mean > 0 else 0.0
    sig = pp.pct_propensity_sigma
    F.pct_propensity[:] = np.exp(sig * rng.standard_normal(F.n) - 0.5 * sig**2)
    # ages: start-ups young, growth firms older (exponential, assumption)
    age = rng.exponential(pp.firm_age_mean_months, F.n) * np.where(F.stage == 0, 0.3, 1.0)
    F.born_step[:] = -np.minimum(age, 30000).astype(np.int16)
    size_weight = (1.0 - rng.random(F.n)) ** (-1.0 / pp.firm_size_alpha)  # Pareto(alpha), min 1
    # start-ups are small: at the size the model's own hiring gives them (no random draw)
    size_weight *= np.where(F.stage == 0, pp.startup_size_factor, 1.0)
    F.anchor[:k_firm] = a_firm
    F.zone[:k_firm] = -1
    F.sector[:k_firm] = anchors.field[a_firm]
    F.stage[:k_firm] = 1
    jur = geo.city_jurisdiction
    firm_researchers = np.bincount(jur, private, len(JURISDICTIONS))
    propensity, w.pct_residual = pct_propensities(
        a_staff[a_firm],
        np.nan_to_num(anchors.pct[a_firm]) / anchors.pct_totals[jur[anchors.city[a_firm]]],
        jur[anchors.city[a_firm]],
        firm_researchers,
        firm_invention_share(
            params, firm_researchers, np.bincount(jur, public, len(JURISDICTIONS))
        ),
    )
    F.pct_propensity[:k_firm] = propensity
    F.pct_propensity[k_firm:] *= w.pct_residual[jur[F.city[k_firm:]]]

    # researchers: employed by a lab (by budget) or a firm (by size weight) of their city;
    # the first of a city's public (private) researchers staff its anchor labs (firms)
    n_res = int(researchers_by_city.sum())
    w.researchers = Population("researchers", columns["researchers"], n_res)
    R = w.researchers
    R.city[:] = np.repeat(np.arange(n_cities), researchers_by_city)
    city = R.city.astype(np.int64)
    start = np.concatenate(([0], np.cumsum(researchers_by_city)[:-1]))
    offset = np.arange(n_res) - start[city]
    is_public = offset < public[city]
    rank = np.where(is_public, offset, offset - public[city])
    lab_pool = Pools(np.where(L.anchor >= 0, -1, L.city), n_cities, weights=L.budget)
    firm_pool = Pools(np.where(F.anchor >= 0, -1, F.city), n_cities, weights=size_weight)
    R.employer_kind[:] = np.where(is_public, LAB, FIRM)
    employer = np.zeros(n_res, dtype=np.int64)
    for rows, a_rows, pool in ((is_public, a_lab, lab_pool), (~is_public, a_firm, firm_pool)):
        # an anchor's row in its table is its position in a_rows
        anchored = _anchor_employer(city[rows], rank[rows], anchors.city[a_rows], a_staff[a_rows])
        synthetic = anchored < 0
        drawn = np.zeros(anchored.size, dtype=np.int64)
        drawn[synthetic] = pool.sample(city[rows][synthetic], rng)
        employer[rows] = np.where(synthetic, drawn, anchored)
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
    add_staff(w, R.employer_kind.astype(np.int64), R.employer.astype(np.int64))
    # the collaboration network before the run: a prior partner of the same city and field
    key = city * len(FIELDS) + R.field.astype(np.int64)
    R.partner[:] = Pools(key, n_cities * len(FIELDS)).sample(key, rng)

    # investors: fund sizes lognormal; dry powder = dry_powder_years of the region's
    # investment, the rest invested at cost
    inv_city = np.repeat(np.arange(n_cities), investors_by_city).astype(np.int8)
    w.investors = Population("investors", columns["investors"], inv_city.size)
    inv = w.investors
    inv.city[:] = inv_city
    inv.zone[:] = _zones_for(inv_city, geo, rng)
    u = rng.random(inv.n)
    inv.investor_type[:] = np.where(u < pp.guidance_fund_share, 1, 0)
    size = pp.fund_size_mean * np.exp(
        pp.fund_size_sigma * rng.standard_normal(inv.n) - 0.5 * pp.fund_size_sigma**2
    )
    yearly = expected_yearly_investment(params, F)
    held_share = np.clip(pp.dry_powder_years * yearly / max(size.sum(), 1e-9), 0.0, 1.0)
    inv.raised[:] = size
    inv.held[:] = size * held_share
    inv.invested[:] = size - inv.held

    w.deals = Population("deals", columns["deals"], 0, capacity=1024)
    w.projects = Population("projects", columns["projects"], 0, capacity=max(1024, n_res // 8))
    w.developments = Population(
        "developments", columns["developments"], 0, capacity=max(1024, F.n // 4)
    )
    # then each mechanism's tables and memory, from the scenario and the initial agents
    initialise(w, memories)
    regime.assign_lists(w)  # whitelist membership, once the labs and firms exist
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
