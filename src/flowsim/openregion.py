"""The open region: the rest of mainland China (CN) and the rest of the world (ROW).

CN and ROW are external places (:data:`flowsim.geography.EXTERNALS`): aggregates, not
agents. Each is its own jurisdiction for the rule language, with borders of its own
(``policy.external``; no border between CN and Guangdong). This module holds what the
mechanisms need of them: the pools of external co-authors (``data/external_coauthorship.csv``,
``data/external_capability.csv``, every row sourced or an assumption) and the draw of a
project's external co-authors, which cross their border under the rules in force
(:func:`flowsim.policy.cross_border` with ``external=True``).

A tool: the research mechanism calls it with its own random stream; it never imports a
mechanism. docs/open_region.md describes the design.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from flowsim import policy
from flowsim.geography import CITIES, ELEMENTS, EXTERNALS, FIELDS, JURISDICTIONS, load_geography
from flowsim.paramtypes import Policy, _Frozen, _nonneg

if TYPE_CHECKING:
    from flowsim.paramtypes import Response
    from flowsim.world import World

TALENT = ELEMENTS.index("talent")
CN, ROW = (len(CITIES) + i for i in range(len(EXTERNALS)))
"""Place numbers of the external places (:data:`flowsim.geography.PLACES`)."""


class OpenRegionParams(_Frozen):
    """The external places' part in research: who co-authors with the Bay Area from outside."""

    enabled: bool = Field(
        True,
        description="external co-authors from CN and ROW (false: a closed region, as before "
        "the open region; docs/open_region.md) [switch]",
    )
    coauthorship_factor: float = _nonneg(
        1.0,
        "multiplier of the shares of data/external_coauthorship.csv (the share of each "
        "jurisdiction's papers with a co-author in CN or ROW, at baseline friction) [factor] "
        "(1 = the table; an assumption parameter for priors)",
    )
    capital_factor: float = _nonneg(
        1.0,
        "multiplier of the shares of data/external_capital.csv (VC rounds led from CN or ROW, "
        "and funds' investment going there, at baseline friction) [factor] (1 = the table; an "
        "assumption parameter for priors)",
    )
    talent_factor: float = _nonneg(
        1.0,
        "multiplier of the yearly rates of data/external_talent.csv (researchers arriving "
        "from and leaving for CN and ROW, per researcher, at baseline friction) [factor] (1 = "
        "the table; an assumption parameter for priors; 0 = no exchange of researchers with "
        "the outside)",
    )
    filing_factor: float = _nonneg(
        1.0,
        "multiplier of the shares of data/patent_filing.csv (invention patents also filed "
        "in CN - at CNIPA, by Hong Kong and Macao applicants - or abroad by the direct route) "
        "[factor] (1 = the table; counts only: no mechanism reads where a patent is filed)",
    )


@dataclass(frozen=True)
class Pools:
    """External co-author pools.

    Attributes:
        share: share of each jurisdiction's projects with a co-author in each external
            place at baseline friction, shape (3 jurisdictions, 2 externals).
        capability: a co-author's capability relative to the Bay Area field mean, shape
            (2 externals, fields).
        sources: ``(partner, jurisdiction or field) -> source``.
    """

    share: np.ndarray
    capability: np.ndarray
    sources: dict[tuple[str, str], str]


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("flowsim.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def load_pools() -> Pools:
    """The shipped pools (cached; read-only)."""
    share = np.full((len(JURISDICTIONS), len(EXTERNALS)), math.nan)
    capability = np.full((len(EXTERNALS), len(FIELDS)), math.nan)
    sources: dict[tuple[str, str], str] = {}
    for line, row in enumerate(_read("external_coauthorship.csv"), start=2):
        value = float(row["share"])
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"external_coauthorship.csv line {line}: share must be in [0, 1]")
        share[JURISDICTIONS.index(row["jurisdiction"]), EXTERNALS.index(row["partner"])] = value
        sources[(row["partner"], row["jurisdiction"])] = row["source"]
    for line, row in enumerate(_read("external_capability.csv"), start=2):
        value = float(row["capability"])
        if value < 0.0:
            raise ValueError(f"external_capability.csv line {line}: capability must be >= 0")
        capability[EXTERNALS.index(row["partner"]), FIELDS.index(row["field"])] = value
        sources[(row["partner"], row["field"])] = row["source"]
    if np.isnan(share).any() or np.isnan(capability).any():
        raise ValueError("external_*.csv do not cover every jurisdiction x partner and field")
    for a in (share, capability):
        a.flags.writeable = False
    return Pools(share, capability, sources)


