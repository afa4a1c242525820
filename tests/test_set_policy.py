"""regime.set_policy: the one place where a scenario's rules become arrays."""

import numpy as np

from flowsim.assembly import build_world
from flowsim.params import Scenario, with_overrides
from flowsim.regime import set_policy

POLICY_ARRAYS = ("move_kernel", "visit_weights", "manufacturing_access", "grant_portability")


def _snapshot(world):
    out = {name: getattr(world, name).copy() for name in POLICY_ARRAYS}
    out["approval"] = world.tables.approval.copy()
    out["delay"] = world.tables.delay_days.copy()
    out.update({f"border_{k}": v.copy() for k, v in world.border.items()})
    return out


def test_set_policy_round_trip_restores_every_table():
    base = with_overrides(Scenario(), {"scale": 0.002, "steps": 1, "warmup_steps": 0})
    policy = with_overrides(
        base,
        {
            "policy.corridors.GD-HK.talent.delay_days": 1.0,
            "policy.corridors.GD-HK.data.approval": 0.99,
            "research.grant_portability": 1.0,
        },
    )
    world = build_world(base, 3)
    before = _snapshot(world)
    set_policy(world, base)
    same = _snapshot(world)
    for name in before:
        assert np.array_equal(before[name], same[name]), f"{name} changed on a second set_policy"
    set_policy(world, policy)
    changed = _snapshot(world)
    moved = [n for n in before if not np.array_equal(before[n], changed[n])]
    assert {"move_kernel", "grant_portability", "approval", "delay"} <= set(moved), moved
    assert world.policy_params is policy
    set_policy(world, base)
    back = _snapshot(world)
    for name in before:
        assert np.array_equal(before[name], back[name]), f"{name} not restored"
