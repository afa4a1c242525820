"""Capital: fundraising, VC and guidance-fund rounds, failures and write-offs.

Firms seek a round each month (start-ups more often; firms with development
projects waiting for money most). A seeker picks an investor city by gravity:
the city's dry powder, decaying with travel time, times ``1 + home_bias`` for
the firm's own city, times the border weight of the capital friction; then an
investor there in proportion to its dry powder. A cross-border round must pass
the capital friction (refusal or quota means no round this month). A guidance
fund writes the ticket and mobilises ``guidance_leverage`` times as much private
money into the same round, so leverage makes its rounds larger.

Investments are held at cost until their firm fails (written off) or they are
realised: each month a share ``1 - exp(-1 / holding_months)`` of every investor's
book at cost exits (IPO, trade sale or secondary sale) and is distributed to the
funds' investors, so an investment is held ``holding_months`` on average.

Accounting, per investor and in total: raised = invested + held + written off + realised.

The open region (docs/open_region.md): a share of the rounds that firms seek is led by an
investor in the rest of the mainland (CN) or of the world (ROW) (inward), and the funds invest
a share of what they deploy there (outward), both across the external borders under the rules
in force, at the shares of ``data/external_capital.csv`` at baseline friction. External
investors are aggregates: their rounds give the firm cash and count as the region's VC deals,
but enter no investor's book; what the funds invest outside is held at cost
(``invested_outside``, part of ``invested``) and realised like the rest, never written off
(an assumption: the outside book's failures are not modelled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from flowsim import openregion
from flowsim.employment import rehome_researchers
from flowsim.firms import draw_fields, firms_waiting_for_capital, new_firms
from flowsim.flows import channel
from flowsim.gravity import choose_capital_city
from flowsim.paramtypes import ByJurisdiction, _Frozen, _nonneg, _positive, _share
from flowsim.policy import Counts, FlowKeys, cross_border
from flowsim.setup import expected_yearly_investment
from flowsim.state import Column, Memory
from flowsim.streams import bernoulli_rows, lognormal
from flowsim.whitelists import agent_lists

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "capital"
"""The scenario section this mechanism owns: ``capital.*``, of class :data:`Params`."""


class CapitalParams(_Frozen):
    """Venture capital, guidance funds and fundraising."""

    seek_rate_startup: float = _share(
        0.005, "funding rounds sought per start-up per month (calibrated to the GII VC-deal share)"
    )
    seek_rate_growth: float = _share(
        0.001, "funding rounds sought per growth firm per month (assumption)"
    )
    seek_rate_waiting: float = _share(
        0.01,
        "funding rounds sought per month by a firm whose development waits for money (assumption)",
    )
    round_size_startup: float = _positive(15.0, "mean start-up round [RMB m] (assumption)")
    round_size_growth: float = _positive(80.0, "mean growth round [RMB m] (assumption)")
    round_size_sigma: float = _nonneg(1.0, "sigma of the lognormal round size (assumption)")
    home_bias: float = _nonneg(
        3.0, "extra weight of investors in the firm's own city (assumption: VC local bias)"
    )
    fundraise_rate: float = _nonneg(
        1.0,
        "money raised per yuan invested over the last 12 months when the region's dry powder is "
        "at its target (population.dry_powder_years of investment) [yuan per yuan]; scaled by "
        "target / held, up to 3x (assumption: managers raise follow-on funds once they have "
        "deployed the current one, so dry powder stays near its target)",
    )
    guidance_leverage: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=2.0, HK=5.0, MO=1.0),
        description="private yuan co-invested per yuan of a guidance fund (HK: >5, BRIEF; GD, MO "
        "assumptions)",
    )
    distance_decay_minutes: float = _positive(
        60.0,
        "travel time at which an investor city's pull falls by e [min] (assumption: VC is local)",
    )
    screening_base: float = _share(
        0.4384,
        "probability an investor backs a firm with no patents and no products (calibrated on "
        "model v2, scenarios/calibration/targets.yaml; hand value 0.3, assumption)",
    )
    screening_weight: float = _nonneg(
        0.5,
        "elasticity of the odds of being backed to 1 + the firm's recent signal (invention "
        "patents plus products on the market) (assumption: investors screen on patents and "
        "traction)",
    )
    signal_months: float = _positive(
        36.0,
        "months over which a patent or product fades from the screening signal (by e) "
        "(assumption: investors look at the last few years)",
    )
    first_year_exit: float = _share(
        0.047,
        "share of a new start-up cohort that closes in its first year [share] (SAIC 2013, "
        "'National analysis of the survival time of domestic enterprises' (全国内资企业生存时间"
        "分析报告), State Administration for Industry and Commerce, June 2013: 1.6% of new "
        "enterprises close in their calendar year of founding and 6.3% in the second; with "
        "founding dates spread over the year the first 12 months hold about 1.6% + 6.3% / 2)",
    )
    hazard_peak: float = _share(
        0.095,
        "yearly exit probability of a start-up at the hazard's peak age [1/year] (SAIC 2013: "
        "9.5% in the third year, the highest; above 8% until the seventh)",
    )
    hazard_peak_years: float = Field(
        2.0,
        ge=1.0,
        le=20.0,
        description="age at which the exit hazard of a start-up peaks, rising linearly to it "
        "from its value at founding [years] (SAIC 2013: the third calendar year "
        "of life, ages ~1.5-2.5 when founding dates are spread over the year; the modal age "
        "at exit is 3 in every region)",
    )
    hazard_decline_years: float = _positive(
        29.0,
        "years over which the exit hazard after its peak falls by e [years] (SAIC 2013: the "
        "hazard stays above 8% a year until year 7, 9.5% x exp(-5 / 29) = 8.0%, and falls "
        "after it)",
    )
    failure_rate_growth: float = _share(
        0.0005,
        "failures per growth firm per month (assumption: set so that graduations from start-up "
        "balance growth-firm failures in the baseline; 0.0012 before, which shrank the growth "
        "firms by ~1% a year, benchmarks/stationarity.py)",
    )
    runway_hazard_multiplier: float = _nonneg(
        1.0,
        "extra hazard of a venture-backed start-up (one round or more) whose cash is below its "
        "runway threshold (assumption; the registry hazard above is that of the typical, "
        "unfunded firm)",
    )
    runway_cash: float = _nonneg(
        1.0, "cash below which a start-up is out of runway [RMB m] (assumption)"
    )
    revenue_share: float = _share(
        0.3,
        "share of a commercialized project's value that returns to the firm as cash (assumption)",
    )
    holding_months: float = _positive(
        72.0,
        "mean time an investment is held at cost before it is realised by an exit (IPO, trade "
        "sale or secondary sale) [months]; each month 1 - exp(-1/holding_months) of every book "
        "at cost exits (assumption: VC-backed companies exit about 5-7 years after the first "
        "round, and funds have a 10-year life)",
    )
    rounds_to_grow: int = Field(
        2, ge=1, le=20, description="funding rounds after which a start-up is a growth firm"
    )
    startup_share: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=0.0006, HK=0.0006, MO=0.0006),
        description="technology start-ups founded, besides spin-offs, per enterprise newly "
        "registered in the city (cities.csv new_enterprises) [share] (assumption: set so that "
        "founding plus spin-offs balance failures in the baseline; the same share everywhere, "
        "so the city mix of founding is the mix of registrations)",
    )


Params = CapitalParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``capital`` section."""

