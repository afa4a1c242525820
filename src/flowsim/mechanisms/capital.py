"""Capital: fundraising, VC and guidance-fund rounds, failures and write-offs.

Firms seek a round each month (start-ups more often; firms with development
projects waiting for money most). A seeker picks an investor city by gravity:
the city's dry powder, decaying with travel time, times ``1 + home_bias`` for
the firm's own city, times the border weight of the capital friction; then an
investor there in proportion to its dry powder. A cross-border round must pass
the capital friction (refusal or quota means no round this month). A guidance
fund writes the ticket and mobilises ``guidance_leverage`` times as much private
money into the same round, so leverage makes its rounds larger.

Accounting, per investor and in total: raised = invested + held + written off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.flows import channel
from flowsim.policy import cross
from flowsim.streams import bernoulli_rows

if TYPE_CHECKING:
    from flowsim.world import World

CAPITAL = 1
GUIDANCE = 1


def allocate(amount: np.ndarray, investor: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Scale each requested amount so that no investor commits more than it holds (pure core)."""
    demand = np.bincount(investor, weights=amount, minlength=held.size)
    factor = np.where(demand > held, held / np.where(demand > 0, demand, 1.0), 1.0)
    return amount * factor[investor]


def lognormal(mean: float, sigma: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Lognormal draws with the given mean (not median)."""
    return mean * np.exp(sigma * rng.standard_normal(size) - 0.5 * sigma**2)


def found_startups(world: World, t: int, rng: np.random.Generator) -> None:
    """New start-ups besides spin-offs: per city, in proportion to the firms alive there."""
    p = world.params.capital
    F = world.firms
    alive = np.bincount(F.city[F.alive], minlength=world.geo.n_cities)
    births = rng.binomial(alive, p.startup_birth_rate)
    city = np.repeat(np.arange(world.geo.n_cities), births)
    if city.size == 0:
        return
    field_p = np.asarray(world.params.population.field_shares.as_array())
    sector = rng.choice(field_p.size, size=city.size, p=field_p / field_p.sum())
    zone = np.full(city.size, -1)
    for z, zc in enumerate(world.geo.zone_city):
        here = (city == zc) & (rng.random(city.size) < world.geo.zone_population_share[z])
        zone[here & (zone < 0)] = z
    world.new_firms(city, zone, sector, t, spinoff=False)


def step(world: World, t: int) -> None:
    """New start-ups, fundraising, rounds, then failures and write-offs."""
    rng = world.rngs["capital"]
    p = world.params.capital
    inv, F = world.investors, world.firms
    found_startups(world, t, rng)

    # fundraising: new funds add to what investors hold
    new_fund = bernoulli_rows(inv.n, p.fundraise_rate, rng)
    size = lognormal(
        world.params.population.fund_size_mean,
        world.params.population.fund_size_sigma,
        new_fund.size,
        rng,
    )
    inv.raised[new_fund] += size
    inv.held[new_fund] += size
    inv.fund_size[new_fund] = size
    world.count("funds_raised", size.sum())
    world.refresh_investor_pools()

    # who seeks a round: candidates drawn at the highest rate, thinned to each firm's own
    waiting = world.firms_waiting_for_capital()
    top = max(p.seek_rate_startup, p.seek_rate_growth, p.seek_rate_waiting)
    candidates = bernoulli_rows(F.n, top, rng)
    rate = np.where(F.stage[candidates] == 0, p.seek_rate_startup, p.seek_rate_growth)
    rate = np.where(waiting[candidates], np.maximum(rate, p.seek_rate_waiting), rate)
    seekers = candidates[F.alive[candidates] & (rng.random(candidates.size) * top < rate)]
    if seekers.size and inv.n:
        firm_city = F.city[seekers].astype(np.int64)
        inv_city = world.choose_capital_city(firm_city, F.zone[seekers], rng)
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
        mean = np.where(F.stage[seekers] == 0, p.round_size_startup, p.round_size_growth)
        size = mean * np.exp(
            p.round_size_sigma * rng.standard_normal(seekers.size) - 0.5 * p.round_size_sigma**2
        )
        c = cross(
            inv_city,
            firm_city,
            F.zone[seekers],
            CAPITAL,
            world.tables,
            world.geo.corridor,
            world.quota_left,
            rng,
        )
        world.count("vc_refused", c.refused.sum())
        world.count("vc_over_quota", c.over_quota.sum())
        world.count("friction_cost", c.cost[c.approved].sum())
        refused = ~c.approved
        world.ledger.record(
            channel("vc_round"),
            inv_city[refused],
            firm_city[refused],
            np.zeros(refused.sum(), bool),
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
            np.asarray(p.guidance_leverage.as_array())[jur],
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
        np.add.at(inv.deals, investor, 1)
        np.add.at(F.cash, seekers, total)
        np.add.at(F.vc_raised, seekers, total)
        np.add.at(F.rounds, seekers, 1)
        F.stage[seekers] = np.where(F.rounds[seekers] >= p.rounds_to_grow, 1, F.stage[seekers])
        world.deals.add(seekers.size, firm=seekers, investor=investor, amount=total, step=t)
        sector = F.sector[seekers]
        world.count_by("vc_deals", firm_city, sector)
        world.count("vc_deals_cross_border", (corridor >= 0).sum())
        world.count_by("vc_volume", firm_city, sector, total)
        world.count_by("guidance_coinvestment", firm_city, sector, private)
        world.tally.link("vc_deals", inv_city, firm_city, sector, 1.0, total)

    fail(world, t, rng)


def fail(world: World, t: int, rng: np.random.Generator) -> None:
    """Firms fail; their deals are written off and their researchers find other employers."""
    p = world.params.capital
    inv, F, D = world.investors, world.firms, world.deals
    # candidates drawn at the higher rate, thinned to each firm's own (no draw per firm)
    top = max(p.failure_rate_startup, p.failure_rate_growth)
    candidates = bernoulli_rows(F.n, top, rng)
    rate = np.where(F.stage[candidates] == 0, p.failure_rate_startup, p.failure_rate_growth)
    rows = candidates[F.alive[candidates] & (rng.random(candidates.size) * top < rate)]
    if rows.size == 0:
        return
    failed = np.zeros(F.n, dtype=bool)
    failed[rows] = True
    F.alive[rows] = False
    F.cash[rows] = 0.0
    world.count_by("firm_failures", F.city[rows], F.sector[rows])
    gone = failed[D.firm] & ~D.written_off
    D.written_off[gone] = True
    np.subtract.at(inv.invested, D.investor[gone], D.amount[gone])
    np.add.at(inv.written_off, D.investor[gone], D.amount[gone])
    lost = D.firm[gone]
    world.count_by("vc_written_off", F.city[lost], F.sector[lost], D.amount[gone])
    world.rehome_researchers(rng)
