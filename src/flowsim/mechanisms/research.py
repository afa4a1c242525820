"""Research projects: staffing (possibly across borders), inputs, and outputs.

A researcher starts a project with a monthly probability that depends on the
employer (lab or firm). The project may recruit a collaborator in another city
(a talent crossing; likelier where the PI has a visit tie there). A mainland
grant-funded lab project with a collaborator across the border must move grant
money across it (a capital crossing) if the grant may be spent there at all. The
project may need data and samples (:mod:`~flowsim.mechanisms.data`,
:mod:`~flowsim.mechanisms.samples`); a refused input stops it or weakens it, a
delayed one holds back the start of the work, and each month of waiting risks
abandonment (``abandon_rate_waiting``). When done, it yields papers and inventions; lab
inventions join the lab's stock for transfer, firm inventions may start
development. Inventions are filed as invention patents, some under the PCT (firms with a
heavy-tailed propensity).

Partners are chosen for what they bring (:func:`choose_partners`): field, skill,
the knowledge of their city, a prior tie, and the border's expected deterrence;
a refused partner across the border is replaced by the best domestic candidate,
so friction costs capability. A project's quality is the PI's skill x (1 +
``collaboration_gain`` x partner capability) x (1 + ``cross_border_bonus`` if the
team spans two jurisdictions) x the knowledge productivity of its city x field
x the quality of its data and samples. Outputs feed the knowledge stocks
(:mod:`flowsim.knowledge`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from flowsim import openregion, policy
from flowsim.firms import new_developments
from flowsim.mechanisms import data, samples
from flowsim.paramtypes import ByField, ByJurisdiction, _Frozen, _nonneg, _positive, _share
from flowsim.pools import choose_rows
from flowsim.populations import add_counts, compact
from flowsim.state import Column, Memory
from flowsim.whitelists import agent_lists

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = "research"
"""The scenario section this mechanism owns: ``research.*``, of class :data:`Params`."""


class QualityFactor(_Frozen):
    """A multiplier per jurisdiction of the input-quality table (an assumption parameter).

    After multiplying, each field's qualities are divided by their largest, so the
    best source anywhere stays at 1 and only the jurisdictions' relative advantage moves.
    """

    GD: float = Field(1.0, gt=0.0, description="multiplier of Guangdong's quality [factor]")
    HK: float = Field(1.0, gt=0.0, description="multiplier of Hong Kong's quality [factor]")
    MO: float = Field(1.0, gt=0.0, description="multiplier of Macao's quality [factor]")

    def as_array(self) -> list[float]:
        """Values in the order GD, HK, MO."""
        return [self.GD, self.HK, self.MO]


class ResearchParams(_Frozen):
    """Research projects: who starts them, what they need, what they produce."""

    project_rate_lab: float = _share(
        0.006708,
        "projects started per lab researcher per month (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.01, assumption)",
    )
    project_rate_firm: float = _share(
        0.004182,
        "projects started per firm researcher per month (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.003, assumption)",
    )
    duration_months: float = _positive(18.0, "mean project duration [months] (assumption)")
    collaboration_prob: float = _share(
        0.3415,
        "probability a project recruits an external collaborator, in its own city or another "
        "(calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.5, "
        "assumption: about half of projects have a partner outside the PI's employer)",
    )
    tie_memory_months: int = Field(
        60,
        ge=0,
        le=600,
        description="months a collaboration tie lasts without a new joint project; a PI "
        "weighs its prior partner only within them [months] (assumption: the 5-year windows "
        "in which co-authorship networks are usually built, e.g. Newman 2001 PNAS 98:404; "
        "without a lapse, ties to partners who moved away pile up and the same-city share of "
        "collaborations sank by 6 points over the reported years)",
    )
    partner_candidates: int = Field(
        4,
        ge=1,
        le=16,
        description="partners a PI considers before choosing one [candidates] (assumption)",
    )
    same_city_factor: float = _nonneg(
        5.0,
        "extra pull of candidate partners in the PI's own city [factor] (Jaffe, Trajtenberg & "
        "Henderson 1993: citations 5-10x likelier from the same metro area)",
    )
    collab_decay_minutes: float = _positive(
        60.0,
        "travel time at which the pull of a candidate partner's city falls by e [min] (assumption)",
    )
    tie_value: float = _nonneg(
        1.5,
        "extra value of a prior partner over a new one [factor] (assumption: trust and lower "
        "search costs make repeat collaboration common)",
    )
    capability_elasticity: float = _nonneg(
        1.0,
        "elasticity of a partner's capability to the knowledge density of its city x field "
        "(assumption)",
    )
    collaboration_gain: float = _nonneg(
        0.1777,
        "extra output of a project per unit of its partner's relative capability (calibrated "
        "on model v2, scenarios/calibration/targets.yaml; hand value 0.3, assumption: team "
        "papers are more cited, Wuchty, Jones & Uzzi 2007)",
    )
    tie_collaboration_boost: float = _nonneg(
        1.0, "extra collaboration odds for a PI with an active visit tie (assumption)"
    )
    papers_per_project_lab: float = _nonneg(
        1.742,
        "mean papers per lab project (calibrated: model v2 fit 2.585 on "
        "scenarios/calibration/targets.yaml, re-fitted x0.674 after Hong Kong's research "
        "weight so that the region's world share of papers is the GII 2025 target 2.4%: "
        "2.41% at scale 0.05, PCT filings unchanged within 0.2%)",
    )
    papers_per_project_firm: float = _nonneg(
        0.1749,
        "mean papers per firm project (calibrated: model v2 fit 0.2595, re-fitted x0.674 "
        "with papers_per_project_lab; hand value 0.2, assumption)",
    )
    inventions_per_project_lab: float = _nonneg(0.8, "mean inventions per lab project (assumption)")
    inventions_per_project_firm: float = _nonneg(
        7.388,
        "mean inventions per firm project (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 7.0)",
    )
    lab_papers_factor: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=1.0, HK=4.8, MO=5.0),
        description="papers of a lab (university or institute) project in each jurisdiction, "
        "as a multiple of research.papers_per_project_lab: publication intensity, which does not "
        "add to the knowledge stock [factor] (GD 1 by definition; HK "
        "calibrated by hand so that Hong Kong writes 28% of the Bay Area's papers, Elsevier "
        "for CUHK 2024, 'Driving Innovation in the Guangdong-Hong Kong-Macau Greater Bay "
        "Area': 28% of 143,000 Scopus papers in 2022, scale 0.1 x 3 replicates; MO set by hand "
        "so that Macao writes about 2% of them: the University of Macau alone published nearly "
        "2,600 journal articles in 2023, 'University of Macau Emerges as a Research "
        "Powerhouse', University of Macau via Media OutReach Newswire, 2024, a lower bound "
        "for Macao, 1.8% of 143,000; factor 1 gave 0.3%)",
    )
    lab_inventions_factor: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=1.0, HK=1.0, MO=1.0),
        description="inventions of a lab project in each jurisdiction, as a multiple of "
        "research.inventions_per_project_lab [factor] (assumption: no per-jurisdiction figure "
        "found; Hong Kong's patenting differs through research.pct_prob)",
    )
    cross_border_bonus: float = _nonneg(
        0.2,
        "extra output of a team spanning two jurisdictions (assumption: recombination of "
        "knowledge)",
    )
    data_need: ByField = Field(
        default_factory=lambda: ByField(
            biomedicine=0.5,
            ict=0.3,
            ai_data=0.8,
            advanced_manufacturing=0.2,
            new_materials=0.1,
            energy_environment=0.3,
        ),
        description="probability a project in each field needs an external dataset (assumption)",
    )
    samples_need: ByField = Field(
        default_factory=lambda: ByField(
            biomedicine=0.6,
            ict=0.042,
            ai_data=0.0,
            advanced_manufacturing=0.1,
            new_materials=0.3,
            energy_environment=0.15,
        ),
        description="probability a project in each field needs external research samples "
        "(assumption; ict calibrated on model v2, scenarios/calibration/targets.yaml, hand "
        "value 0.05)",
    )
    collaborator_source_prob: float = _share(
        0.7,
        "probability that a project with a collaborator across a border can source its data or "
        "samples from the collaborator's city (assumption)",
    )
    refused_stop_prob: float = _share(
        0.5,
        "probability a project whose data or samples are refused stops (else it goes on weakened)",
    )
    abandon_rate_waiting: float = _share(
        0.05,
        "probability per month of waiting for data or samples that a project is abandoned "
        "(assumption: competitors publish first, funding windows lapse)",
    )
    input_choice_sensitivity: float = _nonneg(
        2.0,
        "logit sensitivity of the choice between the best source across a border (quality x "
        "expected deterrence) and the best domestic one (assumption)",
    )
    substitution_elasticity: float = _nonneg(
        1.0,
        "elasticity of a project's output to the quality of the data or samples it uses, "
        "relative to the best available anywhere (assumption)",
    )
    data_quality_factor: QualityFactor = Field(
        default_factory=QualityFactor,
        description="multiplier of each jurisdiction's quality of data in data/input_quality.csv "
        "(every row there is an assumption; 1 = the table; priors in "
        "scenarios/calibration/priors.yaml)",
    )
    samples_quality_factor: QualityFactor = Field(
        default_factory=QualityFactor,
        description="multiplier of each jurisdiction's quality of samples in "
        "data/input_quality.csv (1 = the table; priors in scenarios/calibration/priors.yaml)",
    )
    input_decay_minutes: float = _positive(
        45.0, "travel time at which a source city's pull for inputs falls by e [min] (assumption)"
    )
    refusal_delay_months: float = _nonneg(
        2.0,
        "months a refused request costs a project before it works with a domestic substitute "
        "(assumption)",
    )
    mainland_grant_share: float = _share(
        0.6, "share of mainland lab projects funded by mainland grants (assumption)"
    )
    grant_portability: float = _share(
        0.0,
        "probability a mainland grant may be spent across the border (0 before the Hetao pilot; "
        "lever)",
    )
    self_funded_collaboration: float = _share(
        0.5, "probability an unfunded cross-border collaborator joins anyway (assumption)"
    )
    patent_prob: float = _share(
        0.6123,
        "probability an invention is filed as an invention patent ("
        "calibrated on model v2, scenarios/calibration/targets.yaml; "
        "hand value 0.9, assumption)",
    )
    pct_prob: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=0.09514, HK=0.2116, MO=0.11),
        description="probability an invention patent is also filed under the PCT (GD "
        "calibrated on model v2, scenarios/calibration/targets.yaml, hand value 0.075; HK "
        "calibrated to 0.1644, then re-set by hand to 0.2116 = 0.1644 x 646 / 502 after the "
        "stationary baseline of issue 10 lowered Hong Kong's filings to 502 a year, scale 0.1 "
        "x 8 replicates; MO set by hand to CNIPA 2023)",
    )


Params = ResearchParams
"""The parameter class this mechanism declares; :class:`flowsim.params.Scenario`
composes it as its ``research`` section."""

STATE = {
    "researchers": (
        Column("skill", np.float32, 1.0, "productivity multiplier, lognormal with mean 1"),
        Column(
            "partner", np.int32, -1, "researcher row of the last collaboration partner, -1 none"
        ),
        Column(
            "partner_step",
            np.int16,
            0,
            "month of the last collaboration with that partner (the tie lapses "
            "research.tie_memory_months later unless renewed)",
        ),
    ),
    "firms": (
        Column("pct_propensity", np.float32, 1.0, "multiplier of the PCT filing probability"),
        Column("patents", np.int32, 0, "invention patents filed (a screening signal)"),
        Column("pct_applications", np.int32, 0, "PCT applications filed (model units)"),
        Column("papers", np.int32, 0, "papers of its projects, counted once (model units)"),
    ),
    "labs": (
        Column("patents", np.int32, 0, "invention patents filed (model units)"),
        Column("pct_applications", np.int32, 0, "PCT applications filed (model units)"),
        Column("papers", np.int32, 0, "papers of its projects, counted once (model units)"),
    ),
    "projects": (
        Column("active", np.bool_, True, "the project is running"),
        Column("employer_kind", np.int8, 0, "0 lab project, 1 firm project"),
        Column("employer", np.int32, 0, "lab or firm running the project"),
        Column("pi", np.int32, 0, "principal investigator (researcher row)"),
        Column("collaborator", np.int32, -1, "external collaborator (researcher row), -1 none"),
        Column("collab_city", np.int8, -1, "collaborator's city at the start, -1 none"),
        Column("city", np.int8, 0, "city of the PI"),
        Column("field", np.int8, 0, "research field"),
        Column("cross_border", np.bool_, False, "the team spans two jurisdictions"),
        Column(
            "external",
            np.int8,
            0,
            "external co-authors (bit 0: the rest of the mainland, bit 1: the rest of the "
            "world; docs/open_region.md)",
        ),
        Column("quality", np.float32, 1.0, "output multiplier (skill, partner, inputs, knowledge)"),
        Column(
            "end_step", np.int16, 0, "step the work is done, before waiting for data or samples"
        ),
    ),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = (
    Memory(
        "collab_weights",
        "candidate partners' cities, rows (field x origin city): researchers of the field by "
        "travel time, own city favoured",
    ),
    Memory(
        "source_weights",
        "where a project's data and samples come from (jurisdiction, origin, source): research "
        "mass by travel time, within each jurisdiction",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "projects_started",
    "projects_with_collaborator",
    "projects_cross_border",
    "projects_same_city_collaboration",
    "projects_repeat_collaboration",
    "collaborations_fallback_domestic",
    "collaborations_refused",
    "projects_stopped",
    "projects_abandoned_waiting",
    "projects_completed",
    "papers",
    "papers_cross_border",
    "inventions",
    "invention_patents",
    "pct_applications",
    "pct_applications_GD",
    "pct_applications_HK",
    "pct_applications_MO",
    "grants_cross_border",
    "external_collaborations",
    "external_collaborations_refused",
    "papers_coauthored_CN",
    "papers_coauthored_ROW",
    "patents_filed_CN",
    "patents_filed_ROW",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts."""

