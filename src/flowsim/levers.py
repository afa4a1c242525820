"""Does the scale carry the levers? Counting the agents each lever of a scenario acts on.

A lever acts on a group of agents: a zone override on the agents located in the
zone, a jurisdiction's guidance-fund leverage on its guidance funds, capital
friction on a corridor on the investors on either side. At a small scale such a
group can hold a handful of agents or none, and the lever's effect is then
decided by which few agents happen to exist, or is exactly zero. :func:`warnings_for`
names each lever whose group holds fewer than :data:`MIN_AGENTS` agents, with the
scale at which it would hold enough; ``flowsim run`` and ``flowsim sweep`` print them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from flowsim.geography import CORRIDORS, JURISDICTIONS, ZONES, Geography, load_geography
from flowsim.params import Scenario

MIN_AGENTS = 10
"""Agents a lever's group needs to carry it (assumption: with fewer, the lever's effect is
decided by which agents happen to exist — run-to-run spread of a group total of n agents
is about 1/sqrt(n), over 30% below 10)."""

INVESTOR_TYPES = ("VC funds", "guidance funds")
"""Investor types, numbered as ``investors.investor_type``."""


def _groups_of(path: str) -> list[str]:
    """The agent groups a lever (a dotted scenario path) acts on; [] if none is tracked."""
    parts = path.split(".")
    if parts[:2] == ["policy", "zones"] and len(parts) >= 4:
        zone, what = parts[2], parts[3]
        # capital crossings act for the firm; talent, data, samples and grants for the
        # researcher (a project's PI) located in the zone
        if what == "capital":
            return [f"firms in zone {zone}"]
        return [f"researchers in zone {zone}"]
    if parts[:2] == ["policy", "corridors"] and len(parts) >= 4 and parts[3] == "capital":
        corridor = parts[2]
        sides = corridor.split("-") if corridor in CORRIDORS else []
        return [f"investors in {side}" for side in sides]
    if parts[:2] == ["capital", "guidance_leverage"] and len(parts) == 3:
        return [f"guidance funds in {parts[2]}"]
    if parts == ["transfer", "researcher_ownership"]:
        return ["labs"]
    if parts == ["research", "grant_portability"]:
        return ["labs in GD"]
    return []


def agents_by_group(world: Any) -> dict[str, int]:
    """Agents (model units) in every group a lever can act on, from a built world."""
    R, L, F, inv = world.researchers, world.labs, world.firms, world.investors
    jur = world.geo.city_jurisdiction
    out: dict[str, int] = {"labs": int(L.n)}
    for z, zone in enumerate(ZONES):
        out[f"researchers in zone {zone}"] = int((R.zone == z).sum())
        out[f"labs in zone {zone}"] = int((L.zone == z).sum())
        out[f"firms in zone {zone}"] = int(((F.zone == z) & F.alive).sum())
    for j, name in enumerate(JURISDICTIONS):
        out[f"labs in {name}"] = int((jur[L.city] == j).sum())
        here = jur[inv.city] == j
        out[f"investors in {name}"] = int(here.sum())
        for t, kind in enumerate(INVESTOR_TYPES):
            out[f"{kind} in {name}"] = int((here & (inv.investor_type == t)).sum())
    return out


def expected_full_scale(scenario: Scenario, geo: Geography | None = None) -> dict[str, float]:
    """Expected agents in every group at scale 1 (one agent per real entity)."""
    geo = geo or load_geography()
    pp = scenario.population
    mult = np.asarray(pp.city_multipliers.as_array())
    fig = geo.figures
    researchers = fig["researchers"] * mult
    labs = researchers * fig["public_research_share"] / pp.researchers_per_lab
    firms = fig["firms"] * mult
    investors = fig["fund_managers"] * mult
    jur = geo.city_jurisdiction
    out: dict[str, float] = {"labs": float(labs.sum())}
    for z, zone in enumerate(ZONES):
        share, city = geo.zone_population_share[z], geo.zone_city[z]
        out[f"researchers in zone {zone}"] = float(researchers[city] * share)
        out[f"labs in zone {zone}"] = float(labs[city] * share)
        out[f"firms in zone {zone}"] = float(firms[city] * share)
    type_share = (1.0 - pp.guidance_fund_share, pp.guidance_fund_share)
    for j, name in enumerate(JURISDICTIONS):
        here = jur == j
        out[f"labs in {name}"] = float(labs[here].sum())
        out[f"investors in {name}"] = float(investors[here].sum())
        for kind, share in zip(INVESTOR_TYPES, type_share, strict=True):
            out[f"{kind} in {name}"] = float(investors[here].sum() * share)
    return out


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def changed_levers(scenario: Scenario, base: Scenario | None = None) -> list[str]:
    """Dotted paths of the scenario's values that differ from ``base`` (the defaults)."""
    mine = _flat(scenario.model_dump(mode="json", by_alias=True))
    theirs = _flat((base or Scenario()).model_dump(mode="json", by_alias=True))
    return sorted(k for k, v in mine.items() if theirs.get(k) != v and _groups_of(k))


def warnings_for(
    scenario: Scenario, levers: Iterable[str] | None = None, world: Any = None
) -> list[str]:
    """One message per lever whose agents are too few at the scenario's scale.

    Args:
        scenario: the scenario (its scale decides the agents).
        levers: dotted paths of the levers to check; default: every tracked value that
            differs from the defaults (:func:`changed_levers`).
        world: the built world, if the caller has one (else it is built).
    """
    levers = changed_levers(scenario) if levers is None else list(levers)
    if not levers:
        return []
    if world is None:
        from flowsim.assembly import build_world

        world = build_world(scenario, scenario.seed)
    have = agents_by_group(world)
    full = expected_full_scale(scenario, world.geo)
    by_group: dict[str, list[str]] = {}
    for path in levers:
        for group in _groups_of(path):
            if group in have and have[group] < MIN_AGENTS:
                by_group.setdefault(group, []).append(path)
    messages = []
    for group, paths in by_group.items():
        need = MIN_AGENTS / full[group] if full[group] > 0 else float("inf")
        where = _lever_names(paths)
        if need > 1.0:
            advice = "no scale up to 1 (every real entity an agent) gives enough of them"
        else:
            advice = f"run at --scale {_round_up(need)} or more"
        messages.append(
            f"warning: {where} {'act' if len(paths) > 1 else 'acts'} on {group}: "
            f"{have[group]} at scale {scenario.scale:g} "
            f"(fewer than {MIN_AGENTS}, so its effect is noise or zero); {advice}"
        )
    return messages


def _lever_names(paths: list[str]) -> str:
    """``policy.zones.Hetao.*`` for several values under one zone, else the paths."""
    found = [re.match(r"policy\.zones\.([^.]+)\.", p) for p in paths]
    zones = {m.group(1) if m else None for m in found}
    if len(paths) > 2 and len(zones) == 1 and None not in zones:
        return f"the {len(paths)} values under policy.zones.{zones.pop()}"
    return ", ".join(paths)


def _round_up(scale: float) -> str:
    """A readable scale at least ``scale``: 1, 2 or 5 times a power of ten."""
    exponent = np.floor(np.log10(scale))
    for step in (1, 2, 5, 10):
        candidate = step * 10**exponent
        if candidate >= scale * (1 - 1e-12):
            return f"{min(candidate, 1.0):g}"
    return "1"
