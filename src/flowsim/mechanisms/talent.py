"""Talent: job moves and visits of researchers between cities, through border control.

A job move changes a researcher's city and employer after the border delay; a
visit leaves the researcher in place but creates a tie to the visited city that
makes a collaboration there likelier for ``talent.visit_tie_months``.
Destinations follow a gravity model (:mod:`flowsim.gravity`): the pull of a city
decays with travel time and is multiplied by the border weight of the talent
friction (:func:`flowsim.policy.border_weights`). For visits the pull is the
city's share of the region's researchers. For job moves it is the city's amenity
in the mover's field (balanced once, under the baseline friction, so that the
baseline keeps every city's share) times its research productivity in that field
relative to the start, to ``talent.opportunity_elasticity``: researchers move
toward opportunity, and a policy that lowers friction or raises a city's
knowledge changes where talent ends up. The new employer works in the mover's
field where the city has one.

**Bounded mobility** (issue 18). Moves are bounded by *posts*: each lab and firm
holds open posts (``open_posts``), refilled each month by a hiring budget
(``talent.post_budget_rate`` per researcher) and by the vacancies its leavers
open; unfilled posts lapse at ``talent.post_lapse_rate``. A mover's new employer
is drawn among the employers of the destination with an open post, in proportion
to their open posts; where more movers ask for a city than its employers have open
posts, the excess is rejected by a draw (the talent stream), and those movers stay. A
destination's pull also carries its pay and housing cost
(``src/flowsim/data/pay_housing.csv``) to ``talent.pay_elasticity`` and
``-talent.housing_elasticity``, times a scenario's ``talent.pay_multipliers`` and
``talent.housing_multipliers``; the amenity is solved with the data's pay and
housing in the pull, so the baseline keeps its shares and a change of pay or
housing cost moves talent. ``talent.posts: false`` gives the unbounded moves of
model v2.

**The outside as a pool of talent** (issue 18; :func:`exchange`). Researchers arrive
from and leave for the rest of mainland China (CN) and the rest of the world (ROW) at
the yearly rates of ``data/external_talent.csv`` (per researcher, by jurisdiction, times
``open_region.talent_factor``), as many each way at baseline friction. Each crossing
meets the external border of its direction under the rules in force (``policy.external``,
channel ``job_move``): a lower border raises the flow across it as it raises a job move's
(deterrence relative to the baseline's, then the approval), so a policy that eases entry
into Hong Kong from the world brings researchers and one that eases leaving takes them.
An arrival needs an open post in the city (as a mover does) and its pull carries the
city's pay and housing relative to the data's; a departure opens a vacancy. A researcher
who leaves keeps its row, marked away (``arrive_step`` = :data:`AWAY`, listed in the
world's ``away_rows``), which every mechanism skips; the next arrival takes the row over.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from flowsim import openregion
from flowsim.employment import (
    FIRM,
    LAB,
    add_staff,
    employer_field_zone,
    pick_employers,
    pick_in_city,
    remove_staff,
)
from flowsim.geography import CITIES, EXTERNALS, JURISDICTIONS
from flowsim.gravity import balanced_mass, choose_destinations, gravity
from flowsim.paramtypes import ByJurisdiction, Policy, _Frozen, _nonneg, _positive, _share
from flowsim.policy import (
    Counts,
    FlowKeys,
    border_weights,
    compile_policy,
    cross_border,
    external_weights_for,
    response_for,
)
from flowsim.pools import Pools, choose_rows, keys_where, run_starts, stable_argsort, weights_where
from flowsim.state import Column, Memory
from flowsim.streams import bernoulli_rows
from flowsim.whitelists import agent_lists

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "talent"
"""The scenario section this mechanism owns: ``talent.*``, of class :data:`Params`."""


class TalentParams(_Frozen):
    """Job moves, visits and the gravity model of where researchers go."""

    move_rate: float = _share(
        0.01171,
        "job moves per researcher per month ("
        "calibrated on model v2, scenarios/calibration/targets.yaml; "
        "hand value 0.01, assumption: ~12%/year)",
    )
    visit_rate: float = _share(0.03, "visits to another city per researcher per month (assumption)")
    distance_decay_minutes: float = Field(
        66.98,
        ge=1.0,
        le=100_000.0,
        description="travel time at which a city's pull falls by e [min] (calibrated on model "
        "v2, scenarios/calibration/targets.yaml; hand value 45, assumption; at least "
        "1 minute, below which every city's pull underflows to zero)",
    )
    opportunity_elasticity: float = _nonneg(
        2.0,
        "elasticity of a destination's pull for job moves to its research productivity relative "
        "to the start (assumption: researchers move toward better opportunity; 0 = moves keep "
        "every city's share)",
    )
    visit_tie_months: float = _positive(
        12.0, "months a visit keeps a researcher's cross-city tie active (assumption)"
    )
    posts: bool = Field(
        True,
        description="bound job moves by the employers' open posts [switch] (false: unbounded "
        "moves, "
        "as in model v2; issue 18 found those raise Hong Kong's researchers by +55% under "
        "the fast track)",
    )
    post_budget_rate: float = _share(
        0.0005,
        "new posts an employer's hiring budget opens per researcher per month, beyond the "
        "vacancies its leavers open [posts/researcher/month] (assumption: 0.6% a year, hiring "
        "budgets that move with R&D spending rather than with the supply of talent; prior "
        "0-0.3%/month in scenarios/calibration/priors.yaml). An employer without staff opens "
        "posts as if it had one researcher",
    )
    post_lapse_rate: float = _share(
        1.0 / 12.0,
        "share of unfilled open posts that lapse each month [1/month] (assumption: an unfilled "
        "post is lost with the budget year, so posts last 12 months on average)",
    )
    pay_elasticity: float = _nonneg(
        1.0,
        "elasticity of a destination's pull for job moves to its pay [dimensionless] "
        "(assumption: the pull is proportional to pay; the levels in data/pay_housing.csv are "
        "absorbed by the amenity, so only a scenario's talent.pay_multipliers act through it)",
    )
    housing_elasticity: float = _nonneg(
        0.3,
        "elasticity of a destination's pull for job moves to its housing cost, entered with a "
        "minus sign [dimensionless] (assumption: housing takes about 30% of a researcher's "
        "pay, so pull ~ pay / housing ** 0.3 is proportional to real pay)",
    )
    pay_multipliers: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=1.0, HK=1.0, MO=1.0),
        description="multiplies researchers' pay in each jurisdiction's cities [factor] "
        "(scenario lever, e.g. a talent subsidy; 1 = data/pay_housing.csv)",
    )
    housing_multipliers: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=1.0, HK=1.0, MO=1.0),
        description="multiplies the housing cost researchers meet in each jurisdiction's cities "
        "[factor] (scenario lever, e.g. talent housing; 1 = data/pay_housing.csv)",
    )


Params = TalentParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``talent`` section."""