@cache
def load_capital_shares() -> np.ndarray:
    """Shares of VC flows with the external places, shape (2 directions, 3, externals).

    Direction 0 (inward): the share of each jurisdiction's firms' rounds led by an investor
    in CN or ROW; direction 1 (outward): the share of each jurisdiction's funds' investment
    that goes to CN or ROW (``data/external_capital.csv``; cached).
    """
    out = np.full((2, len(JURISDICTIONS), len(EXTERNALS)), math.nan)
    for line, row in enumerate(_read("external_capital.csv"), start=2):
        value = float(row["share"])
        if not 0.0 <= value < 1.0:
            raise ValueError(f"external_capital.csv line {line}: share must be in [0, 1)")
        d = ("inward", "outward").index(row["direction"])
        out[d, JURISDICTIONS.index(row["jurisdiction"]), EXTERNALS.index(row["partner"])] = value
    if np.isnan(out).any() or (out[1].sum(axis=1) >= 1.0).any():
        raise ValueError(
            "external_capital.csv: needs every direction x jurisdiction x partner, and "
            "outward shares of a jurisdiction summing below 1"
        )
    out.flags.writeable = False
    return out


@cache
def load_filing_shares() -> np.ndarray:
    """Shares of invention patents also filed in CN and ROW, shape (3 jurisdictions, externals).

    Column CN: the probability that a jurisdiction's invention patent is also filed at
    CNIPA across the border (0 for Guangdong, whose home office CNIPA is); column ROW: the
    probability that an invention patent not filed under the PCT is filed abroad directly
    (``data/patent_filing.csv``; cached).
    """
    out = np.full((len(JURISDICTIONS), len(EXTERNALS)), math.nan)
    for line, row in enumerate(_read("patent_filing.csv"), start=2):
        value = float(row["share"])
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"patent_filing.csv line {line}: share must be in [0, 1]")
        if not row["source"].strip():
            raise ValueError(f"patent_filing.csv line {line}: a source or assumption is needed")
        out[JURISDICTIONS.index(row["jurisdiction"]), EXTERNALS.index(row["partner"])] = value
    if np.isnan(out).any():
        raise ValueError("patent_filing.csv does not cover every jurisdiction x partner")
    out.flags.writeable = False
    return out


