"""Border friction: compiled tables and the pure ``cross()`` on hand-built arrays."""

from __future__ import annotations

import numpy as np

from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, ZONES, load_geography
from flowsim.params import Scenario, with_overrides
from flowsim.policy import DAYS_PER_STEP, border_weights, compile_policy, cross, fresh_quota

GZ, SZ, ZH, HK, MO = (
    CITIES.index(c) for c in ("Guangzhou", "Shenzhen", "Zhuhai", "Hong Kong", "Macao")
)
DATA = ELEMENTS.index("data")
TALENT = ELEMENTS.index("talent")
GD_HK = CORRIDORS.index("GD-HK")


def _tables(overrides: dict | None = None, scale: float = 1.0):
    scenario = with_overrides(Scenario(), overrides or {})
    return compile_policy(scenario.policy, load_geography(), scale)


def _cross(origin, destination, zone, element, tables, seed=0, quota_left=None):
    geo = load_geography()
    quota = tables.quota.copy() if quota_left is None else quota_left
    return cross(
        np.asarray(origin),
        np.asarray(destination),
        np.asarray(zone),
        element,
        tables,
        geo.corridor,
        quota,
        np.random.default_rng(seed),
    )


def test_domestic_flows_always_pass_with_no_delay_or_cost():
    tables = _tables({"policy.corridors.GD-HK.data.approval": 0.0})
    n = 5000
    c = _cross(np.full(n, GZ), np.full(n, SZ), np.full(n, -1), DATA, tables)
    assert c.approved.all(), "a domestic flow is always approved"
    assert (c.delay_days == 0).all() and (c.delay_steps == 0).all(), "a domestic flow has no delay"
    assert (c.cost == 0).all(), "a domestic flow has no cost"
    assert (c.corridor == -1).all(), "a domestic flow is on no corridor"


def test_approval_probability_is_respected():
    tables = _tables({"policy.corridors.GD-HK.data.approval": 0.3})
    n = 20_000
    c = _cross(np.full(n, SZ), np.full(n, HK), np.full(n, -1), DATA, tables, seed=11)
    rate = c.approved.mean()
    assert abs(rate - 0.3) < 0.015, f"approval 0.3 must approve ~30% (fixed seed), got {rate:.3f}"
    assert np.array_equal(c.refused, ~c.approved), "every flow is either approved or refused"
    assert (c.delay_days[c.refused] == 0).all(), "refused flows carry no delay"


def test_mean_delay_and_cost_follow_the_table():
    tables = _tables(
        {
            "policy.corridors.GD-HK.samples.delay_days": 20.0,
            "policy.corridors.GD-HK.samples.approval": 1.0,
            "policy.corridors.GD-HK.samples.cost": 5.0,
        }
    )
    n = 20_000
    c = _cross(
        np.full(n, HK), np.full(n, SZ), np.full(n, -1), ELEMENTS.index("samples"), tables, seed=5
    )
    assert abs(c.delay_days.mean() - 20.0) < 0.6, (
        f"mean delay must be ~20 days, got {c.delay_days.mean():.2f}"
    )
    assert abs(c.delay_steps.mean() - 20.0 / DAYS_PER_STEP) < 0.03, (
        "delay in steps is delay in months, in expectation"
    )
    assert (c.cost == 5.0).all(), "each crossing costs the corridor's cost"


def test_quota_caps_approved_counts_exactly():
    scale = 1.0
    tables = _tables(
        {"policy.corridors.GD-HK.talent.quota": 37, "policy.corridors.GD-HK.talent.approval": 1.0},
        scale,
    )
    quota_left = fresh_quota(tables, np.random.default_rng(0))
    n = 500
    origin = np.where(np.arange(n) % 2 == 0, SZ, GZ)
    c = _cross(origin, np.full(n, HK), np.full(n, -1), TALENT, tables, quota_left=quota_left)
    assert c.approved.sum() == 37, f"a quota of 37 approves exactly 37, got {c.approved.sum()}"
    assert c.over_quota.sum() == n - 37, "every other crossing is refused for lack of quota"
    assert quota_left[0, TALENT, GD_HK] == 0, "the quota is used up in place"
    again = _cross(
        np.full(10, SZ), np.full(10, HK), np.full(10, -1), TALENT, tables, quota_left=quota_left
    )
    assert not again.approved.any(), "nothing crosses once this month's quota is gone"
    other = _cross(
        np.full(10, SZ), np.full(10, MO), np.full(10, -1), TALENT, tables, quota_left=quota_left
    )
    assert not other.over_quota.any(), "a quota on GD-HK leaves GD-MO untouched"