STATE = {
    "researchers": (
        Column("tie_city", np.int8, -1, "city of the last visit, -1 none"),
        Column("tie_until", np.int16, -1, "step until which the visit tie is active"),
        Column("arrive_step", np.int16, -1, "step a pending job move completes, -1 none"),
        Column("dest_city", np.int8, -1, "city of a pending job move"),
        Column("dest_zone", np.int8, -1, "zone of a pending job move"),
        Column("dest_employer_kind", np.int8, 0, "employer kind of a pending job move"),
        Column("dest_employer", np.int32, -1, "employer of a pending job move"),
    ),
    "labs": (
        Column(
            "open_posts",
            np.float64,
            0.0,
            "posts open to movers (budget plus vacancies, less hires)",
        ),
    ),
    "firms": (
        Column(
            "open_posts",
            np.float64,
            0.0,
            "posts open to movers (budget plus vacancies, less hires)",
        ),
    ),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = (
    Memory(
        "pending_moves",
        "event list: rows of the researchers with a job move under way (arrive_step >= 0)",
    ),
    Memory(
        "away_rows",
        "rows of the researchers who have left the region for CN or ROW, sorted; their rows "
        "are taken over by the next arrivals (arrive_step = AWAY)",
    ),
    Memory(
        "move_amenity",
        "each city's pull for job moves in each field (fields, cities), balanced once under "
        "the baseline friction",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "researcher_moves",
    "researcher_moves_cross_border",
    "researcher_moves_refused",
    "researcher_moves_no_post",
    "visits",
    "visits_cross_border",
    "visits_refused",
    "researcher_arrivals",
    "researcher_arrivals_refused",
    "researcher_arrivals_no_post",
    "researcher_departures",
    "researcher_departures_refused",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts."""

TALENT = 0

AWAY = int(np.iinfo(np.int16).max)
"""``arrive_step`` of a researcher who has left the region for CN or ROW: a move that never
completes, so every mechanism that skips researchers on the move skips it too."""

__all__ = [
    "accrue_posts",
    "arrive",
    "balance_amenity",
    "balanced_mass",
    "choose_destinations",
    "draw_movers",
    "draw_ranks",
    "exchange",
    "fill_posts",
    "gravity",
    "move_weights",
    "pay_pull",
    "step",
]


def init(world: World) -> None:
    """No move under way; the job-move amenity of each city and field.

    The amenity is balanced once under the *baseline* friction so that the baseline
    keeps every city's share of each field's researchers; a policy's friction and
    changes in opportunity then move researchers (no share-keeping under policy).
    """
    world.pending_moves = np.zeros(0, dtype=np.int64)
    world.away_rows = np.zeros(0, dtype=np.int64)
    balance_amenity(world, world.expected_researchers)
    if hasattr(world, "labs"):
        start_posts(world)


def balance_amenity(world: World, expected: np.ndarray) -> None:
    """Set the job-move amenity so that the baseline keeps ``expected``'s shares.

    ``expected`` is researchers by (city, field): the base year's at the start; in a growing
    region the growth path's, once a year (:func:`flowsim.mechanisms.growth.expected_researchers`,
    called by the model), so that moves keep the shares growth gives each city instead of
    pulling researchers back to the base year's. Balanced under the *baseline* friction in
    every run, so a policy and its baseline get the same amenity.
    """
    geo, params = world.geo, world.params
    baseline = compile_policy(Policy(), geo, params.scale)
    # with mobility held (flowsim explain), the baseline's talent deterrence: moves as in the
    # baseline
    held = world.hold is not None and "job_move" in world.held
    mobility = (world.hold.baseline if held else params).deterrence.talent
    border = border_weights(baseline, TALENT, geo.corridor, mobility)
    kernel = np.exp(-geo.travel_minutes / params.talent.distance_decay_minutes) * border[0]
    field_share = expected / expected.sum(axis=0)
    # the data's pay and housing are in the pull: the amenity is what they leave unexplained
    base_pull = pay_pull(params.talent, baseline=True)
    world.move_amenity = (
        np.stack([balanced_mass(field_share[:, f], kernel) for f in range(world.n_fields)])
        / base_pull[None, :]
    )


PAY_HOUSING = "pay_housing.csv"
"""Per-city pay and housing cost of researchers, in ``flowsim.data``, each row sourced."""


@cache
def pay_housing() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pay [thousand yuan/year], housing cost [yuan/m2/month] and jurisdiction of each city.

    Read from ``data/pay_housing.csv`` (columns city, jurisdiction, figure, value, unit,
    year, source; figures ``pay`` and ``housing_cost``), in the order of
    :data:`~flowsim.geography.CITIES`.
    """
    text = resources.files("flowsim.data").joinpath(PAY_HOUSING).read_text(encoding="utf-8")
    n = len(CITIES)
    out = {"pay": np.full(n, np.nan), "housing_cost": np.full(n, np.nan)}
    jurisdiction = np.zeros(n, dtype=np.int64)
    for line, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        if row["city"] not in CITIES or row["figure"] not in out or not row["source"].strip():
            raise ValueError(
                f"{PAY_HOUSING} line {line}: city {row['city']!r}, figure {row['figure']!r}: "
                f"allowed cities {', '.join(CITIES)}, figures pay and housing_cost, each with a "
                "source; fix the row"
            )
        i = CITIES.index(row["city"])
        out[row["figure"]][i] = float(row["value"])
        jurisdiction[i] = JURISDICTIONS.index(row["jurisdiction"])
    for figure, values in out.items():
        if not (values > 0).all():
            missing = [c for c, v in zip(CITIES, values, strict=True) if not v > 0]
            raise ValueError(f"{PAY_HOUSING}: no positive {figure} for {', '.join(missing)}")
    return out["pay"], out["housing_cost"], jurisdiction


def pay_pull(p: TalentParams, baseline: bool = False) -> np.ndarray:
    """Each city's pull from pay and housing: pay ** e_pay x housing ** -e_housing, by city.

    From ``data/pay_housing.csv`` times the scenario's ``pay_multipliers`` and
    ``housing_multipliers`` per jurisdiction (left out with ``baseline``), relative to the
    region's mean so that the numbers stay near 1.
    """
    pay, housing, jurisdiction = pay_housing()
    if not baseline:
        pay = pay * np.asarray(p.pay_multipliers.as_array())[jurisdiction]
        housing = housing * np.asarray(p.housing_multipliers.as_array())[jurisdiction]
    pull = (pay / pay.mean()) ** p.pay_elasticity * (housing / housing.mean()) ** (
        -p.housing_elasticity
    )
    return pull


def start_posts(world: World) -> None:
    """Open posts at the start: the stock the hiring budget keeps when no one is hired.

    ``post_budget_rate x max(staff, 1) / post_lapse_rate`` per lab and firm.
    """
    p = world.params.talent
    for E in (world.labs, world.firms):
        E.open_posts[:] = p.post_budget_rate * np.maximum(E.staff, 1) / p.post_lapse_rate


def accrue_posts(world: World) -> None:
    """A month of posts: unfilled ones lapse, the hiring budget opens new ones."""
    p = world.params.talent
    keep = 1.0 - p.post_lapse_rate
    for E in (world.labs, world.firms):
        posts = E.open_posts
        posts *= keep
        posts += p.post_budget_rate * np.maximum(E.staff, 1)


def post_pools(world: World) -> tuple[Pools, Pools, Pools, Pools]:
    """Employers with an open post, by (city, field) and by city, weighted by open posts.

    The same grouping as the world's employer pools (labs by field, living firms by
    sector), with each employer's positive open posts as its weight: labs by (city,
    field), firms by (city, field), labs by city, firms by city.
    """
    L, F = world.labs, world.firms
    nf, n = world.n_fields, len(CITIES)
    lab_w = np.maximum(L.open_posts, 0.0)
    firm_w = weights_where(F.alive, F.open_posts)
    lab_key = L.city.astype(np.int16) * np.int16(nf) + L.field
    firm_key = keys_where(F.alive, F.city.astype(np.int16) * np.int16(nf) + F.sector, np.int16)
    return (
        Pools(lab_key, n * nf, weights=lab_w),
        Pools(firm_key, n * nf, weights=firm_w),
        Pools(L.city, n, weights=lab_w),
        Pools(keys_where(F.alive, F.city), n, weights=firm_w),
    )


def city_post_pools(world: World) -> tuple[Pools, Pools]:
    """Labs and living firms with an open post, by city, weighted by their open posts."""
    L, F = world.labs, world.firms
    n = len(CITIES)
    firm_w = weights_where(F.alive, F.open_posts)
    return (
        Pools(L.city, n, weights=np.maximum(L.open_posts, 0.0)),
        Pools(keys_where(F.alive, F.city), n, weights=firm_w),
    )


def fill_posts(capacity: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which requests get a post: at most ``floor(capacity[g])`` of group ``g``'s (pure core).

    The requests of a group are ranked by a uniform draw; the first ``floor(capacity)``
    are accepted and the excess is rejected, so no group hires beyond its open posts.
    """
    group = np.asarray(group, dtype=np.int64)
    if group.size == 0:
        return np.zeros(0, dtype=bool)
    return draw_ranks(group, rng) < np.floor(np.asarray(capacity, dtype=np.float64)[group])


def draw_ranks(group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each request's rank among its group's, in the order of a uniform draw (pure core).

    One draw per request; :func:`fill_posts` accepts the ranks below a group's capacity.
    """
    u = rng.random(group.size)
    # np.lexsort((u, group)), faster: by the draw (a quicksort, kept where no two draws are
    # equal, as a stable sort would order them), then stably by group in 16-bit radix passes
    by_draw = np.argsort(u)
    drawn = u[by_draw]
    if (drawn[1:] == drawn[:-1]).any():
        by_draw = np.argsort(u, kind="stable")
    order = stable_argsort(group, by_draw)
    rank = np.empty(group.size, dtype=np.int64)
    rank[order] = np.arange(group.size) - run_starts(group[order])
    return rank


def within_posts(
    world: World,
    kind: np.ndarray,
    employer: np.ndarray,
    city: np.ndarray,
    want: np.ndarray,
    rng: np.random.Generator,
    city_open: np.ndarray | None = None,
) -> np.ndarray:
    """Which of the hires ``want`` get a post (a mask over every entry).

    An employer takes no more than its open posts rounded up (a part-post is a post), then
    a city no more than its employers' open posts; the excess is drawn (:func:`fill_posts`)
    and stays where it is. ``city_open``: each city's open posts, where the caller has them
    (:func:`posts_by_city`), else :func:`city_posts`.
    """
    L, F = world.labs, world.firms
    got = np.zeros(employer.size, dtype=bool)
    kind, employer = kind[want], employer[want]
    if employer.size:
        # each request's employer's open posts, read for the requests only (not every employer)
        is_lab = kind == LAB
        lab_posts = L.open_posts[np.where(is_lab, employer, 0)]
        posts = np.where(is_lab, lab_posts, F.open_posts[np.where(is_lab, 0, employer)])
        slots = np.ceil(np.maximum(posts, 0.0))
        got[want] = draw_ranks(np.where(is_lab, 0, L.n) + employer, rng) < slots
    got[got] = fill_posts(city_posts(world) if city_open is None else city_open, city[got], rng)
    return got


def posts_by_city(lab_city: Pools, firm_city: Pools) -> np.ndarray:
    """Open posts of each city from the pools by city of :func:`post_pools`.

    The same numbers as :func:`city_posts` while no post has been taken since the pools
    were made: each pool's total is a sum over its members in row order, as the bincount
    there is (the firms it leaves out, the closed ones, add a weight of zero there).
    """
    return lab_city.totals + firm_city.totals


def city_posts(world: World) -> np.ndarray:
    """Open posts of each city: the positive open posts of its labs and living firms."""
    L, F = world.labs, world.firms
    n = len(CITIES)
    lab = np.bincount(L.city, weights=np.maximum(L.open_posts, 0.0), minlength=n)
    firm_w = weights_where(F.alive, F.open_posts)
    return lab + np.bincount(F.city, weights=firm_w, minlength=n)


def researcher_keys(
    world: World, rows: np.ndarray, destination_zone: np.ndarray | None = None
) -> FlowKeys:
    """What border rules may select on for researchers ``rows`` leaving their city."""
    R = world.researchers
    kind = R.employer_kind[rows]
    # the employers are read only where whitelists are defined (agent_lists is None else)
    listed = getattr(world, "lab_lists", None) is not None
    return FlowKeys(
        field=R.field[rows],
        employer=kind,
        lists=agent_lists(world, kind, R.employer[rows]) if listed else None,
        origin_zone=R.zone[rows],
        destination_zone=destination_zone,
    )


def draw_movers(
    n: int, rate: float, arrive_step: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Rows of the researchers who act this month: each idle row with probability ``rate``.

    Idle: no move under way and not away (``arrive_step < 0``), read for the rows drawn
    only, not for every researcher.
    """
    rows = bernoulli_rows(n, rate, rng)
    return rows[arrive_step[rows] < 0]


def move_weights(world: World) -> np.ndarray:
    """Pull of each destination for job moves, shape (zone slots x fields x origin, dest).

    amenity[f, d] x productivity[d, f] ** opportunity_elasticity x pay and housing pull[d]
    x exp(-time/decay) x talent border weight: researchers move toward where their field is
    more productive and real pay is higher.
    """
    p = world.params.talent
    opportunity = world.knowledge.productivity().T ** p.opportunity_elasticity
    pull = world.move_amenity * opportunity * pay_pull(p)[None, :]  # (fields, dest)
    w = world.move_kernel[:, None, :, :] * pull[None, :, None, :]
    return w.reshape(-1, len(CITIES))


def step(world: World, t: int) -> None:
    """Visits, new job moves, then arrivals of moves whose delay has run out."""
    rng = world.rngs["talent"]
    R = world.researchers
    p = world.params.talent

    # visits: anywhere but home, ties for the coming months
    visitors = draw_movers(R.n, p.visit_rate, R.arrive_step, rng)
    if visitors.size:
        origin = R.city[visitors]
        dest = choose_destinations(origin, R.zone[visitors], world.visit_weights, rng)
        ok = dest >= 0
        visitors, origin, dest = visitors[ok], origin[ok], dest[ok]
        c = cross_border(
            world,
            TALENT,
            origin,
            dest,
            R.zone[visitors],
            rng,
            "visit",
            counter="visits",
            keys=researcher_keys(world, visitors),
        )
        went = visitors[c.approved]
        world.tally.link("visits", origin[c.approved], dest[c.approved], R.field[went])
        R.tie_city[went] = dest[c.approved]
        R.tie_until[went] = t + int(round(p.visit_tie_months))

    # job moves: choose a city and an employer with an open post, pass the border, wait
    if p.posts:
        accrue_posts(world)
    exchange(world, t)
    movers = draw_movers(R.n, p.move_rate, R.arrive_step, rng)
    if movers.size:
        origin = R.city[movers].astype(np.int64)
        field = R.field[movers].astype(np.int64)
        n = len(world.geo.city_jurisdiction)
        rows = ((R.zone[movers].astype(np.int64) + 1) * world.n_fields + field) * n + origin
        dest = choose_rows(move_weights(world), rows, rng)
        pools = post_pools(world) if p.posts else None
        kind, employer, zone = pick_employers(world, dest, field, rng, pools=pools)
        ok = employer >= 0
        if p.posts:
            # a city hires no more movers than its open posts; the excess is drawn and stays
            # and an employer no more than its open posts rounded up (a part-post is a post)
            got = within_posts(world, kind, employer, dest, ok, rng, posts_by_city(*pools[2:]))
            world.count("researcher_moves_no_post", int((dest >= 0).sum() - got.sum()))
            ok = got
        movers, origin, dest, kind, employer, zone = (
            a[ok] for a in (movers, origin, dest, kind, employer, zone)
        )
        c = cross_border(
            world,
            TALENT,
            origin,
            dest,
            R.zone[movers],
            rng,
            "job_move",
            counter="researcher_moves",
            keys=researcher_keys(world, movers, destination_zone=zone),
        )
        go = movers[c.approved]
        if p.posts:
            take_posts(world, kind[c.approved], employer[c.approved], -1.0)
            take_posts(world, R.employer_kind[go], R.employer[go], 1.0)  # the leavers' vacancies
        world.tally.link("job_moves", origin[c.approved], dest[c.approved], R.field[go])
        R.arrive_step[go] = t + c.delay_steps[c.approved]
        world.pending_moves = np.concatenate((world.pending_moves, go))
        R.dest_city[go] = dest[c.approved]
        R.dest_zone[go] = zone[c.approved]
        R.dest_employer_kind[go] = kind[c.approved]
        R.dest_employer[go] = employer[c.approved]

    arrive(world, t)


def take_posts(world: World, kind: np.ndarray, employer: np.ndarray, sign: float) -> None:
    """Add ``sign`` open posts per entry to each employer (-1: a hire, +1: a vacancy)."""
    for E, want in ((world.labs, LAB), (world.firms, FIRM)):
        E.open_posts[:] += sign * np.bincount(employer[kind == want], minlength=E.n)


def arrive(world: World, t: int) -> None:
    """Complete the moves due this step: staff counts follow the researchers.

    Only the pending moves (an event list kept by the world) are looked at, not
    every researcher.
    """
    R = world.researchers
    pending = world.pending_moves
    arriving = R.arrive_step[pending] <= t
    if not arriving.any():
        return
    due = pending[arriving]
    world.pending_moves = pending[~arriving]
    remove_staff(world, R.employer_kind[due], R.employer[due])
    R.city[due] = R.dest_city[due]
    R.zone[due] = R.dest_zone[due]
    R.employer_kind[due] = R.dest_employer_kind[due]
    R.employer[due] = R.dest_employer[due]
    add_staff(world, R.employer_kind[due], R.employer[due])
    R.arrive_step[due] = -1
    R.dest_city[due] = -1
    R.dest_employer[due] = -1


def present_by_city(world: World) -> np.ndarray:
    """Researchers in each city now, less those who have left the region (model units)."""
    # every researcher present counts in its employer's staff, in its employer's city (staff
    # follow arrivals, tests/test_talent_exchange.py): the employers' staff by city is the
    # same number, read from the employers rather than from every researcher's row
    L, F = world.labs, world.firms
    n = len(CITIES)
    lab = np.bincount(L.city, weights=L.staff, minlength=n)
    return (lab + np.bincount(F.city, weights=F.staff, minlength=n)).astype(np.int64)


def exchange(world: World, t: int) -> None:
    """A month of researchers leaving for and arriving from CN and ROW (module docstring).

    Draws from the ``exchange`` stream only, so that the rest of talent's draws do not
    depend on it. Departures first (their vacancies are open to the arrivals), then
    arrivals, both places at once.
    """
    monthly = openregion.monthly_talent_rates(world.params.open_region)
    if not monthly.any():
        return
    rng = world.rngs["exchange"]
    R, geo = world.researchers, world.geo
    response = response_for(world, "job_move", "talent")
    n = len(CITIES)
    cj = geo.city_jurisdiction
    present = present_by_city(world)
    # departures: each idle researcher leaves for a place with its jurisdiction's rate over
    # the baseline's deterrence, thinned by its own deterrence under the rules in force
    seek = np.minimum(monthly / openregion.baseline_weights(response, TALENT, inbound=False), 1.0)
    cum = np.cumsum(seek, axis=1)  # (3, places)
    top = min(float(cum[:, -1].max()), 1.0)
    rows = bernoulli_rows(R.n, top, rng)
    rows = rows[R.arrive_step[rows] < 0]
    u = rng.random(rows.size) * top
    v = rng.random(rows.size)
    city = R.city[rows].astype(np.int64)
    # the place index (len(EXTERNALS): none): how many cumulative rates are at or below u,
    # counted one place at a time rather than over a (rows x places) array
    jur = cj[city]
    x = np.zeros(rows.size, dtype=np.int64)
    for column in cum.T:
        x += column[jur] <= u
    go = x < len(EXTERNALS)
    rows, city, v, places = rows[go], city[go], v[go], n + x[go]
    keys = researcher_keys(world, rows)
    w = external_weights_for(
        world, "job_move", TALENT, city, places, False, R.zone[rows], keys, response
    )
    go = np.flatnonzero(v < np.minimum(w, 1.0))
    c = cross_border(
        world,
        TALENT,
        city[go],
        places[go],
        R.zone[rows[go]],
        rng,
        "job_move",
        keys=keys.take(go),
        counts=Counts(approved="researcher_departures", refused="researcher_departures_refused"),
        external=True,
    )
    _leave(world, rows[go[c.approved]], places[go[c.approved]])
    # arrivals: per city and place, its researchers x the rate over the baseline's
    # deterrence x its pay and housing against the data's, each thinned by its own deterrence
    p = world.params.talent
    base_in = openregion.baseline_weights(response, TALENT, inbound=True)
    pull = pay_pull(p) / pay_pull(p, baseline=True)
    expected = monthly[cj] / base_in[cj] * (present * pull)[:, None]  # (cities, places)
    count = rng.poisson(np.maximum(expected, 0.0)).ravel()
    cells = np.repeat(np.arange(count.size), count)
    _arrive_from(world, cells // len(EXTERNALS), n + cells % len(EXTERNALS), rng)


def _leave(world: World, rows: np.ndarray, places: np.ndarray) -> None:
    """Researchers ``rows`` leave the region for ``places``: their posts open, rows free."""
    if rows.size == 0:
        return
    R = world.researchers
    kind, employer = R.employer_kind[rows], R.employer[rows]
    remove_staff(world, kind, employer)
    if world.params.talent.posts:
        take_posts(world, kind, employer, 1.0)
    world.tally.link("job_moves", R.city[rows], places, R.field[rows])
    R.arrive_step[rows] = AWAY
    R.tie_city[rows] = -1
    R.tie_until[rows] = -1
    world.away_rows = np.sort(np.concatenate((world.away_rows, rows)))


def _arrive_from(
    world: World,
    city: np.ndarray,
    places: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Researchers from ``places`` seeking a post in ``city``, one per entry: who comes in.

    An employer with an open post in the city (any field; :func:`flowsim.employment.pick_in_city`
    over the posts), the entry's deterrence under the rules (the flow seeks with it), the
    city's and the employer's open posts, then the border's approval.
    """
    R, p = world.researchers, world.params.talent
    if city.size == 0:
        return
    pools = city_post_pools(world) if p.posts else None
    kind, employer = pick_in_city(world, city, rng, pools=pools)
    skill_draw = rng.standard_normal(city.size)
    u = rng.random(city.size)
    ok = employer >= 0
    kind, employer, city, places, skill_draw, u = (
        a[ok] for a in (kind, employer, city, places, skill_draw, u)
    )
    field, zone = employer_field_zone(world, kind, employer)
    keys = FlowKeys(
        field=field,
        employer=kind,
        lists=agent_lists(world, kind, employer),
        destination_zone=zone,
    )
    outside = np.full(city.size, -1, dtype=np.int64)
    response = response_for(world, "job_move", "talent")
    w = external_weights_for(world, "job_move", TALENT, city, places, True, outside, keys, response)
    seek = u < np.minimum(w, 1.0)
    if p.posts:
        got = within_posts(world, kind, employer, city, seek, rng, posts_by_city(*pools))
        world.count("researcher_arrivals_no_post", int(seek.sum() - got.sum()))
        seek = got
    idx = np.flatnonzero(seek)
    c = cross_border(
        world,
        TALENT,
        places[idx],
        city[idx],
        outside[idx],
        rng,
        "job_move",
        keys=keys.take(idx),
        counts=Counts(approved="researcher_arrivals", refused="researcher_arrivals_refused"),
        external=True,
    )
    idx = idx[c.approved]
    if idx.size == 0:
        return
    kind, employer, city, zone, field, places = (
        a[idx] for a in (kind, employer, city, zone, field, places)
    )
    sigma = world.params.population.skill_sigma
    values = {
        "city": city,
        "zone": zone,
        "field": field,
        "employer_kind": kind,
        "employer": employer,
        "skill": np.exp(sigma * skill_draw[idx] - 0.5 * sigma**2),
    }
    k = min(idx.size, world.away_rows.size)
    reuse, world.away_rows = world.away_rows[:k], world.away_rows[k:]
    R.reset(reuse, **{name: v[:k] for name, v in values.items()})
    if idx.size > k:
        R.add(idx.size - k, **{name: v[k:] for name, v in values.items()})
    add_staff(world, kind, employer)
    if p.posts:
        take_posts(world, kind, employer, -1.0)
    world.tally.link("job_moves", places, city, field)