STATE = {
    "firms": (
        Column("stage", np.int8, 0, "0 start-up, 1 growth"),
        Column("alive", np.bool_, True, "False once the firm has failed"),
        Column("cash", np.float64, 0.0, "cash available for development [RMB m]"),
        Column("rounds", np.int16, 0, "VC rounds raised"),
        Column("vc_raised", np.float64, 0.0, "VC raised in total [RMB m]"),
        Column("born_step", np.int16, 0, "month of founding (negative: before the run)"),
        Column("closed_step", np.int16, -1, "month the firm failed, -1 while it is alive"),
        Column(
            "signal",
            np.float32,
            0.0,
            "recent invention patents + products, decaying over capital.signal_months "
            "(what investors screen on)",
        ),
    ),
    "investors": (
        Column("investor_type", np.int8, 0, "0 VC fund, 1 government guidance fund"),
        Column("raised", np.float64, 0.0, "capital raised or mobilised in total [RMB m]"),
        Column("held", np.float64, 0.0, "dry powder: raised, not yet invested [RMB m]"),
        Column("invested", np.float64, 0.0, "invested at cost, not written off [RMB m]"),
        Column("written_off", np.float64, 0.0, "investments written off when firms failed [RMB m]"),
        Column("realised", np.float64, 0.0, "investments realised at cost by exits [RMB m]"),
        Column("deals", np.int32, 0, "deals made"),
        Column(
            "invested_outside",
            np.float64,
            0.0,
            "invested at cost in CN and ROW, part of invested (docs/open_region.md) [RMB m]",
        ),
    ),
    "deals": (
        Column("firm", np.int32, 0, "firm funded"),
        Column("investor", np.int32, 0, "lead investor"),
        Column(
            "amount", np.float64, 0.0, "amount invested by the investor and co-investors [RMB m]"
        ),
        Column("step", np.int16, 0, "step of the deal"),
        Column("at_cost", np.float64, 0.0, "amount still invested at cost, after exits [RMB m]"),
        Column("written_off", np.bool_, False, "the firm failed and the deal was written off"),
    ),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = (
    Memory(
        "entry_base",
        "expected start-ups founded a month in each city, besides spin-offs (agents): its new "
        "enterprises a year x capital.startup_share / 12 x scale",
    ),
    Memory(
        "invested_history",
        "investors' own money invested in each of the last 12 months [RMB m] (fundraising's "
        "yardstick; read by capital.settle)",
    ),
    Memory(
        "book_history",
        "the warm-up's last 24 months of the book at cost: added, written off, and the "
        "recorded deals' book at the month's start (read by capital.settle_book)",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "funds_raised",
    "vc_deals",
    "vc_deals_cross_border",
    "vc_volume",
    "guidance_coinvestment",
    "vc_refused",
    "vc_screened_out",
    "vc_over_quota",
    "vc_written_off",
    "vc_realised",
    "firm_failures",
    "vc_deals_inward",
    "vc_volume_inward",
    "vc_volume_outward",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts (its start-ups are
counted by :func:`flowsim.firms.new_firms`)."""

CAPITAL = 1
GUIDANCE = 1


def init(world: World) -> None:
    """The founding rates per city, the investment history from the initial firms; no book history.

    The initial start-ups get the ages of a steady stream of founding under the exit
    hazard (:func:`stationary_startup_ages`), so their stock does not drift while its
    age mix settles.
    The history starts at the money the initial firms would raise in a month
    (:func:`flowsim.setup.expected_yearly_investment`), the yardstick the initial dry
    powder was drawn with.
    """
    world.entry_base = founding_rate(world.geo, world.params)
    F = world.firms
    startups = np.flatnonzero(F.stage == 0)
    ages = stationary_startup_ages(world.params.capital, startups.size, world.rngs["capital"])
    F.born_step[startups] = -ages
    world.invested_history = [expected_yearly_investment(world.params, world.firms) / 12.0]
    world.book_history = []


def allocate(amount: np.ndarray, investor: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Scale each requested amount so that no investor commits more than it holds (pure core)."""
    demand = np.bincount(investor, weights=amount, minlength=held.size)
    factor = np.where(demand > held, held / np.where(demand > 0, demand, 1.0), 1.0)
    return amount * factor[investor]


def founding_rate(geo, params) -> np.ndarray:
    """Expected start-ups founded a month per city, besides spin-offs (agents at the scale).

    The city's enterprises newly registered a year (``cities.csv`` ``new_enterprises``,
    times its ``population.city_multipliers``) x ``capital.startup_share`` of its
    jurisdiction / 12 x the scale: founding follows each city's registrations, not its firms.
    """
    registered = geo.figures["new_enterprises"] * np.asarray(
        params.population.city_multipliers.as_array()
    )
    share = np.asarray(params.capital.startup_share.as_array())[geo.city_jurisdiction]
    return registered * share / 12.0 * params.scale


def found_startups(world: World, t: int, rng: np.random.Generator) -> None:
    """New start-ups besides spin-offs: Poisson(``world.entry_base``) per city and month.

    The rate (:func:`founding_rate`, set by :func:`init`) does not grow with the firms
    alive, so the firm stock has a stable fixed point (entry + spin-offs = failures)
    instead of compounding at births minus deaths.
    """
    births = rng.poisson(world.entry_base)
    city = np.repeat(np.arange(world.geo.n_cities), births)
    if city.size == 0:
        return
    sector = draw_fields(city, world.firm_mix, rng)
    zone = np.full(city.size, -1)
    for z, zc in enumerate(world.geo.zone_city):
        here = (city == zc) & (rng.random(city.size) < world.geo.zone_population_share[z])
        zone[here & (zone < 0)] = z
    new_firms(world, city, zone, sector, t, rng)


def screening_probability(signal: np.ndarray, base: float, weight: float) -> np.ndarray:
    """Probability an investor backs a firm, from its recent signal (pure core).

    Odds = base odds x (1 + signal) ** weight; the signal is the firm's recent invention
    patents plus products on the market.
    """
    base = min(max(base, 1e-9), 1 - 1e-9)
    odds = base / (1.0 - base) * (1.0 + np.asarray(signal, dtype=np.float64)) ** weight
    return odds / (1.0 + odds)


def yearly_exit_hazard(age_years: np.ndarray, p) -> np.ndarray:
    """Exit hazard of a start-up by age [1/year, a rate] (pure core): a hump.

    It rises linearly from its value at founding to ``hazard_peak`` at
    ``hazard_peak_years``, then falls by e every ``hazard_decline_years``; the value at
    founding is set so that a cohort loses ``first_year_exit`` in its first 12 months.
    """
    peak_age = p.hazard_peak_years
    peak = -np.log1p(-p.hazard_peak)
    first_year = -np.log1p(-p.first_year_exit)
    # the integral over the first year of the rising line, peak_age >= 1
    at_birth = max((first_year - peak / (2.0 * peak_age)) / (1.0 - 1.0 / (2.0 * peak_age)), 0.0)
    age = np.maximum(np.asarray(age_years, dtype=np.float64), 0.0)
    rising = at_birth + (peak - at_birth) * age / peak_age
    falling = peak * np.exp(-(age - peak_age) / p.hazard_decline_years)
    return np.where(age <= peak_age, rising, falling)


def failure_hazard(
    stage: np.ndarray, age_months: np.ndarray, cash: np.ndarray, rounds: np.ndarray, p
) -> np.ndarray:
    """Monthly failure probability of each firm (pure core).

    A start-up fails at the registry hazard of its age (:func:`yearly_exit_hazard`),
    x (1 + runway_hazard_multiplier) once it has raised a round and its cash is below
    runway_cash; a growth firm at ``failure_rate_growth``.
    """
    startup = -np.expm1(-yearly_exit_hazard(np.asarray(age_months) / 12.0, p) / 12.0)
    base = np.where(stage == 0, startup, p.failure_rate_growth)
    out_of_runway = (stage == 0) & (rounds > 0) & (cash < p.runway_cash)
    runway = 1.0 + p.runway_hazard_multiplier * out_of_runway
    return np.minimum(base * runway, 1.0)


def stationary_startup_ages(p, n: int, rng: np.random.Generator) -> np.ndarray:
    """Ages [months] of ``n`` start-ups founded at a constant rate, under the exit hazard.

    The density of age a is the survival to a (pure core; up to 30 years).
    """
    months = np.arange(361)
    monthly = -np.expm1(-yearly_exit_hazard(months / 12.0, p) / 12.0)
    survival = np.exp(np.concatenate([[0.0], np.cumsum(np.log1p(-monthly[:-1]))]))
    cdf = np.cumsum(survival) / survival.sum()
    return np.minimum(np.searchsorted(cdf, rng.random(n)), months[-1]).astype(np.int64)


def highest_failure_hazard(p) -> float:
    """The highest monthly failure probability any firm can have (for thinning)."""
    peak = -np.expm1(np.log1p(-p.hazard_peak) / 12.0)
    return min(1.0, max(peak, p.failure_rate_growth) * (1.0 + p.runway_hazard_multiplier))


def exit_share(holding_months: float) -> float:
    """Share of a book at cost realised per month (pure core).

    Investments are held ``holding_months`` on average, an exponential holding time.
    """
    return float(-np.expm1(-1.0 / holding_months))


def realise(
    invested: np.ndarray, at_cost: np.ndarray, live: np.ndarray, share: float
) -> np.ndarray:
    """Realise ``share`` of each investor's book and of each live deal at cost, in place.

    Returns the amount each investor realised; what leaves ``invested`` is exactly
    what is returned (money is conserved), and a live deal keeps its place in its
    investor's book (its remaining cost shrinks by the same share; pure core).
    """
    out = invested * share
    invested -= out
    at_cost[live] *= 1.0 - share
    return out


def steady_book(history: list[tuple[float, float, float]], share: float) -> float | None:
    """Book at cost that the last months' flows hold steady: mean inflow / outflow rate.

    ``history`` holds (added, written off, book of recorded deals at the month's start)
    per month; the outflow rate is the exit ``share`` plus the write-off rate of recorded
    deals. None if there is not enough to go on (pure core).
    """
    added = sum(h[0] for h in history)
    written_off = sum(h[1] for h in history)
    deals = sum(h[2] for h in history)
    if added <= 0 or deals <= 0:
        return None
    return (added / len(history)) / (share + written_off / deals)


def settle_book(world: World) -> None:
    """Set the region's book at cost to the steady state of the last 24 months' flows.

    Called once at the very end of the warm-up, after the dry powder has settled (the
    investment flow depends on it; the book at cost feeds back on nothing but write-offs).
    The initial book (raised less dry powder) is a rough figure of the funds' earlier
    investments, which are in no recorded deal and so could never be written off; the
    book is replaced by the warm-up's recorded deals, each scaled by one factor so that
    the total is the steady state (inflow / (exit + write-off rate)). ``raised`` moves with
    the book, so the capital identity still holds.
    """
    p = world.params.capital
    target = steady_book(world.book_history, exit_share(p.holding_months))
    inv, D = world.investors, world.deals
    live = ~D.written_off
    deals = np.bincount(D.investor[live], weights=D.at_cost[live], minlength=inv.n)
    if target is None or deals.sum() <= 0:
        return
    factor = target / deals.sum()
    D.at_cost[live] *= factor
    new = deals * factor + inv.invested_outside  # the book outside is in no recorded deal
    inv.raised[:] += new - inv.invested
    inv.invested[:] = new


def settle(world: World) -> None:
    """Set the region's dry powder to ``population.dry_powder_years`` of recent investment.

    Called once during the warm-up (the initial holdings come from a rough
    estimate of investment); each investor's holding is scaled by one factor and its
    ``raised`` moves with it, so raised = invested + held + written off + realised holds.
    """
    inv = world.investors
    hist = world.invested_history
    yearly = sum(hist) * 12.0 / max(len(hist), 1)
    held = float(np.maximum(inv.held, 0.0).sum())
    if held <= 0 or yearly <= 0:
        return
    factor = world.params.population.dry_powder_years * yearly / held
    new = np.maximum(inv.held, 0.0) * factor
    inv.raised[:] += new - np.maximum(inv.held, 0.0)
    inv.held[:] = np.where(inv.held > 0, new, inv.held)


def step(world: World, t: int, warmup: bool = False) -> None:
    """New start-ups, fundraising, rounds, exits, then failures and write-offs.

    In a ``warmup`` month (the model says which) the book's flows are kept for
    :func:`settle_book`, which reads them at the warm-up's end only.
    """
    rng = world.rngs["capital"]
    p = world.params.capital
    inv, F = world.investors, world.firms
    if warmup:
        D = world.deals
        book = float(D.at_cost[~D.written_off].sum())
    added = 0.0
    found_startups(world, t, rng)
    F.signal[:] *= np.float32(np.exp(-1.0 / p.signal_months))

    # fundraising: new funds add to what investors hold
    # fundraising follows deployment: managers raise what they invested, more when the
    # region's dry powder is below its target, less above it. The yardstick is the mean of
    # the last 12 *completed* months: counting this month's empty entry in it would aim at
    # 11/12 of the target and raise 11/12 of what was invested, and the dry powder that
    # settle() set would sink by a sixth over the reported years
    hist = world.invested_history
    monthly = sum(hist) / len(hist) if hist else 0.0
    hist.append(0.0)
    del hist[:-12]
    target = world.params.population.dry_powder_years * 12.0 * monthly
    held = float(np.maximum(inv.held, 0.0).sum())
    pressure = float(np.clip(target / held, 0.0, 3.0)) if held > 0 else 3.0
    mean_size = world.params.population.fund_size_mean
    rate = p.fundraise_rate * monthly * pressure / max(inv.n * mean_size, 1e-9)
    new_fund = bernoulli_rows(inv.n, min(1.0, rate), rng)
    size = lognormal(
        world.params.population.fund_size_mean,
        world.params.population.fund_size_sigma,
        new_fund.size,
        rng,
    )
    inv.raised[new_fund] += size
    inv.held[new_fund] += size
    world.count("funds_raised", size.sum())
    world.refresh_investor_pools()

    # who seeks a round: candidates drawn at the highest rate, thinned to each firm's own
    waiting = firms_waiting_for_capital(world)
    top = max(p.seek_rate_startup, p.seek_rate_growth, p.seek_rate_waiting)
    candidates = bernoulli_rows(F.n, top, rng)
    rate = np.where(F.stage[candidates] == 0, p.seek_rate_startup, p.seek_rate_growth)
    rate = np.where(waiting[candidates], np.maximum(rate, p.seek_rate_waiting), rate)
    seekers = candidates[F.alive[candidates] & (rng.random(candidates.size) * top < rate)]
    # rounds led from the rest of the mainland or of the world (docs/open_region.md)
    seekers = _inward_rounds(world, seekers, rng)
    if seekers.size and inv.n:
        firm_city = F.city[seekers].astype(np.int64)
        inv_city = choose_capital_city(world, firm_city, F.zone[seekers], rng)
        ok = inv_city >= 0
        seekers, firm_city, inv_city = seekers[ok], firm_city[ok], inv_city[ok]
        investor = world.investor_pools.sample(inv_city, rng)
        ok = investor >= 0
        seekers, firm_city, inv_city, investor = (
            seekers[ok],
            firm_city[ok],
            inv_city[ok],
            investor[ok],
        )
        # screening: investors back firms with patents and products on the market more often
        backed = rng.random(seekers.size) < screening_probability(
            F.signal[seekers], p.screening_base, p.screening_weight
        )
        world.count_by("vc_screened_out", firm_city[~backed], F.sector[seekers[~backed]])
        seekers, firm_city, inv_city, investor = (
            a[backed] for a in (seekers, firm_city, inv_city, investor)
        )
        mean = np.where(F.stage[seekers] == 0, p.round_size_startup, p.round_size_growth)
        size = mean * np.exp(
            p.round_size_sigma * rng.standard_normal(seekers.size) - 0.5 * p.round_size_sigma**2
        )
        firm_kind = np.ones(seekers.size, dtype=np.int64)
        # the approved rounds are recorded below, once their amount is known
        c = cross_border(
            world,
            CAPITAL,
            inv_city,
            firm_city,
            F.zone[seekers],
            rng,
            "vc_round",
            keys=FlowKeys(
                field=F.sector[seekers],
                employer=firm_kind,
                lists=agent_lists(world, firm_kind, seekers),
                destination_zone=F.zone[seekers],
            ),
            counts=Counts(refused="vc_refused", over_quota="vc_over_quota"),
            record="refused",
        )
        seekers, investor, size = seekers[c.approved], investor[c.approved], size[c.approved]
        firm_city, inv_city, delay = (
            firm_city[c.approved],
            inv_city[c.approved],
            c.delay_days[c.approved],
        )
        corridor = c.corridor[c.approved]
        # the investor's own part, and the private money a guidance fund mobilises
        jur = world.geo.city_jurisdiction[inv.city[investor]]
        leverage = np.where(
            inv.investor_type[investor] == GUIDANCE,
            world.guidance_leverage[jur],
            0.0,
        )
        # a guidance fund writes its own ticket and brings `leverage` times as much
        # private money into the same round (HK's public investment company: > 5 to 1)
        own = allocate(size, investor, inv.held)
        private = own * leverage
        total = own + private
        done = own > 1e-9
        seekers, investor, own, private, total = (
            a[done] for a in (seekers, investor, own, private, total)
        )
        firm_city, inv_city, delay, corridor = (
            firm_city[done],
            inv_city[done],
            delay[done],
            corridor[done],
        )
        # the ledger keeps the investor's round and the private money it mobilised apart
        world.ledger.record(
            channel("vc_round"), inv_city, firm_city, np.ones(seekers.size, bool), own, delay
        )
        lev = private > 0
        world.ledger.record(
            channel("guidance_coinvestment"),
            inv_city[lev],
            firm_city[lev],
            np.ones(lev.sum(), bool),
            private[lev],
            delay[lev],
        )
        np.subtract.at(inv.held, investor, own)
        np.add.at(inv.raised, investor, private)
        np.add.at(inv.invested, investor, total)
        added = float(total.sum())
        np.add.at(inv.deals, investor, 1)
        np.add.at(F.cash, seekers, total)
        np.add.at(F.vc_raised, seekers, total)
        np.add.at(F.rounds, seekers, 1)
        F.stage[seekers] = np.where(F.rounds[seekers] >= p.rounds_to_grow, 1, F.stage[seekers])
        world.deals.add(
            seekers.size, firm=seekers, investor=investor, amount=total, at_cost=total, step=t
        )
        sector = F.sector[seekers]
        world.count_by("vc_deals", firm_city, sector)
        world.count("vc_deals_cross_border", (corridor >= 0).sum())
        world.count_by("vc_volume", firm_city, sector, total)
        world.invested_history[-1] += float(own.sum())
        world.count_by("guidance_coinvestment", firm_city, sector, private)
        world.tally.link("vc_deals", inv_city, firm_city, sector, 1.0, total)

    _outward(world, rng)  # its book is in no recorded deal: not in `added`
    D = world.deals
    share = exit_share(p.holding_months)
    realised = realise(inv.invested, D.at_cost, ~D.written_off, share)
    inv.invested_outside[:] *= 1.0 - share
    inv.realised[:] += realised
    world.count("vc_realised", realised.sum())
    written_off = fail(world, t, rng)
    if warmup:
        world.book_history.append((added, written_off, book))
        del world.book_history[:-24]


def _inward_rounds(world: World, seekers: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rounds led from CN or ROW (:func:`flowsim.openregion.external_leads`); the rest returned.

    A round led from outside is screened and sized like the region's, crosses the external
    border (channel ``vc_round``, recorded in the ledger with its amount), and if approved
    gives the firm its cash: a VC deal of the region's firm, in no investor's book.
    """
    if seekers.size == 0:
        return seekers
    p = world.params.capital
    F = world.firms
    firm_city = F.city[seekers].astype(np.int64)
    kind = np.ones(seekers.size, dtype=np.int64)
    keys = FlowKeys(
        field=F.sector[seekers],
        employer=kind,
        lists=agent_lists(world, kind, seekers),
        destination_zone=F.zone[seekers],
    )
    lead = openregion.external_leads(world, firm_city, F.zone[seekers], keys, rng)
    ext = np.flatnonzero(lead >= 0)
    if ext.size == 0:
        return seekers
    rows = seekers[ext]
    backed = rng.random(ext.size) < screening_probability(
        F.signal[rows], p.screening_base, p.screening_weight
    )
    world.count_by("vc_screened_out", firm_city[ext[~backed]], F.sector[rows[~backed]])
    ext, rows = ext[backed], rows[backed]
    mean = np.where(F.stage[rows] == 0, p.round_size_startup, p.round_size_growth)
    size = mean * np.exp(
        p.round_size_sigma * rng.standard_normal(rows.size) - 0.5 * p.round_size_sigma**2
    )
    c = cross_border(
        world,
        CAPITAL,
        openregion.CN + lead[ext],
        firm_city[ext],
        F.zone[rows],
        rng,
        "vc_round",
        volume=size,
        keys=keys.take(ext),
        counts=Counts(approved="vc_deals_inward", refused="vc_refused", over_quota="vc_over_quota"),
        external=True,
    )
    ok = c.approved
    rows, size, city, place = rows[ok], size[ok], firm_city[ext][ok], openregion.CN + lead[ext][ok]
    np.add.at(F.cash, rows, size)
    np.add.at(F.vc_raised, rows, size)
    np.add.at(F.rounds, rows, 1)
    F.stage[rows] = np.where(F.rounds[rows] >= p.rounds_to_grow, 1, F.stage[rows])
    sector = F.sector[rows]
    world.count_by("vc_deals", city, sector)
    world.count_by("vc_volume", city, sector, size)
    world.count("vc_volume_inward", size.sum())
    world.tally.link("vc_deals", place, city, sector, 1.0, size)
    return seekers[lead < 0]


def _outward(world: World, rng: np.random.Generator) -> float:
    """The funds' investment in CN and ROW this month; returns the amount invested.

    The region's dry powder is ``population.dry_powder_years`` of its investment, so a fund
    deploys a share 1 / (12 x dry_powder_years) of its dry powder a month, in the region and
    outside; each fund sends to each external place its dry powder x that share x its
    jurisdiction's outward share, thinned by :func:`flowsim.openregion.external_share` (the
    border's deterrence). Fundraising follows all deployment, so in steady state the outside
    takes the outward share of what the funds invest. Each flow crosses the external border
    (channel ``vc_round``); the approved amount leaves the dry powder for ``invested`` and
    ``invested_outside``.
    """
    op = world.params.open_region
    inv = world.investors
    if not op.enabled or inv.n == 0:
        return 0.0
    rate = 1.0 / (12.0 * max(world.params.population.dry_powder_years, 1e-9))
    rows = np.flatnonzero(inv.held > 1e-9)
    city = inv.city[rows].astype(np.int64)
    jur = world.geo.city_jurisdiction[city].astype(np.int64)
    shares = np.minimum(op.capital_factor * openregion.load_capital_shares()[1], 0.45)
    zone = inv.zone[rows].astype(np.int64)
    base = inv.held[rows] * rate
    total = 0.0
    for x in range(shares.shape[1]):  # a loop over the two places, not over agents
        place = openregion.CN + x
        p = openregion.external_share(
            world, shares[jur, x], city, place, False, zone, FlowKeys(origin_zone=zone)
        )
        amount = np.minimum(base * p, np.maximum(inv.held[rows], 0.0))
        go = np.flatnonzero(amount > 1e-9)
        c = cross_border(
            world,
            CAPITAL,
            city[go],
            np.full(go.size, place),
            zone[go],
            rng,
            "vc_round",
            volume=amount[go],
            keys=FlowKeys(origin_zone=zone[go]),
            external=True,
        )
        sent, money = rows[go[c.approved]], amount[go[c.approved]]
        inv.held[sent] -= money
        inv.invested[sent] += money
        inv.invested_outside[sent] += money
        world.invested_history[-1] += float(money.sum())
        world.count("vc_volume_outward", money.sum())
        total += float(money.sum())
    return total


def fail(world: World, t: int, rng: np.random.Generator) -> float:
    """Firms fail; their deals are written off and their researchers find other employers.

    Returns the amount written off.
    """
    p = world.params.capital
    inv, F, D = world.investors, world.firms, world.deals
    # candidates drawn at the highest possible rate, thinned to each firm's own hazard
    top = highest_failure_hazard(p)
    candidates = bernoulli_rows(F.n, top, rng)
    rate = failure_hazard(
        F.stage[candidates],
        t - F.born_step[candidates].astype(np.int64),
        F.cash[candidates],
        F.rounds[candidates],
        p,
    )
    # named anchors (flowsim.anchors) do not fail
    rows = candidates[
        F.alive[candidates]
        & (rng.random(candidates.size) * top < rate)
        & (F.anchor[candidates] < 0)
    ]
    if rows.size == 0:
        return 0.0
    failed = np.zeros(F.n, dtype=bool)
    failed[rows] = True
    F.alive[rows] = False
    F.closed_step[rows] = t
    F.cash[rows] = 0.0
    world.count_by("firm_failures", F.city[rows], F.sector[rows])
    gone = failed[D.firm] & ~D.written_off
    D.written_off[gone] = True
    amount = D.at_cost[gone]
    np.subtract.at(inv.invested, D.investor[gone], amount)
    np.add.at(inv.written_off, D.investor[gone], amount)
    lost = D.firm[gone]
    world.count_by("vc_written_off", F.city[lost], F.sector[lost], amount)
    rehome_researchers(world, rng)
    return float(amount.sum())