def file_patents(
    patents: np.ndarray,
    pct: np.ndarray,
    jur: np.ndarray,
    shares: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Where a batch of projects' invention patents are filed outside home (pure core).

    Returns (filed in CN, filed in ROW) per project. CN: each invention patent is also
    filed at CNIPA with its jurisdiction's CN share. ROW: every PCT application counts (it
    is filed to reach foreign offices), and each other invention patent is filed abroad
    directly with the jurisdiction's ROW share. ``shares`` is (3, externals), already
    multiplied by the factor and capped at 1.
    """
    patents = np.asarray(patents, dtype=np.int64)
    cn = rng.binomial(patents, shares[jur, 0])
    row = pct + rng.binomial(patents - pct, shares[jur, 1])
    return cn, row


@cache
def load_input_quality() -> np.ndarray:
    """Quality of CN's and ROW's best data and samples per field (cached).

    Relative to the Bay Area's best (1; may exceed it), shape (input elements, externals,
    fields), from ``data/external_inputs.csv``.
    """
    from flowsim.geography import INPUT_ELEMENTS

    out = np.full((len(INPUT_ELEMENTS), len(EXTERNALS), len(FIELDS)), math.nan)
    for line, row in enumerate(_read("external_inputs.csv"), start=2):
        e, f = INPUT_ELEMENTS.index(row["element"]), FIELDS.index(row["field"])
        for x, name in enumerate(EXTERNALS):
            value = float(row[name])
            if value <= 0.0:
                raise ValueError(f"external_inputs.csv line {line}: {name} must be > 0")
            out[e, x, f] = value
        if not row["source"].strip():
            raise ValueError(f"external_inputs.csv line {line}: a source or assumption is needed")
    if np.isnan(out).any():
        raise ValueError("external_inputs.csv does not cover every element x field")
    out.flags.writeable = False
    return out


@cache
def baseline_weights(
    response: Response, element: int = TALENT, inbound: bool = False
) -> np.ndarray:
    """Expected deterrence x approval of a flow at baseline friction, (3, 2 externals).

    What the shares of the data files were observed under: the default ``policy.external``
    with no rules, for an agent outside every zone; ``inbound`` flows come from the
    external place.
    """
    geo = load_geography()
    tables = policy.compile_external(Policy(), policy.compile_policy(Policy(), geo, 1.0), 1.0)
    city = np.repeat(np.arange(len(CITIES)), len(EXTERNALS))
    place = np.tile(np.arange(len(EXTERNALS)) + len(CITIES), len(CITIES))
    none = np.full(city.size, -1)
    keys = policy.FlowKeys()
    w = policy.external_weights(
        tables, None, element, city, place, inbound, none, keys, geo, response
    )
    o, d = (place, city) if inbound else (city, place)
    f = policy.resolve(
        tables, None, element, o, d, none, keys, geo.place_jurisdiction, geo.place_corridor
    )
    border = geo.place_corridor[city, place] >= 0
    approval = np.where(border, f.approval, 1.0)
    per_city = (w * approval).reshape(len(CITIES), len(EXTERNALS))
    out = np.zeros((len(JURISDICTIONS), len(EXTERNALS)))
    for j in range(len(JURISDICTIONS)):  # a loop over 3 jurisdictions, not agents
        out[j] = per_city[np.flatnonzero(geo.city_jurisdiction == j)[0]]
    out.flags.writeable = False
    return out


def coauthor_probability(share: np.ndarray, weight: np.ndarray, baseline: np.ndarray) -> np.ndarray:
    """Probability of seeking a co-author in an external place (pure core).

    ``share`` is the observed share at baseline friction, ``weight`` the expected deterrence
    under the rules in force and ``baseline`` the baseline's deterrence x approval: at
    baseline, seeking with this probability and passing the border with its approval gives
    the observed share; lower friction raises both the seeking and the passing.
    """
    return np.clip(share * weight / np.maximum(baseline, 1e-12), 0.0, 1.0)


def coauthors(
    world: World,
    city: np.ndarray,
    zone: np.ndarray,
    field: np.ndarray,
    keys: policy.FlowKeys,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """External co-authors of a batch of new projects (vectorised over projects).

    For each external place, a project seeks a co-author there with
    :func:`coauthor_probability`; the collaboration crosses the border from the PI's city
    (talent, channel ``collaboration``), and a refused one is lost. Draws come from ``rng``
    (the research mechanism's stream): one uniform per project and place, then the
    crossing's.

    Returns:
        A bit mask per project (bit 0 CN, bit 1 ROW) and the summed capability of the
        co-authors it got.
    """
    n = city.size
    mask = np.zeros(n, dtype=np.int8)
    capability = np.zeros(n)
    op = world.params.open_region
    if not op.enabled or n == 0:
        rng.random((n, len(EXTERNALS)))  # the same draws either way: common random numbers
        return mask, capability
    geo = world.geo
    pools = load_pools()
    response = policy.response_for(world, "collaboration", "talent")
    jur = geo.city_jurisdiction[city].astype(np.int64)
    u = rng.random((n, len(EXTERNALS)))
    base = baseline_weights(response)
    for x in range(len(EXTERNALS)):  # a loop over the two places, not over agents
        place = np.full(n, len(CITIES) + x, dtype=np.int64)
        w = policy.external_weights_for(
            world, "collaboration", TALENT, city, place, False, zone, keys, response
        )
        p = coauthor_probability(op.coauthorship_factor * pools.share[jur, x], w, base[jur, x])
        seek = np.flatnonzero(u[:, x] < p)
        if seek.size == 0:
            continue
        c = policy.cross_border(
            world,
            TALENT,
            city[seek],
            place[seek],
            zone[seek],
            rng,
            "collaboration",
            keys=keys.take(seek),
            counts=policy.Counts(
                approved="external_collaborations",
                refused="external_collaborations_refused",
            ),
            external=True,
        )
        got = seek[c.approved]
        mask[got] |= np.int8(1 << x)
        capability[got] += pools.capability[x, field[got]]
    return mask, capability


def expected_gain(world: World, jur: np.ndarray, field: np.ndarray) -> np.ndarray:
    """Expected ``1 + gain x capability`` of external co-authors at baseline shares.

    A project's quality is divided by it, so that the calibrated output rates, which already
    hold the real world's external co-authorship, stay the baseline's on average: only a
    change from the baseline's external co-authorship moves output.
    """
    op = world.params.open_region
    if not op.enabled:
        return np.ones(jur.size)
    pools = load_pools()
    gain = world.params.research.collaboration_gain
    share = np.minimum(op.coauthorship_factor * pools.share[jur], 1.0)  # (n, externals)
    cap = pools.capability[:, field].T  # (n, externals)
    return 1.0 + gain * (share * cap).sum(axis=1)


CAPITAL = ELEMENTS.index("capital")


def external_share(
    world: World,
    share: np.ndarray,
    city: np.ndarray,
    place: int,
    inbound: bool,
    zone: np.ndarray,
    keys: policy.FlowKeys,
) -> np.ndarray:
    """Probability that a capital flow of each city goes to (or comes from) ``place``.

    :func:`coauthor_probability` with the capital border: ``share`` per flow is the observed
    share at baseline friction.
    """
    response = policy.response_for(world, "vc_round", "capital")
    places = np.full(city.size, place, dtype=np.int64)
    w = policy.external_weights_for(
        world, "vc_round", CAPITAL, city, places, inbound, zone, keys, response
    )
    jur = world.geo.city_jurisdiction[city].astype(np.int64)
    base = baseline_weights(response, CAPITAL, inbound)[jur, place - len(CITIES)]
    return coauthor_probability(share, w, base)


def external_leads(
    world: World,
    city: np.ndarray,
    zone: np.ndarray,
    keys: policy.FlowKeys,
    rng: np.random.Generator,
) -> np.ndarray:
    """Which rounds sought by firms in ``city`` are led from CN (0) or ROW (1), -1 none.

    One uniform per round from ``rng`` (the capital mechanism's stream), whatever the policy.
    """
    n = city.size
    u = rng.random(n)
    lead = np.full(n, -1, dtype=np.int64)
    op = world.params.open_region
    if not op.enabled or n == 0:
        return lead
    jur = world.geo.city_jurisdiction[city].astype(np.int64)
    shares = load_capital_shares()[0]
    low = np.zeros(n)
    for x in range(len(EXTERNALS)):  # a loop over the two places, not over agents
        p = external_share(
            world, op.capital_factor * shares[jur, x], city, len(CITIES) + x, True, zone, keys
        )
        high = np.minimum(low + p, 1.0)
        lead[(u >= low) & (u < high)] = x
        low = high
    return lead


@cache
def load_talent_rates() -> np.ndarray:
    """Yearly exchange of researchers with CN and ROW per researcher, shape (3, externals).

    The gross circulation at baseline friction (``data/external_talent.csv``, each row
    sourced or an assumption): as many researchers arrive from each external place as leave
    for it, so the exchange keeps the baseline's numbers and a policy that lowers one
    direction's border moves them (cached).
    """
    out = np.full((len(JURISDICTIONS), len(EXTERNALS)), math.nan)
    for line, row in enumerate(_read("external_talent.csv"), start=2):
        value = float(row["rate"])
        if not 0.0 <= value < 1.0 or not row["source"].strip():
            raise ValueError(
                f"external_talent.csv line {line}: the rate must be in [0, 1) a year, with a "
                "source or stated assumption"
            )
        out[JURISDICTIONS.index(row["jurisdiction"]), EXTERNALS.index(row["partner"])] = value
    if np.isnan(out).any():
        raise ValueError("external_talent.csv does not cover every jurisdiction x partner")
    out.flags.writeable = False
    return out


def monthly_talent_rates(op: OpenRegionParams) -> np.ndarray:
    """Monthly rate of each jurisdiction's exchange with CN and ROW, shape (3, externals).

    The probability that a researcher leaves for each place in a month at baseline
    friction, and the arrivals from it per researcher:
    ``1 - (1 - rate x talent_factor) ** (1 / 12)`` of :func:`load_talent_rates`; zeros when
    the open region is off.
    """
    if not op.enabled:
        return np.zeros((len(JURISDICTIONS), len(EXTERNALS)))
    yearly = np.clip(load_talent_rates() * op.talent_factor, 0.0, 0.999)
    return 1.0 - np.power(1.0 - yearly, 1.0 / 12.0)
