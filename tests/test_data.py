"""Data: datasets a project needs from elsewhere, through the data friction."""

from __future__ import annotations

import numpy as np
from model_helpers import flows_on, lowest_friction, small_run

from flowsim.geography import CITIES, ELEMENTS, load_geography
from flowsim.mechanisms.inputs import request_inputs
from flowsim.params import Scenario, with_overrides
from flowsim.policy import compile_policy

DATA = ELEMENTS.index("data")
SZ, HK, GZ = CITIES.index("Shenzhen"), CITIES.index("Hong Kong"), CITIES.index("Guangzhou")


def _request(need, collaborator_city, overrides=None, source_weights=None, seed=0):
    geo = load_geography()
    tables = compile_policy(with_overrides(Scenario(), overrides or {}).policy, geo, 1.0)
    n = collaborator_city.size
    weights = source_weights if source_weights is not None else np.eye(len(CITIES))
    return request_inputs(
        np.zeros(n, dtype=np.int64),
        np.full(n, SZ),
        np.full(n, -1),
        collaborator_city,
        np.asarray(need),
        1.0,
        weights,
        DATA,
        tables,
        geo.corridor,
        tables.quota.copy(),
        np.random.default_rng(seed),
    )


def test_need_probability_decides_who_requests():
    none = _request([0.0], np.full(100, -1))
    assert none.project.size == 0, "no project requests an input it never needs"
    some = _request([0.4], np.full(20_000, -1))
    assert abs(some.project.size / 20_000 - 0.4) < 0.015, "need 0.4 means ~40% of projects request"


def test_source_is_the_collaborators_city_or_drawn_by_weights():
    collab = np.array([HK] * 50 + [-1] * 50)
    req = _request([1.0], collab)
    assert (req.source[req.project < 50] == HK).all(), (
        "with collaborator_source_prob 1 the collaborator holds it"
    )
    assert (req.source[req.project >= 50] == SZ).all(), (
        "identity weights: the input is held at home"
    )


def test_data_friction_refuses_and_delays_only_cross_border_requests():
    collab = np.array([HK] * 5000 + [GZ] * 5000)
    req = _request(
        [1.0],
        collab,
        {
            "policy.corridors.GD-HK.data.approval": 0.3,
            "policy.corridors.GD-HK.data.delay_days": 60.0,
        },
    )
    c = req.crossing
    border = c.corridor >= 0
    assert abs(c.approved[border].mean() - 0.3) < 0.03, "GD-HK data approval 0.3"
    assert c.approved[~border].all(), "domestic data always gets through"
    assert abs(c.delay_days[border & c.approved].mean() - 60.0) < 5.0, "mean delay ~60 days"


def test_raising_gd_hk_data_approval_raises_gd_hk_data_crossings():
    base = flows_on(small_run().flows, "data", "GD-HK")
    more = flows_on(small_run({"policy.corridors.GD-HK.data.approval": 1.0}).flows, "data", "GD-HK")
    assert more > 1.5 * base, (
        f"GD-HK data approval 1 must raise GD-HK data crossings: {base} -> {more}"
    )


def test_lower_data_friction_raises_gd_hk_data_crossings_and_cuts_refusals():
    base = small_run()
    low = small_run(lowest_friction(("GD-HK",), ("data",)))
    assert flows_on(low.flows, "data", "GD-HK") > flows_on(base.flows, "data", "GD-HK"), (
        "more crossings"
    )
    assert flows_on(low.flows, "data", "GD-HK", "refusals") == 0, (
        "approval 1 refuses nothing on GD-HK"
    )
    assert flows_on(base.flows, "data", "GD-HK", "refusals") > 0, (
        "the baseline refuses some GD-HK data"
    )
