"""The rules in force: where a scenario's policy becomes the world's arrays, and when.

:func:`set_policy` compiles a scenario's border rules and every table derived from them
into the world (the friction tables, the expected border deterrence of each element, the
talent kernels, manufacturing access, grant portability, guidance leverage). It is the
one place where policy becomes arrays: the world calls it once when built, and the model
calls it again when a policy starts on a date (:mod:`flowsim.timing`). :func:`refill_quotas`
draws a month's quotas. During a phase-in (:func:`set_phase`) the world holds the rules
before the policy as well, and a share of the flows meets the new rules
(:func:`flowsim.policy.cross_border`).

A tool: it acts on the world and never imports a mechanism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, ZONES
from flowsim.gravity import gravity, manufacturing_access
from flowsim.policy import (
    compile_external,
    compile_policy,
    compile_rules,
    fresh_quota,
    fresh_rule_quota,
    rule_border_weights,
)
from flowsim.whitelists import list_members

if TYPE_CHECKING:
    from flowsim.params import Scenario  # above the mechanisms: type hints only
    from flowsim.world import World


def _borders(tables, rules, params: Scenario, geo) -> dict[str, np.ndarray]:
    """The expected border deterrence of each element under ``tables`` and ``rules``."""
    det = params.deterrence
    return {
        name: rule_border_weights(tables, rules, e, geo, det.for_element(name))
        for e, name in enumerate(ELEMENTS)
    }


def set_policy(world: World, params: Scenario) -> None:
    """Compile the border rules of ``params`` and every table derived from them.

    Reads only policy-dependent parts of ``params`` and the world's fixed figures, so
    calling it twice with the same scenario changes nothing. Ends any phase-in.
    """
    world.policy_params = params
    world.phase = None
    hold = world.hold
    geo = world.geo
    scale = world.scale
    world.tables = compile_policy(params.policy, geo, scale)
    # the rules (zone overrides and policy.rules), least specific first; conflicts raise
    base = hold.baseline if hold is not None else params
    lists = {**base.policy.whitelists, **params.policy.whitelists}
    world.list_names = tuple(dict.fromkeys([*params.policy.whitelists, *lists]))
    world.rules = compile_rules(params.policy, geo, scale, world.list_names)
    world.external_tables = compile_external(params.policy, world.tables, scale)
    world.border = _borders(world.tables, world.rules, params, geo)
    # a channel held at baseline (flowsim explain) meets the baseline's friction
    world.baseline_tables = compile_policy(base.policy, geo, scale)
    world.baseline_rules = compile_rules(base.policy, geo, scale, world.list_names)
    world.baseline_external_tables = compile_external(base.policy, world.baseline_tables, scale)
    if not hasattr(world, "external_quota_left"):
        world.external_quota_left = np.full(world.external_tables.shape, np.inf)
    world.baseline_border = _borders(world.baseline_tables, world.baseline_rules, base, geo)
    world.whitelists = lists
    assign_lists(world)
    if hasattr(world, "rule_quota_left") and world.rule_quota_left.size != len(world.rules.quota):
        refill_rule_quotas(world)
    _derived(world, world.border, params, base, 1.0, None)


def _derived(world: World, border, params: Scenario, base: Scenario, weight: float, before):
    """Tables derived from the border deterrence and the numeric levers.

    With ``before`` (the scenario before a policy) the numeric levers are blended: a share
    ``weight`` of the policy's value, the rest of the earlier one.
    """
    geo, n = world.geo, len(CITIES)
    travel = geo.travel_minutes
    talent_border = (
        border["talent"] if "job_move" not in world.held else world.baseline_border["talent"]
    )
    world.capital_border = (
        border["capital"] if "vc_round" not in world.held else world.baseline_border["capital"]
    )
    tp = params.talent
    world.move_kernel = np.exp(-travel / tp.distance_decay_minutes)[None] * talent_border
    world.visit_weights = gravity(world.city_mass, travel, tp.distance_decay_minutes, talent_border)
    world.visit_weights *= (1.0 - np.eye(n))[None]
    world.manufacturing_access = manufacturing_access(
        geo.figures["manufacturing_capacity"], travel, talent_border
    )
    grants = base if "grant" in world.held else params
    world.grant_portability = _portability(world, grants)
    leverage = base if "guidance_coinvestment" in world.held else params
    world.guidance_leverage = np.asarray(leverage.capital.guidance_leverage.as_array())
    ownership = params.transfer.researcher_ownership
    if before is not None:
        w = weight
        ownership = w * ownership + (1 - w) * before.transfer.researcher_ownership
        if "grant" not in world.held:
            world.grant_portability = w * world.grant_portability + (1 - w) * _portability(
                world, before
            )
        if "guidance_coinvestment" not in world.held:
            old = np.asarray(before.capital.guidance_leverage.as_array())
            world.guidance_leverage = w * world.guidance_leverage + (1 - w) * old
    if hasattr(world, "labs"):
        lab_ownership(world, ownership)


def lab_ownership(world: World, share: float) -> None:
    """Labs that let researchers own their results: those whose readiness is below ``share``.

    Each lab's readiness is one uniform draw made when the labs are drawn, so a share that
    grows (a phase-in) adds labs and keeps the ones that already adopted.
    """
    labs = world.labs
    labs.ownership[:] = labs.ownership_readiness < share


def _portability(world: World, grants: Scenario) -> np.ndarray:
    """Grant portability per (zone slot, corridor): a zone's override on the corridors it covers.

    Slot 0 is outside every zone.
    """
    out = np.full((len(ZONES) + 1, len(CORRIDORS)), grants.research.grant_portability)
    for z, zone in enumerate(ZONES):
        override = getattr(grants.policy.zones, zone).grant_portability
        if override is not None:
            out[z + 1, world.geo.zone_corridors[z]] = override
    return out


class Phase:
    """The rules before a policy, held during its phase-in, and the share of flows under the new.

    Attributes:
        weight: share of this month's flows that meet the policy's rules (0 < weight < 1).
        tables, rules, border: the compiled rules before the policy.
        external_tables: the external corridors' tables before the policy (CN, ROW).
        quota_left, rule_quota_left, external_quota_left: this month's quotas under the
            earlier rules.
    """

    def __init__(self, world: World, before: Scenario):
        self.before = before
        self.weight = 0.0
        geo, scale = world.geo, world.scale
        self.tables = compile_policy(before.policy, geo, scale)
        self.rules = compile_rules(before.policy, geo, scale, world.list_names)
        self.border = _borders(self.tables, self.rules, before, geo)
        self.external_tables = compile_external(before.policy, self.tables, scale)
        self.quota_left = self.rule_quota_left = self.external_quota_left = None


def set_phase(world: World, params: Scenario, before: Scenario, weight: float) -> None:
    """Put the world part way into ``params``'s rules: a share ``weight`` of the flows meet them.

    The expected border deterrence, the kernels built from it, grant portability and
    guidance leverage are blended with the same weight, and so is the expected deterrence
    of the external borders (:func:`flowsim.policy.external_weights_for`); each crossing,
    the external ones too, is sent through the new rules with probability ``weight``
    (:func:`flowsim.policy.cross_border`). A weight of 1 is the policy in full
    (:func:`set_policy`), 0 the rules before it.
    """
    if weight >= 1.0:
        set_policy(world, params)
        return
    if world.policy_params is not params:
        set_policy(world, params)
    phase = world.phase if isinstance(world.phase, Phase) else Phase(world, before)
    phase.weight = float(weight)
    world.phase = phase
    blended = {
        name: weight * world.border[name] + (1.0 - weight) * phase.border[name]
        for name in world.border
    }
    base = world.hold.baseline if world.hold is not None else params
    _derived(world, blended, params, base, weight, before)


def assign_lists(world: World) -> None:
    """Whitelist membership (a bit per list) of each lab and firm; None with no list.

    Needs the agents: :func:`flowsim.setup.build_world` calls it once they are drawn.
    """
    if world.list_names and hasattr(world, "labs") and hasattr(world, "firms"):
        world.lab_lists, world.firm_lists = list_members(world, world.whitelists, world.list_names)
    else:
        world.lab_lists = world.firm_lists = None


def refill_quotas(world: World) -> None:
    """This month's quotas: the tables' pools, then each rule's, from the quota stream."""
    # quotas are rounded from a stream of their own, so that a quota that binds
    # nothing leaves every mechanism's draws as they were
    world.quota_left = fresh_quota(world.tables, world.rngs["quota"])
    refill_rule_quotas(world)
    # the external corridors' quotas draw only where policy.external sets one
    world.external_quota_left = fresh_quota(world.external_tables, world.rngs["quota"])
    phase = getattr(world, "phase", None)
    if phase is not None:
        phase.quota_left = fresh_quota(phase.tables, world.rngs["quota"])
        phase.rule_quota_left = fresh_rule_quota(phase.rules, world.rngs["quota"])
        phase.external_quota_left = fresh_quota(phase.external_tables, world.rngs["quota"])


def refill_rule_quotas(world: World) -> None:
    """The rules' quotas (drawn only where a rule of ``policy.rules`` sets one)."""
    world.rule_quota_left = fresh_rule_quota(world.rules, world.rngs["quota"])
    world.baseline_rule_quota_left = (
        fresh_rule_quota(world.baseline_rules, world.rngs["quota"])
        if world.held
        else world.rule_quota_left
    )
