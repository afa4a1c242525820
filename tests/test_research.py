"""Research projects: outputs of the pure core, collaboration, grants, PCT filings."""

from __future__ import annotations

import numpy as np
from model_helpers import DIRECTION_SEED, lowest_friction, small_run, stepped_worlds

from flowsim.geography import JURISDICTIONS
from flowsim.mechanisms.research import output_rates, project_outputs
from flowsim.model import FlowModel
from flowsim.params import Scenario


def test_project_outputs_are_poisson_with_mean_rate_times_quality():
    rng = np.random.default_rng(0)
    n = 40_000
    kind = np.repeat([0, 1], n // 2)
    jur = np.tile([0, 1], n // 2)
    quality = np.where(kind == 0, 1.0, 2.0)
    # rates per (employer kind, jurisdiction GD/HK/MO): a Hong Kong lab publishes 3x
    papers_rate = np.array([[2.0, 6.0, 2.0], [0.2, 0.2, 0.2]])
    inventions_rate = np.array([[0.8, 0.8, 0.8], [7.0, 7.0, 7.0]])
    papers, inventions = project_outputs(quality, kind, jur, papers_rate, inventions_rate, rng)
    gd_lab, hk_lab = (kind == 0) & (jur == 0), (kind == 0) & (jur == 1)
    assert abs(papers[gd_lab].mean() - 2.0) < 0.06, "GD lab projects: 2 papers x quality 1"
    assert abs(papers[hk_lab].mean() - 6.0) < 0.1, "HK lab projects: 6 papers x quality 1"
    assert abs(papers[kind == 1].mean() - 0.4) < 0.02, "firm projects: 0.2 papers x quality 2"
    assert abs(inventions[kind == 1].mean() - 14.0) < 0.15, (
        "firm projects: 7 inventions x quality 2"
    )
    zeros = np.zeros(10, dtype=np.int64)
    zero_p, zero_i = project_outputs(np.zeros(10), zeros, zeros, papers_rate, inventions_rate, rng)
    assert zero_p.sum() == 0 and zero_i.sum() == 0, "a project of quality 0 yields nothing"


def test_output_rates_follow_employer_kind_and_jurisdiction():
    p = Scenario().research
    papers, inventions = output_rates(p)
    assert papers.shape == (2, 3) and inventions.shape == (2, 3)
    hk = JURISDICTIONS.index("HK")
    assert papers[0, hk] == p.papers_per_project_lab * p.lab_papers_factor.HK, "HK lab rate"
    assert papers[0, 0] == p.papers_per_project_lab, "a Guangdong lab is the reference"
    assert (papers[1] == p.papers_per_project_firm).all(), "firms publish alike everywhere"


def test_more_projects_yield_more_papers_and_patents():
    base = small_run().timeseries
    more = small_run({"research.project_rate_lab": 0.02}).timeseries
    assert more["papers"].sum() > 1.3 * base["papers"].sum(), (
        "doubling lab projects must raise papers by >30%"
    )
    # region-wide patents are dominated by firm projects, whose heavy-tailed skill and PCT
    # propensity make them noisy at test scale; the labs' own inventions show the effect
    lab_more = more["lab_invention_stock"].iloc[-1]
    lab_base = base["lab_invention_stock"].iloc[-1]
    assert lab_more > 1.3 * lab_base, (
        f"doubling lab projects must raise the labs' invention stock by >30%: "
        f"{lab_base:,.0f} -> {lab_more:,.0f}"
    )


def test_removing_every_border_raises_the_cross_border_collaboration_share():
    full = lowest_friction() | {"deterrence.talent.border_effect": 1.0}
    base = small_run().timeseries
    integrated = small_run(full).timeseries
    share_base = base["projects_cross_border"].sum() / base["projects_started"].sum()
    share_full = integrated["projects_cross_border"].sum() / integrated["projects_started"].sum()
    assert share_full > 1.3 * share_base, (
        "full integration must raise the cross-border collaboration share: "
        f"{share_base:.4f} -> {share_full:.4f}"
    )
    assert integrated["projects_stopped"].sum() < base["projects_stopped"].sum(), (
        "with no refusals of data or samples, fewer projects stop"
    )


def _mainland_lab_cross_border_projects(overrides: dict) -> int:
    """Running projects of Guangdong lab PIs with a HK/MO collaborator after a year."""
    # scale 0.1: with the calibrated defaults (fewer lab projects, less skewed skill) scale
    # 0.05 leaves only ~6 such projects, too few to tell a lever from noise
    model = FlowModel(scale=0.1, steps=12, warmup_steps=0, rng=DIRECTION_SEED, **overrides)
    while model.running:
        model.step()
    P, geo = model.world.projects, model.world.geo
    mainland_lab = (P.employer_kind == 0) & (geo.city_jurisdiction[P.city] == 0)
    return int((P.active & P.cross_border & mainland_lab).sum())


def test_portable_grants_keep_cross_border_collaborators():
    # every mainland lab project is grant-funded and no collaborator joins unfunded, so a
    # Guangdong lab project keeps a HK/MO collaborator only if the grant may follow them;
    # talent friction is lifted in both runs so that such collaborations are not rare.
    # (Also a regression test: a pool member who moved this month used to count as a
    # cross-border collaborator without any grant check.)
    # (At baseline the lever moves the aggregate share little: mainland lab PIs rarely pick
    # HK/MO partners, and most cross-border projects are HK/MO PIs with mainland partners.)
    isolate = {
        "research.mainland_grant_share": 1.0,
        "research.self_funded_collaboration": 0.0,
        "research.collaboration_prob": 1.0,
        "deterrence.talent.border_effect": 1.0,
    } | lowest_friction(elements=("talent",))
    portable = isolate | {
        "research.grant_portability": 1.0,
        "policy.corridors.GD-HK.capital.approval": 1.0,
        "policy.corridors.GD-MO.capital.approval": 1.0,
    }
    shut_count = _mainland_lab_cross_border_projects(isolate)
    open_count = _mainland_lab_cross_border_projects(portable)
    assert shut_count == 0, (
        f"without portable grants no mainland lab project keeps a HK/MO collaborator: {shut_count}"
    )
    assert open_count >= 10, (
        f"portable, approved grants keep HK/MO collaborators: {open_count} projects"
    )
    ts = small_run(portable).timeseries
    assert ts["grants_cross_border"].sum() > 0, "portable grants cross the border as capital"


def test_pct_filings_by_jurisdiction_add_up():
    ts = small_run().timeseries
    parts = ts[["pct_applications_GD", "pct_applications_HK", "pct_applications_MO"]].sum(axis=1)
    assert np.allclose(parts, ts["pct_applications"]), (
        "PCT filings by jurisdiction must add up to the total"
    )
    assert (ts["pct_applications"] <= ts["invention_patents"]).all(), (
        "a PCT filing is an invention patent too"
    )
    assert (ts["invention_patents"] <= ts["inventions"]).all(), "a patent is filed for an invention"
    assert (ts["papers_cross_border"] <= ts["papers"]).all(), (
        "cross-border papers are a subset of papers"
    )


def test_invention_and_project_stocks_never_go_negative():
    for step, world in stepped_worlds():
        assert (world.labs.inventions >= 0).all(), (
            f"step {step}: a lab's invention stock went negative"
        )
        P = world.projects
        assert (P.quality[P.active] >= 0).all(), f"step {step}: negative project quality"
        assert (P.collaborator[P.active] < world.researchers.n).all(), (
            f"step {step}: collaborator out of range"
        )


def test_zone_grant_portability_applies_only_on_the_zones_corridors():
    from flowsim.geography import CORRIDORS, ZONES
    from flowsim.params import Scenario, with_overrides
    from flowsim.world import World

    scenario = with_overrides(Scenario(), {"policy.zones.Hetao.grant_portability": 1.0})
    table = World(scenario, seed=1).grant_portability
    hetao = ZONES.index("Hetao") + 1
    assert table[hetao, CORRIDORS.index("GD-HK")] == 1.0, "Hetao's pilot covers GD-HK"
    assert table[hetao, CORRIDORS.index("GD-MO")] == 0.0, "Hetao's rules do not reach GD-MO"
    assert (table[0] == 0.0).all(), "outside zones the region's value applies"