def test_quota_scales_with_agents_and_rounds_stochastically():
    tables = _tables({"policy.corridors.GD-HK.data.quota": 25}, scale=0.01)
    assert np.isclose(tables.quota[0, DATA, GD_HK], 0.25), (
        "quota is in real-world units, scaled to agents"
    )
    draws = np.array(
        [fresh_quota(tables, np.random.default_rng(s))[0, DATA, GD_HK] for s in range(2000)]
    )
    assert set(np.unique(draws)) <= {0.0, 1.0}, "a quota of 0.25 agents rounds to 0 or 1"
    assert abs(draws.mean() - 0.25) < 0.03, (
        f"stochastic rounding keeps the expected quota, got {draws.mean():.3f}"
    )


def test_zone_overrides_apply_only_on_covered_corridors():
    hetao = ZONES.index("Hetao")
    tables = _tables(
        {
            "policy.zones.Hetao.talent.approval": 1.0,
            "policy.zones.Hetao.talent.delay_days": 0.0,
            "policy.corridors.GD-HK.talent.approval": 0.2,
            "policy.corridors.GD-MO.talent.approval": 0.2,
        }
    )
    n = 10_000
    zone = np.full(n, hetao)
    to_hk = _cross(np.full(n, SZ), np.full(n, HK), zone, TALENT, tables, seed=1)
    to_mo = _cross(np.full(n, SZ), np.full(n, MO), zone, TALENT, tables, seed=1)
    outside = _cross(np.full(n, SZ), np.full(n, HK), np.full(n, -1), TALENT, tables, seed=1)
    assert to_hk.approved.all() and (to_hk.delay_days == 0).all(), "Hetao overrides apply on GD-HK"
    assert abs(to_mo.approved.mean() - 0.2) < 0.02, (
        "Hetao does not cover GD-MO: the corridor's 0.2 applies"
    )
    assert abs(outside.approved.mean() - 0.2) < 0.02, (
        "agents outside the zone keep the corridor's friction"
    )
    assert tables.approval[hetao + 1, TALENT, CORRIDORS.index("GD-MO")] == 0.2, (
        "table: no override off the zone"
    )


def test_zone_quota_uses_its_own_pool():
    hetao = ZONES.index("Hetao")
    tables = _tables(
        {
            "policy.corridors.GD-HK.talent.quota": 5,
            "policy.corridors.GD-HK.talent.approval": 1.0,
            "policy.zones.Hetao.talent.quota": 3,
        }
    )
    quota_left = fresh_quota(tables, np.random.default_rng(0))
    zone = np.array([hetao] * 10 + [-1] * 10)
    c = _cross(np.full(20, SZ), np.full(20, HK), zone, TALENT, tables, quota_left=quota_left)
    assert c.approved[:10].sum() == 3, "Hetao agents draw on the zone's quota of 3"
    assert c.approved[10:].sum() == 5, "other agents draw on the corridor's quota of 5"


def test_border_weights_fall_with_friction():
    geo = load_geography()
    talent = Scenario().deterrence.talent
    open_w = border_weights(
        _tables({"policy.corridors.GD-HK.talent.approval": 1.0}), TALENT, geo.corridor, talent
    )
    shut_w = border_weights(
        _tables({"policy.corridors.GD-HK.talent.approval": 0.1}), TALENT, geo.corridor, talent
    )
    assert shut_w[0, SZ, HK] < open_w[0, SZ, HK], "lower approval lowers the pull across the border"
    assert shut_w[0, SZ, GZ] == 1.0, "domestic pairs have weight 1"
    assert open_w[0, SZ, HK] <= talent.border_effect, (
        "a border never pulls more than the residual border effect"
    )
