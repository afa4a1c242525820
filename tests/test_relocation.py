"""Relocation into cooperation zones: who moves, and how far the zones' capacity lets them.

Also: nothing else changes where no zone rule gives a gain.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowsim.channels import PLAYERS, Hold
from flowsim.explain import Unit, explain, plan_explanation
from flowsim.geography import ZONES
from flowsim.mechanisms import relocation
from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides
from flowsim.scenario import load_scenario
from flowsim.streams import MECHANISMS

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
RUN = {"scale": 0.05, "steps": 60, "warmup_steps": 12}
HETAO = ZONES.index("Hetao")
QIANHAI = ZONES.index("Qianhai")
KIND_COUNTERS = ("relocations_labs", "relocations_firms", "relocations_researchers")


def _hetao(**settings) -> Scenario:
    return with_overrides(load_scenario(SCENARIOS / "hetao_package.yaml"), {**RUN, **settings})


def _baseline(**settings) -> Scenario:
    return with_overrides(load_scenario(SCENARIOS / "baseline.yaml"), {**RUN, **settings})


def _run(scenario: Scenario, seed: int = 3, hold: Hold | None = None) -> FlowModel:
    model = FlowModel(scenario, rng=seed, hold=hold)
    while model.running:
        model.step()
    return model


def _total(model: FlowModel, name: str) -> float:
    """Sum over the reported months, model units (agents)."""
    frame = model.datacollector.get_model_vars_dataframe()
    return float(frame[name].sum()) * model.world.scale


def _qianhai_package(**friction) -> dict:
    return {f"policy.zones.Qianhai.talent.{k}": v for k, v in friction.items()}


def test_hetao_package_pulls_firms_and_labs_into_hetao_and_the_baseline_none():
    base, package = _run(_baseline()), _run(_hetao())
    for name in KIND_COUNTERS:
        assert _total(base, name) == 0.0, f"the baseline has no zone rules: {name} must be 0"
    firms = _total(package, "relocations_firms_Hetao")
    # seeds 1-4 give 15-24 firms at this scale (capacity 38, about 20 there at the start)
    assert firms >= 10, f"the Hetao package must pull >= 10 firms into Hetao in 5 years: {firms}"
    assert _total(package, "relocations_researchers_Hetao") >= 3 * firms, (
        "researchers move with their employers (seeds 1-4: 7-22 per relocated firm)"
    )
    for zone in ("Qianhai", "Hengqin", "Nansha"):
        assert _total(package, f"relocations_firms_{zone}") == 0.0, (
            f"{zone} has no rules of its own in the Hetao package: nothing moves there"
        )
    w = package.world
    cap = relocation.tables(w).capacity
    firms_in = (w.firms.zone == HETAO) & w.firms.alive
    assert firms_in.sum() >= 0.9 * cap[1, HETAO], (
        f"Hetao is tiny (3.89 km2): the package fills it to (near) its firm capacity "
        f"{cap[1, HETAO]}, got {firms_in.sum()}"
    )


def test_a_larger_zone_override_relocates_more():
    # Qianhai has room (14.9 km2): over one year the rate, not the capacity, binds
    short = {"steps": 12}
    some = _run(_baseline(**short, **_qianhai_package(delay_days=4.0)))
    more = _run(_baseline(**short, **_qianhai_package(delay_days=0.0, approval=1.0, cost=0.0)))
    a = _total(some, "relocations_firms_Qianhai") + _total(some, "relocations_labs_Qianhai")
    b = _total(more, "relocations_firms_Qianhai") + _total(more, "relocations_labs_Qianhai")
    assert 0 < a < b, f"a larger talent override must relocate more into Qianhai: {a} vs {b}"
    ga = relocation.tables(some.world).gain[:, QIANHAI]
    gb = relocation.tables(more.world).gain[:, QIANHAI]
    assert (gb > ga).all() and (ga > 0).all(), "the access gain rises with the override"


def test_a_zone_at_capacity_relocates_none():
    full = _run(_hetao(**{"relocation.firm_density": 0.0, "relocation.lab_density": 0.0}))
    assert _total(full, "relocations_firms") == 0.0 and _total(full, "relocations_labs") == 0.0, (
        "a zone without room for labs and firms takes in none"
    )
    no_room = _run(_hetao(**{"relocation.researcher_density": 0.0}))
    assert _total(no_room, "relocations_researchers") == 0.0, (
        "a zone without room for researchers takes in no employer that has staff"
    )


def test_relocation_never_fills_a_zone_beyond_its_capacity():
    # dense rates and a package in every zone: capacity must bind somewhere
    settings = {"relocation.rate": 0.2, "relocation.researcher_density": 3000.0}
    for zone in ZONES:
        settings[f"policy.zones.{zone}.talent.approval"] = 1.0
        settings[f"policy.zones.{zone}.talent.delay_days"] = 0.0
    model = FlowModel(_hetao(steps=24, **settings), rng=4)
    w = model.world
    cap = relocation.tables(w).capacity
    bound = False

    def occupancy():  # counted from the agents' own zone columns
        counted = relocation.occupancy(w)
        here = np.ones(w.researchers.n, dtype=bool)
        here[w.away_rows] = False  # researchers gone to CN or ROW are in no zone
        counted[2] = np.bincount(w.researchers.zone[here] + 1, minlength=len(ZONES) + 1)[1:]
        assert np.array_equal(counted, relocation.occupancy(w)), "staff counts give the zones"
        return counted

    while model.running:
        before = occupancy()
        model.step()
        after = occupancy()
        for z, zone in enumerate(ZONES):
            moved = sum(
                model.latest[f"relocations_{k}_{zone}"] for k in ("labs", "firms", "researchers")
            )
            if moved:
                assert (after[:, z] <= np.maximum(cap[:, z], before[:, z])).all(), (
                    f"{zone}: relocation took it beyond its capacity {cap[:, z]}: {after[:, z]}"
                )
                assert (after[:, z] <= cap[:, z]).all(), (
                    f"{zone}: relocated into a zone holding {after[:, z]} > capacity {cap[:, z]}"
                )
        bound |= bool((after[:2] == cap[:2]).any())
    assert bound, "the test must reach a capacity somewhere"


def test_relocation_conserves_agents_and_keeps_zones_coherent():
    model = FlowModel(_hetao(steps=24, **{"relocation.rate": 0.05}), rng=2)
    w = model.world
    while model.running:
        model.step()
    # one more relocation step, alone: it creates, drops or re-employs nobody
    R, L, F = w.researchers, w.labs, w.firms
    before = (R.n, L.n, F.n, F.alive.sum(), L.staff.sum(), F.staff.sum(), R.city.copy())
    employer = R.employer.copy()
    relocation.step(w, model.month)
    after = (R.n, L.n, F.n, F.alive.sum(), L.staff.sum(), F.staff.sum(), R.city.copy())
    for a, b, what in zip(
        before,
        after,
        (
            "researchers",
            "labs",
            "firms",
            "alive firms",
            "lab staff",
            "firm staff",
            "researcher cities",
        ),
        strict=True,
    ):
        assert np.array_equal(a, b), f"relocation must conserve {what}"
    assert np.array_equal(employer, R.employer), "relocation changes no one's employer"
    lab = R.employer_kind == 0
    zone_of_employer = np.where(
        lab, L.zone[np.where(lab, R.employer, 0)], F.zone[np.where(lab, 0, R.employer)]
    )
    assert np.array_equal(R.zone, zone_of_employer), "every researcher is in its employer's zone"
    p = w.pending_moves
    dl = R.dest_employer_kind[p] == 0
    dest_zone = np.where(
        dl, L.zone[np.where(dl, R.dest_employer[p], 0)], F.zone[np.where(dl, 0, R.dest_employer[p])]
    )
    assert np.array_equal(R.dest_zone[p], dest_zone), "a pending move heads to its employer's zone"
    assert (F.zone == HETAO).sum() > 0 and _total(model, "relocations_firms") > 0, "firms moved"


def _stream_states(model: FlowModel) -> dict:
    return {name: model.world.rngs[name].bit_generator.state for name in MECHANISMS}


@pytest.mark.parametrize("scenario", ["baseline.yaml", "materials_whitelist.yaml"])
def test_no_gain_moves_nothing_and_draws_nothing(scenario, monkeypatch):
    params = with_overrides(load_scenario(SCENARIOS / scenario), {**RUN, "steps": 24})
    with_relocation = _run(params)
    assert relocation.tables(with_relocation.world).active is False, (
        f"{scenario} has no zone rules: no access gain anywhere"
    )
    monkeypatch.setattr(relocation, "step", lambda world, t, warmup=False: None)
    without = _run(params)
    assert _stream_states(with_relocation) == _stream_states(without), (
        "with no access gain every stream, relocation's included, is drawn exactly as without it"
    )
    a = with_relocation.datacollector.get_model_vars_dataframe()
    b = without.datacollector.get_model_vars_dataframe()
    assert a.equals(b), "and every output is bit-identical"


def test_relocation_draws_only_from_its_own_stream():
    assert "relocation" in MECHANISMS, "relocation has a stream of its own"
    model = FlowModel(_hetao(steps=1, **{"relocation.rate": 0.5}), rng=9)
    w = model.world
    model._enact()  # the policy acts from the first reported month (flowsim.timing)
    w.begin_step(model.month)
    states = {name: w.rngs[name].bit_generator.state for name in MECHANISMS}
    relocation.step(w, model.month)
    for name in MECHANISMS:
        same = w.rngs[name].bit_generator.state == states[name]
        assert same == (name != "relocation"), f"stream {name}: drawn={not same}"


def test_explain_holds_relocation_at_the_baseline():
    policy, base = _hetao(steps=24), _baseline(steps=24)
    held = _run(policy, hold=Hold(base, frozenset({"relocation"})))
    assert _total(held, "relocations_firms") == 0.0, (
        "held at the baseline (no zone rules), relocation moves nothing"
    )
    # relocation as the one player (every other channel left free): 3 runs, not 2^6 + 1
    plan = plan_explanation(policy, base, [Unit(3)], channels=("relocation",))
    assert plan.players == ("relocation",), "the Hetao package touches relocation"
    parts = explain(policy, base, plan, ("vc_deals", "relocations_firms"))
    parts = parts.set_index(["output", "part"])["value"]
    moved = parts[("relocations_firms", "total")]
    assert parts[("relocations_firms", "relocation")] == moved > 0, (
        "the relocation channel carries every relocation of the policy"
    )
    assert parts[("relocations_firms", "direct")] == 0.0, "held, nothing relocates"
    for ch in ("collaboration", "data", "samples", "capital", "mobility"):
        assert ch in PLAYERS, f"explain still reports {ch}"
    assert "relocation" in PLAYERS, "explain reports relocation"
