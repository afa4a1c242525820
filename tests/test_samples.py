"""Samples: research samples through customs; the white-list pilot's 20 -> 3 days."""

from __future__ import annotations

import numpy as np
from model_helpers import flows_on, lowest_friction, small_run

from flowsim.assembly import COLUMNS, build_world
from flowsim.geography import CORRIDORS
from flowsim.mechanisms.research import complete_projects
from flowsim.params import FIELDS, Scenario
from flowsim.populations import Population


def _mean_delay(ts) -> float:
    return ts["samples_delay_days"].sum() / ts["samples_shipments_cross_border"].sum()


def test_cutting_samples_delay_lowers_the_mean_delay():
    pilot = {f"policy.corridors.{c}.samples.delay_days": 3.0 for c in CORRIDORS}
    base = small_run().timeseries
    fast = small_run(pilot).timeseries
    assert _mean_delay(fast) < 0.5 * _mean_delay(base), (
        "3-day clearance must cut the mean samples delay: "
        f"{_mean_delay(base):.1f} -> {_mean_delay(fast):.1f} days"
    )
    assert fast["samples_shipments_cross_border"].sum() > 0, "samples still cross"


def test_lower_samples_friction_raises_gd_hk_samples_crossings():
    # every project needs samples (both runs), so the GD-HK shipments are not a few dozen agents
    needy = {f"research.samples_need.{field}": 1.0 for field in FIELDS}
    base = flows_on(small_run(needy).flows, "samples", "GD-HK")
    low = flows_on(
        small_run(needy | lowest_friction(("GD-HK",), ("samples",))).flows, "samples", "GD-HK"
    )
    assert low > 1.15 * base, (
        f"no GD-HK samples friction must raise GD-HK samples crossings: {base} -> {low}"
    )


def test_a_project_waits_for_its_samples_and_data():
    # hand-built project table: work done at step 5; inputs arrive at 5, 9 (samples) and 9 (data)
    world = build_world(Scenario(scale=0.002), seed=1)
    world.projects = Population("projects", COLUMNS["projects"], 0)
    world.projects.add(
        3,
        employer_kind=0,
        employer=0,
        pi=0,
        city=0,
        field=0,
        quality=1.0,
        end_step=5,
        data_ready=np.array([5, -1, 9]),
        samples_ready=np.array([-1, 9, -1]),
    )
    complete_projects(world, 5)
    assert world.projects.active.tolist() == [False, True, True], (
        "projects wait for late samples and data"
    )
    complete_projects(world, 9)
    assert not world.projects.active.any(), "once the inputs are in, the projects complete"
    assert world.counters["projects_completed"] == 3, "each project completes once"