TALENT, CAPITAL = 0, 1
GRANT_PER_COLLABORATOR = 0.2
"""Grant money moved to a cross-border collaborator [RMB m] (assumption)."""


def init(world: World) -> None:
    """The partner and input-source weights, from the expected researchers and travel times."""
    geo, params, n = world.geo, world.params, len(world.geo.city_jurisdiction)
    rp = params.research
    travel = geo.travel_minutes
    own = 1.0 + (rp.same_city_factor - 1.0) * np.eye(n)
    fmass = world.expected_researchers.T  # (fields, cities)
    world.collab_weights = (
        fmass[:, None, :] * (np.exp(-travel / rp.collab_decay_minutes) * own)[None]
    ).reshape(world.n_fields * n, n)
    city_mass = geo.figures["researchers"] * np.asarray(
        params.population.city_multipliers.as_array()
    )
    mass = city_mass / city_mass.sum()
    jur = geo.city_jurisdiction
    src = mass[None, :] * np.exp(-travel / rp.input_decay_minutes)
    world.source_weights = np.stack(
        [np.where(jur[None, :] == j, src, 0.0) for j in range(3)]
    )  # (jurisdiction, origin, source)


def project_outputs(
    quality: np.ndarray,
    employer_kind: np.ndarray,
    jurisdiction: np.ndarray,
    papers_rate: np.ndarray,
    inventions_rate: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Papers and inventions of finished projects (pure core): Poisson, mean rate x quality.

    The rates are tables (employer kind, jurisdiction): a lab in Hong Kong publishes at
    its own rate, a firm in Guangdong at another.
    """
    papers = rng.poisson(papers_rate[employer_kind, jurisdiction] * quality)
    inventions = rng.poisson(inventions_rate[employer_kind, jurisdiction] * quality)
    return papers, inventions


def output_rates(p: ResearchParams) -> tuple[np.ndarray, np.ndarray]:
    """Mean papers and inventions per project, each (employer kind, jurisdiction): lab row 0."""
    ones = np.ones(3)
    papers = np.stack(
        [
            p.papers_per_project_lab * np.asarray(p.lab_papers_factor.as_array()),
            p.papers_per_project_firm * ones,
        ]
    )
    inventions = np.stack(
        [
            p.inventions_per_project_lab * np.asarray(p.lab_inventions_factor.as_array()),
            p.inventions_per_project_firm * ones,
        ]
    )
    return papers, inventions


def waiting_abandonment(wait_months: np.ndarray, monthly_rate: float) -> np.ndarray:
    """Probability a project is abandoned while waiting ``wait_months`` for inputs (pure core)."""
    return 1.0 - (1.0 - monthly_rate) ** np.asarray(wait_months, dtype=np.float64)


def best_of(score: np.ndarray) -> np.ndarray:
    """Column of the highest score in each row, -1 where no score is positive (pure core)."""
    best = score.argmax(axis=1)
    best[score.max(axis=1) <= 0] = -1
    return best


def choose_partners(
    world: World, pi: np.ndarray, t: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A partner for each PI, chosen for what it brings (pure of side effects).

    Each PI considers ``partner_candidates`` researchers of its field, in cities drawn by
    research mass and travel time with the own city favoured (``same_city_factor``; a
    visit tie's city replaces one candidate city), plus its prior partner if they worked
    together within ``tie_memory_months`` (ties lapse unless renewed). A candidate's
    capability is its skill times the knowledge density of its city x field (to
    ``capability_elasticity``); its value is capability times the talent deterrence of
    the border, if any, times ``tie_value`` for the prior partner. Returns the best
    candidate and its capability relative to the field's mean, and the best domestic
    (same-jurisdiction) candidate and its capability, the fallback if the border refuses.
    """
    R = world.researchers
    p = world.params.research
    k = p.partner_candidates
    m = pi.size
    nf, n = world.n_fields, len(world.geo.city_jurisdiction)
    city = R.city[pi].astype(np.int64)
    field = R.field[pi].astype(np.int64)
    rows = np.repeat(field * n + city, k)
    cand_city = choose_rows(world.collab_weights, rows, rng).reshape(m, k)
    tied = (R.tie_until[pi] >= t) & (R.tie_city[pi] >= 0)
    cand_city[tied, 0] = R.tie_city[pi[tied]]
    key = np.where(cand_city >= 0, cand_city * nf + field[:, None], 0)
    member = world.researcher_pools.sample(key.ravel(), rng).reshape(m, k)
    member[cand_city < 0] = -1
    prior = R.partner[pi].astype(np.int64)
    # a tie not renewed within tie_memory_months has lapsed
    prior[t - R.partner_step[pi].astype(np.int64) > p.tie_memory_months] = -1
    member = np.concatenate([prior[:, None], member], axis=1)
    valid = member >= 0
    safe = np.where(valid, member, 0)
    valid &= (safe != pi[:, None]) & (R.arrive_step[safe] < 0)
    mcity = R.city[safe].astype(np.int64)
    density = world.knowledge.density(world.researcher_pools.counts.reshape(-1, world.n_fields))
    cap = (
        R.skill[safe].astype(np.float64) * density[mcity, field[:, None]] ** p.capability_elasticity
    )
    cap = np.where(valid, cap, 0.0)
    slot = R.zone[pi].astype(np.int64) + 1
    deter = world.border_for("collaboration", "talent")[slot[:, None], city[:, None], mcity]
    score = cap * deter
    score[:, 0] *= p.tie_value
    jur = world.geo.city_jurisdiction
    domestic = jur[mcity] == jur[city][:, None]
    best = best_of(score)
    back = best_of(np.where(domestic, score, 0.0))
    r = np.arange(m)
    pick = np.where(best >= 0, member[r, np.maximum(best, 0)], -1)
    pick_cap = np.where(best >= 0, cap[r, np.maximum(best, 0)], 0.0)
    fb = np.where(back >= 0, member[r, np.maximum(back, 0)], -1)
    fb_cap = np.where(back >= 0, cap[r, np.maximum(back, 0)], 0.0)
    return pick, pick_cap, fb, fb_cap


def start_projects(world: World, t: int) -> None:
    """New projects: PIs, collaborators, grants, data and samples."""
    rng = world.rngs["research"]
    R = world.researchers
    p = world.params.research
    rate = np.array([p.project_rate_lab, p.project_rate_firm])
    top = rate.max()
    if top <= 0:
        return
    k = rng.binomial(R.n, top)
    pis = rng.integers(0, R.n, size=k)
    keep = (R.arrive_step[pis] < 0) & (rng.random(k) < rate[R.employer_kind[pis]] / top)
    pis = pis[keep]
    if pis.size == 0:
        return
    city = R.city[pis].astype(np.int64)
    zone = R.zone[pis].astype(np.int64)
    field = R.field[pis].astype(np.int64)
    kind = R.employer_kind[pis].astype(np.int64)
    n = pis.size

    # collaborators: a visit tie doubles the odds (tie_collaboration_boost = 1)
    tied = R.tie_until[pis] >= t
    prob = np.minimum(1.0, p.collaboration_prob * (1.0 + p.tie_collaboration_boost * tied))
    wants = rng.random(n) < prob
    collaborator = np.full(n, -1, dtype=np.int64)
    capability = np.zeros(n)
    idx = np.flatnonzero(wants)
    if idx.size:
        member, cap, fallback, fallback_cap = choose_partners(world, pis[idx], t, rng)
        ok = member >= 0
        idx, member, cap, fallback, fallback_cap = (
            a[ok] for a in (idx, member, cap, fallback, fallback_cap)
        )
        target = R.city[member].astype(np.int64)
        lists = agent_lists(world, kind[idx], R.employer[pis[idx]])
        c = policy.cross_border(
            world,
            TALENT,
            city[idx],
            target,
            zone[idx],
            rng,
            "collaboration",
            keys=policy.FlowKeys(
                field=field[idx],
                employer=kind[idx],
                lists=lists,
                origin_zone=zone[idx],
                destination_zone=R.zone[member],
            ),
        )
        world.count("collaborations_refused", c.refused.sum())
        # a refused partner across the border: the best domestic candidate instead
        back = c.refused & (fallback >= 0)
        world.count_by("collaborations_fallback_domestic", city[idx[back]], field[idx[back]])
        member = np.where(back, fallback, member)
        cap = np.where(back, fallback_cap, cap)
        keep = c.approved | back
        idx, member, cap = idx[keep], member[keep], cap[keep]
        target = R.city[member].astype(np.int64)

        # mainland grants: can the money follow the collaborator across the border?
        jur = world.geo.city_jurisdiction
        grant = (
            (kind[idx] == 0)
            & (jur[city[idx]] == 0)
            & (jur[target] != 0)
            & (rng.random(idx.size) < p.mainland_grant_share)
        )
        g = np.flatnonzero(grant)
        funded = np.zeros(idx.size, dtype=bool)
        if g.size:
            corridor = world.geo.corridor[city[idx[g]], target[g]]
            portable = rng.random(g.size) < world.grant_portability[zone[idx[g]] + 1, corridor]
            gp = g[portable]
            cg = policy.cross_border(
                world,
                CAPITAL,
                city[idx[gp]],
                target[gp],
                zone[idx[gp]],
                rng,
                "grant",
                volume=GRANT_PER_COLLABORATOR,
                keys=policy.FlowKeys(
                    field=field[idx[gp]],
                    employer=kind[idx[gp]],
                    lists=agent_lists(world, kind[idx[gp]], R.employer[pis[idx[gp]]]),
                    origin_zone=zone[idx[gp]],
                    destination_zone=R.zone[member[gp]],
                ),
            )
            world.count("grants_cross_border", cg.approved.sum())
            funded[gp[cg.approved]] = True
        stays = ~grant | funded | (rng.random(idx.size) < p.self_funded_collaboration)
        collaborator[idx[stays]] = member[stays]
        capability[idx[stays]] = cap[stays]
        # ties persist: both remember each other
        chosen = member[stays]
        again = idx[stays][R.partner[pis[idx[stays]]] == chosen]
        world.count_by("projects_repeat_collaboration", city[again], field[again])
        R.partner[pis[idx[stays]]] = chosen
        R.partner[chosen] = pis[idx[stays]]
        R.partner_step[pis[idx[stays]]] = t
        R.partner_step[chosen] = t

    has = collaborator >= 0
    collab_city = np.where(has, R.city[np.maximum(collaborator, 0)], -1).astype(np.int64)
    jur = world.geo.city_jurisdiction
    cross_border = has & (jur[city] != jur[np.maximum(collab_city, 0)])
    same = has & (collab_city == city)
    world.count_by("projects_same_city_collaboration", city[same], field[same])
    productivity = world.knowledge.productivity()[city, field]
    # co-authors in the rest of the mainland and the rest of the world (docs/open_region.md)
    external, external_cap = openregion.coauthors(
        world,
        city,
        zone,
        field,
        policy.FlowKeys(
            field=field,
            employer=kind,
            lists=agent_lists(world, kind, R.employer[pis]),
            origin_zone=zone,
        ),
        rng,
    )
    for x in range(2):
        got = (external >> x) & 1 == 1
        world.tally.link(
            "collaborations", city[got], np.full(got.sum(), openregion.CN + x), field[got]
        )
    jur_pi = world.geo.city_jurisdiction[city].astype(np.int64)
    quality = (
        R.skill[pis].astype(np.float64)
        * (1.0 + p.collaboration_gain * capability)
        * (1.0 + p.cross_border_bonus * cross_border)
        * productivity
        * (1.0 + p.collaboration_gain * external_cap)
        / openregion.expected_gain(world, jur_pi, field)
    )
    duration = np.maximum(1, rng.poisson(p.duration_months, n))
    stopped = np.zeros(n, dtype=bool)

    # work starts once every input has arrived; while waiting, a project may be abandoned
    ready = {}
    wait = np.zeros(n, dtype=np.int64)
    for module in (data, samples):
        req = module.request(world, field, city, zone, collab_city, kind, R.employer[pis])
        c = req.crossing
        ready_step = np.full(n, -1, dtype=np.int64)
        arrived = req.project[c.approved]
        ready_step[arrived] = t + c.delay_steps[c.approved]
        wait[arrived] = np.maximum(wait[arrived], c.delay_steps[c.approved])
        refused = req.project[c.refused]
        ready_step[refused] = t + req.extra_delay_steps[c.refused]
        wait[refused] = np.maximum(wait[refused], req.extra_delay_steps[c.refused])
        stop = rng.random(refused.size) < p.refused_stop_prob
        stopped[refused[stop]] = True
        quality[req.project] *= req.quality
        ready[module.__name__] = ready_step
    abandoned = ~stopped & (rng.random(n) < waiting_abandonment(wait, p.abandon_rate_waiting))
    world.count("projects_abandoned_waiting", abandoned.sum())
    stopped |= abandoned

    world.count_by("projects_started", city, field)
    world.count("projects_with_collaborator", has.sum())
    world.tally.link("collaborations", city[has], collab_city[has], field[has])
    world.count_by("projects_cross_border", city[cross_border], field[cross_border])
    world.count("projects_stopped", stopped.sum())
    go = ~stopped
    P = world.projects
    P.add(
        int(go.sum()),
        employer_kind=kind[go],
        employer=R.employer[pis[go]],
        pi=pis[go],
        collaborator=collaborator[go],
        collab_city=collab_city[go],
        city=city[go],
        field=field[go],
        cross_border=cross_border[go],
        external=external[go],
        quality=quality[go],
        end_step=t + wait[go] + duration[go],
        data_ready=ready[data.__name__][go],
        samples_ready=ready[samples.__name__][go],
    )


def complete_projects(world: World, t: int) -> None:
    """Finish the projects whose work is done and whose inputs have arrived."""
    rng = world.rngs["research"]
    P = world.projects
    p = world.params.research
    due = P.active & (P.end_step <= t) & (P.data_ready <= t) & (P.samples_ready <= t)
    done = np.flatnonzero(due)
    P.active[done] = False
    if done.size:
        kind = P.employer_kind[done].astype(np.int64)
        city = P.city[done].astype(np.int64)
        jur = world.geo.city_jurisdiction[city].astype(np.int64)
        papers_rate, inventions_rate = output_rates(p)
        papers, inventions = project_outputs(
            P.quality[done], kind, jur, papers_rate, inventions_rate, rng
        )
        cb = P.cross_border[done]
        field = P.field[done].astype(np.int64)
        patents = rng.binomial(inventions, p.patent_prob)
        # firms differ in their propensity to file abroad (heavy-tailed); labs file at the rate
        emp = P.employer[done].astype(np.int64)
        F = world.firms
        propensity = np.where(kind == 1, F.pct_propensity[np.where(kind == 1, emp, 0)], 1.0)
        pct_p = np.minimum(np.asarray(p.pct_prob.as_array())[jur] * propensity, 1.0)
        pct = rng.binomial(patents, pct_p)
        firm_done = kind == 1
        add_counts(F.patents, emp[firm_done], patents[firm_done])
        np.add.at(F.signal, emp[firm_done], patents[firm_done].astype(np.float32))
        # each agent's own output, for the per-agent table (flowsim.agents)
        add_counts(F.pct_applications, emp[firm_done], pct[firm_done])
        add_counts(F.papers, emp[firm_done], papers[firm_done])
        lab_done = ~firm_done
        Lb = world.labs
        add_counts(Lb.patents, emp[lab_done], patents[lab_done])
        add_counts(Lb.pct_applications, emp[lab_done], pct[lab_done])
        add_counts(Lb.papers, emp[lab_done], papers[lab_done])
        # knowledge: the output enters the city's stock, and the partner city's through the link;
        # a jurisdiction's papers factor is how much it publishes per unit of work (publication
        # intensity), not more knowledge, so papers count in the stock net of it
        intensity = np.where(kind == 0, np.asarray(p.lab_papers_factor.as_array())[jur], 1.0)
        made = papers / np.maximum(intensity, 1e-9) + inventions
        K = world.knowledge
        K.add(city, field, made)
        co_city = P.collab_city[done].astype(np.int64)
        co = (co_city >= 0) & (co_city != city)
        K.add(co_city[co], field[co], world.params.knowledge.link_transfer * made[co])
        world.count_by("projects_completed", city, field)
        # papers by whole counting: once in the PI's city, once more in a collaborator's
        # other city (a co-authored paper between the two)
        world.count_by("papers", city, field, papers)
        world.tally.add("papers", co_city[co], field[co], papers[co])
        world.tally.link("coauthored_papers", city[co], co_city[co], field[co], papers[co])
        world.count("papers_cross_border", papers[cb].sum())
        # papers with a co-author in CN or ROW: Bay Area papers, linked to the external place
        external = P.external[done]
        for x, name in enumerate(("CN", "ROW")):
            got = (external >> x) & 1 == 1
            world.count(f"papers_coauthored_{name}", papers[got].sum())
            world.tally.link(
                "coauthored_papers",
                city[got],
                np.full(int(got.sum()), openregion.CN + x),
                field[got],
                papers[got],
            )
        world.count_by("inventions", city, field, inventions)
        world.count_by("invention_patents", city, field, patents)
        world.count_by("pct_applications", city, field, pct)
        for j, name in enumerate(("GD", "HK", "MO")):
            world.count(f"pct_applications_{name}", pct[jur == j].sum())
        # where the patents are filed outside home (a closed region files nowhere else):
        # counts on their own stream, read back by nothing, so no other draw moves; Bay Area
        # totals are the home filings
        op = world.params.open_region
        if op.enabled:
            shares = np.minimum(op.filing_factor * openregion.load_filing_shares(), 1.0)
            filed = openregion.file_patents(patents, pct, jur, shares, world.rngs["filing"])
            for x, name in enumerate(("CN", "ROW")):
                world.count(f"patents_filed_{name}", filed[x].sum())
                got = filed[x] > 0
                world.tally.link(
                    "patent_filings",
                    city[got],
                    np.full(int(got.sum()), openregion.CN + x),
                    field[got],
                    filed[x][got],
                )
        # lab inventions wait for transfer; firm inventions may go into development
        lab = kind == 0
        world.labs.inventions[:] += np.bincount(
            P.employer[done][lab], weights=inventions[lab], minlength=world.labs.n
        ).astype(np.int32)[: world.labs.n]
        world.lab_inflow += float(inventions[lab].sum())
        firm_rows = np.repeat(P.employer[done][~lab], inventions[~lab])
        develop = firm_rows[
            rng.random(firm_rows.size) < world.params.commercialization.develop_prob
        ]
        new_developments(world, develop, t)
    if P.n > 1024 and P.active.sum() < P.n // 2:
        compact(P, P.active.copy())
