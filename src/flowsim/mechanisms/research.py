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
development. Inventions are filed as invention patents, some under the PCT.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.mechanisms import data, samples
from flowsim.populations import compact

if TYPE_CHECKING:
    from flowsim.world import World

TALENT, CAPITAL = 0, 1
GRANT_PER_COLLABORATOR = 0.2
"""Grant money moved to a cross-border collaborator [RMB m] (assumption)."""


def project_outputs(
    quality: np.ndarray,
    employer_kind: np.ndarray,
    papers_rate: np.ndarray,
    inventions_rate: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Papers and inventions of finished projects (pure core): Poisson, mean rate x quality."""
    papers = rng.poisson(papers_rate[employer_kind] * quality)
    inventions = rng.poisson(inventions_rate[employer_kind] * quality)
    return papers, inventions


def waiting_abandonment(wait_months: np.ndarray, monthly_rate: float) -> np.ndarray:
    """Probability a project is abandoned while waiting ``wait_months`` for inputs (pure core)."""
    return 1.0 - (1.0 - monthly_rate) ** np.asarray(wait_months, dtype=np.float64)


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
    idx = np.flatnonzero(wants)
    if idx.size:
        from flowsim.mechanisms.talent import choose_destinations

        target = choose_destinations(city[idx], zone[idx], world.visit_weights, rng)
        use_tie = tied[idx] & (rng.random(idx.size) < 0.5)
        target = np.where(use_tie, R.tie_city[pis[idx]], target)
        ok = target >= 0
        idx, target = idx[ok], target[ok]
        member = world.researcher_pools.sample(target * world.n_fields + field[idx], rng)
        # pools date from the start of the month; a member who moved since (a move with no
        # delay arrives in the talent phase) is no longer in the target city: no collaborator
        ok = member >= 0
        ok[ok] = R.city[member[ok]] == target[ok]
        idx, target, member = idx[ok], target[ok], member[ok]
        c = world.cross_border(TALENT, city[idx], target, zone[idx], rng, "collaboration")
        world.count("collaborations_refused", c.refused.sum())
        idx, target, member = idx[c.approved], target[c.approved], member[c.approved]

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
            cg = world.cross_border(
                CAPITAL,
                city[idx[gp]],
                target[gp],
                zone[idx[gp]],
                rng,
                "grant",
                volume=GRANT_PER_COLLABORATOR,
            )
            world.count("grants_cross_border", cg.approved.sum())
            funded[gp[cg.approved]] = True
        stays = ~grant | funded | (rng.random(idx.size) < p.self_funded_collaboration)
        collaborator[idx[stays]] = member[stays]

    has = collaborator >= 0
    collab_city = np.where(has, R.city[np.maximum(collaborator, 0)], -1).astype(np.int64)
    jur = world.geo.city_jurisdiction
    cross_border = has & (jur[city] != jur[np.maximum(collab_city, 0)])
    quality = R.skill[pis].astype(np.float64) * (1.0 + p.cross_border_bonus * cross_border)
    duration = np.maximum(1, rng.poisson(p.duration_months, n))
    stopped = np.zeros(n, dtype=bool)

    # work starts once every input has arrived; while waiting, a project may be abandoned
    ready = {}
    wait = np.zeros(n, dtype=np.int64)
    for module in (data, samples):
        req = module.request(world, field, city, zone, collab_city)
        c = req.crossing
        ready_step = np.full(n, -1, dtype=np.int64)
        arrived = req.project[c.approved]
        ready_step[arrived] = t + c.delay_steps[c.approved]
        wait[arrived] = np.maximum(wait[arrived], c.delay_steps[c.approved])
        refused = req.project[c.refused]
        stop = rng.random(refused.size) < p.refused_stop_prob
        stopped[refused[stop]] = True
        quality[refused[~stop]] *= 1.0 - p.refused_output_penalty
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
        papers_rate = np.array([p.papers_per_project_lab, p.papers_per_project_firm])
        inventions_rate = np.array([p.inventions_per_project_lab, p.inventions_per_project_firm])
        papers, inventions = project_outputs(
            P.quality[done], kind, papers_rate, inventions_rate, rng
        )
        cb = P.cross_border[done]
        city = P.city[done].astype(np.int64)
        field = P.field[done].astype(np.int64)
        jur = world.geo.city_jurisdiction[city]
        patents = rng.binomial(inventions, p.patent_prob)
        pct = rng.binomial(patents, np.asarray(p.pct_prob.as_array())[jur])
        world.count_by("projects_completed", city, field)
        # papers by whole counting: once in the PI's city, once more in a collaborator's
        # other city (a co-authored paper between the two)
        world.count_by("papers", city, field, papers)
        co_city = P.collab_city[done].astype(np.int64)
        co = (co_city >= 0) & (co_city != city)
        world.tally.add("papers", co_city[co], field[co], papers[co])
        world.tally.link("coauthored_papers", city[co], co_city[co], field[co], papers[co])
        world.count("papers_cross_border", papers[cb].sum())
        world.count_by("inventions", city, field, inventions)
        world.count_by("invention_patents", city, field, patents)
        world.count_by("pct_applications", city, field, pct)
        for j, name in enumerate(("GD", "HK", "MO")):
            world.count(f"pct_applications_{name}", pct[jur == j].sum())
        # lab inventions wait for transfer; firm inventions may go into development
        lab = kind == 0
        world.labs.inventions[:] += np.bincount(
            P.employer[done][lab], weights=inventions[lab], minlength=world.labs.n
        ).astype(np.int32)[: world.labs.n]
        firm_rows = np.repeat(P.employer[done][~lab], inventions[~lab])
        develop = firm_rows[
            rng.random(firm_rows.size) < world.params.commercialization.develop_prob
        ]
        world.new_developments(develop, t)
    if P.n > 1024 and P.active.sum() < P.n // 2:
        compact(P, P.active.copy())
