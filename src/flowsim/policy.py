"""Border friction: compile a scenario's policy into lookup tables, and cross borders.

A flow from city ``o`` to city ``d`` meets friction only when the two cities are in
different jurisdictions; it then uses the friction of corridor ``corridor[o, d]``
for its element, unless the acting agent is located in a cooperation zone whose
rules cover that corridor, in which case the zone's overrides apply.

Tables are indexed ``[zone_slot, element, corridor]`` where zone slot 0 means "no
zone" and slot ``z + 1`` is zone ``z``. :func:`cross` is the pure core: arrays and
a Generator in, approvals, delays and costs out; :func:`cross_border` passes a
world's flows through it, records them in the flow ledger and counts them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from flowsim.flows import channel
from flowsim.geography import (
    ALL_CORRIDORS,
    BORDER_JURISDICTIONS,
    CITIES,
    CORRIDORS,
    ELEMENTS,
    EXTERNAL_CORRIDORS,
    EXTERNALS,
    FIELDS,
    JURISDICTIONS,
    PLACES,
    ZONES,
    Geography,
)

if TYPE_CHECKING:
    from flowsim.paramtypes import Policy, Response
    from flowsim.world import World

DAYS_PER_STEP = 365.25 / 12
"""One model step is one month."""


@dataclass(frozen=True)
class FrictionTables:
    """Friction per (zone slot, element, corridor); quota is per month in model units."""

    approval: np.ndarray
    delay_days: np.ndarray
    cost: np.ndarray
    quota: np.ndarray
    quota_slot: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """(zone slots, elements, corridors)."""
        return self.approval.shape


def compile_policy(policy: Policy, geography: Geography, scale: float) -> FrictionTables:
    """Turn a policy into arrays. Quotas are scaled to model units (real quota x scale).

    ``quota_slot[s, e, c]`` is the quota pool a crossing uses: its zone's own pool
    where the zone overrides the quota, else the corridor's pool (slot 0).
    """
    slots, n_el, n_co = len(ZONES) + 1, len(ELEMENTS), len(CORRIDORS)
    approval = np.ones((slots, n_el, n_co))
    delay = np.zeros((slots, n_el, n_co))
    cost = np.zeros((slots, n_el, n_co))
    quota = np.full((slots, n_el, n_co), np.inf)
    quota_slot = np.zeros((slots, n_el, n_co), dtype=np.int64)
    for c, corridor in enumerate(CORRIDORS):
        cp = policy.corridors.for_corridor(corridor)
        for e, element in enumerate(ELEMENTS):
            f = getattr(cp, element)
            approval[:, e, c] = f.approval
            delay[:, e, c] = f.delay_days
            cost[:, e, c] = f.cost
            quota[0, e, c] = np.inf if f.quota is None else f.quota * scale
            for z, zone in enumerate(ZONES):
                if not geography.zone_corridors[z, c]:
                    continue
                o = getattr(getattr(policy.zones, zone), element)
                if o.approval is not None:
                    approval[z + 1, e, c] = o.approval
                if o.delay_days is not None:
                    delay[z + 1, e, c] = o.delay_days
                if o.cost is not None:
                    cost[z + 1, e, c] = o.cost
                if o.quota is not None:
                    quota[z + 1, e, c] = o.quota * scale
                    quota_slot[z + 1, e, c] = z + 1
    return FrictionTables(approval, delay, cost, quota, quota_slot)


def compile_external(policy: Policy, tables: FrictionTables, scale: float) -> FrictionTables:
    """Tables over :data:`~flowsim.geography.ALL_CORRIDORS` for flows to or from CN and ROW.

    The external corridors take ``policy.external`` (quotas scaled to model units); zones
    do not cover them (every zone slot reads the corridor's value). The internal corridors
    keep ``tables``' values but no quota (an external flow never uses them), so that the
    quota stream draws nothing more than before the open region.
    """
    slots, n_el, n_in = tables.shape
    n_co = len(ALL_CORRIDORS)
    approval = np.ones((slots, n_el, n_co))
    delay = np.zeros((slots, n_el, n_co))
    cost = np.zeros((slots, n_el, n_co))
    approval[:, :, :n_in] = tables.approval
    delay[:, :, :n_in] = tables.delay_days
    cost[:, :, :n_in] = tables.cost
    for k, corridor in enumerate(EXTERNAL_CORRIDORS):
        cp = policy.external.for_corridor(corridor)
        for e, element in enumerate(ELEMENTS):
            f = getattr(cp, element)
            approval[:, e, n_in + k] = f.approval
            delay[:, e, n_in + k] = f.delay_days
            cost[:, e, n_in + k] = f.cost
    quota = np.full((slots, n_el, n_co), np.inf)
    for k, corridor in enumerate(EXTERNAL_CORRIDORS):
        cp = policy.external.for_corridor(corridor)
        for e, element in enumerate(ELEMENTS):
            q = getattr(cp, element).quota
            quota[0, e, n_in + k] = np.inf if q is None else q * scale
    quota_slot = np.zeros((slots, n_el, n_co), dtype=np.int64)
    return FrictionTables(approval, delay, cost, quota, quota_slot)


# --------------------------------------------------------------------------- rules

QUANTITIES: tuple[str, ...] = ("approval", "delay_days", "cost", "quota")
"""What a rule may set."""

UNKNOWN = -2
"""A flow attribute that is not known (a selector on it never matches)."""

AGENT_END: dict[str, str] = {
    "talent": "origin",
    "capital": "destination",
    "data": "destination",
    "samples": "destination",
}
"""Where the acting agent of each element's typical flow sits (a researcher leaves; money,
data and samples come to a firm or a project): used for the expected deterrence tables."""


class RuleConflict(ValueError):
    """Two rules of equal specificity match a common flow and set different values."""

    def __init__(self, first: CompiledRule, second: CompiledRule, quantity: str):
        self.first, self.second, self.quantity = first, second, quantity
        a, b = first.values[quantity], second.values[quantity]
        super().__init__(
            f"{first.label} and {second.label} both match some flow at specificity "
            f"{first.specificity} and set {quantity} to {a:g} and {b:g}"
        )


@dataclass(frozen=True)
class FlowKeys:
    """What the rules may select on, one entry per flow (None: unknown for every flow).

    ``employer`` is 0 lab, 1 firm; ``lists`` is a bit mask of the whitelists the acting agent
    belongs to; zones are -1 outside every zone.
    """

    field: np.ndarray | None = None
    employer: np.ndarray | None = None
    category: np.ndarray | None = None
    kind: np.ndarray | None = None
    lists: np.ndarray | None = None
    origin_zone: np.ndarray | None = None
    destination_zone: np.ndarray | None = None

    def take(self, rows: np.ndarray) -> FlowKeys:
        """The keys of a subset of the flows."""
        return FlowKeys(
            **{k: None if v is None else np.asarray(v)[rows] for k, v in self.__dict__.items()}
        )


@dataclass(frozen=True)
class CompiledRule:
    """A rule as masks over the values of each selector (None: any value)."""

    label: str
    path: tuple
    specificity: int
    order: int
    elements: np.ndarray
    pairs: np.ndarray
    origin: np.ndarray | None
    destination: np.ndarray | None
    fields: np.ndarray | None
    categories: np.ndarray | None
    kinds: np.ndarray | None
    employers: np.ndarray | None
    zones: np.ndarray | None
    whitelist: int | None
    values: dict[str, float]
    legacy_slot: int | None = None

    def match(
        self,
        origin: np.ndarray,
        destination: np.ndarray,
        zone: np.ndarray,
        keys: FlowKeys,
        jurisdiction: np.ndarray,
    ) -> np.ndarray:
        """Which flows (cities, acting agent's zone, keys) this rule selects (vectorised)."""
        jur = jurisdiction
        ok = self.pairs[jur[origin], jur[destination]]
        if self.origin is not None:
            ok &= _place_match(self.origin, origin, keys.origin_zone)
        if self.destination is not None:
            ok &= _place_match(self.destination, destination, keys.destination_zone)
        for mask, values in (
            (self.fields, keys.field),
            (self.categories, keys.category),
            (self.kinds, keys.kind),
            (self.employers, keys.employer),
            (self.zones, zone),
        ):
            if mask is not None:
                ok &= _member(mask, values, ok.size)
        if self.whitelist is not None:
            lists = keys.lists
            if lists is None:
                ok &= False
            else:
                ok &= (np.asarray(lists, dtype=np.int64) >> self.whitelist) & 1 == 1
        return ok


def _member(mask: np.ndarray, values: np.ndarray | None, n: int) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    values = np.asarray(values, dtype=np.int64)
    out = np.zeros(values.size, dtype=bool)
    known = values >= 0
    out[known] = mask[values[known]]
    return out


def _place_match(mask: np.ndarray, city: np.ndarray, zone: np.ndarray | None) -> np.ndarray:
    """``mask`` over cities, zones, then external places; an end matches by its place or zone.

    ``city`` is a place number (:data:`~flowsim.geography.PLACES`: a city, or CN / ROW).
    """
    n_cities, n_zones = len(CITIES), len(ZONES)
    by_place = np.concatenate([mask[:n_cities], mask[n_cities + n_zones :]])
    out = by_place[city]
    zones = mask[n_cities : n_cities + n_zones]
    if zone is not None and zones.any():
        out = out | _member(zones, zone, city.size)
    return out


@dataclass(frozen=True)
class RuleSet:
    """A policy's rules compiled: zone overrides and ``policy.rules``, least specific first.

    ``user`` counts the rules of ``policy.rules``; with none, a crossing reads the tables
    as before the rule language (the zone rules are the tables' zone slots).
    """

    rules: tuple[CompiledRule, ...]
    user: int
    quota: np.ndarray
    whitelist_names: tuple[str, ...]

    def for_element(self, element: int) -> tuple[CompiledRule, ...]:
        """The rules that may select ``element``, least specific first."""
        return tuple(r for r in self.rules if r.elements[element])


def _mask(values: Any, names: tuple[str, ...]) -> np.ndarray | None:
    if values is None:
        return None
    values = values if isinstance(values, (list, tuple)) else [values]
    mask = np.zeros(len(names), dtype=bool)
    mask[[names.index(v) for v in values]] = True
    return mask


def _pairs(corridor: str | None, direction: str | None, external: bool = False) -> np.ndarray:
    """(origin jurisdiction, destination jurisdiction) pairs a rule selects; never domestic.

    Over :data:`~flowsim.geography.BORDER_JURISDICTIONS`. A rule that names no external
    corridor, direction or place (``external`` False) selects the Bay Area's borders only.
    """
    n = len(BORDER_JURISDICTIONS)
    pairs = np.ones((n, n), dtype=bool) & ~np.eye(n, dtype=bool)
    if not external:
        inside = len(JURISDICTIONS)
        pairs[inside:, :] = False
        pairs[:, inside:] = False
    if corridor is not None:
        a, b = (BORDER_JURISDICTIONS.index(j) for j in corridor.split("-"))
        keep = np.zeros((n, n), dtype=bool)
        keep[a, b] = keep[b, a] = True
        pairs &= keep
    if direction is not None:
        a, b = (BORDER_JURISDICTIONS.index(j) for j in direction.split("->"))
        keep = np.zeros((n, n), dtype=bool)
        keep[a, b] = True
        pairs &= keep
    return pairs


ZONE_RULE_SPECIFICITY = 3
"""A zone override selects element, corridor and the acting agent's zone."""


def compile_rules(
    policy: Policy,
    geography: Geography,
    scale: float,
    list_names: tuple[str, ...] | None = None,
) -> RuleSet:
    """The zone overrides and ``policy.rules`` as :class:`CompiledRule`, least specific first.

    ``list_names`` numbers the whitelists (bit i of an agent's lists is ``list_names[i]``);
    by default the order of ``policy.whitelists``.

    Raises:
        RuleConflict: two rules of equal specificity match a common flow and set a value
            differently.
    """
    from flowsim.paramtypes import DATA_CATEGORIES, EMPLOYER_KINDS, SAMPLE_KINDS

    rules: list[CompiledRule] = []
    places = CITIES + ZONES + EXTERNALS
    for z, zone in enumerate(ZONES):
        zp = getattr(policy.zones, zone)
        for e, element in enumerate(ELEMENTS):
            o = getattr(zp, element)
            values = {q: getattr(o, q) for q in QUANTITIES if getattr(o, q) is not None}
            if not values:
                continue
            if "quota" in values:
                values["quota"] = values["quota"] * scale
            pairs = np.zeros((len(BORDER_JURISDICTIONS),) * 2, dtype=bool)
            for c in np.flatnonzero(geography.zone_corridors[z]):
                pairs |= _pairs(CORRIDORS[c], None)
            elements = np.zeros(len(ELEMENTS), dtype=bool)
            elements[e] = True
            rules.append(
                CompiledRule(
                    label=f"policy.zones.{zone}.{element}",
                    path=("policy", "zones", zone, element),
                    specificity=ZONE_RULE_SPECIFICITY,
                    order=len(rules),
                    elements=elements,
                    pairs=pairs,
                    origin=None,
                    destination=None,
                    fields=None,
                    categories=None,
                    kinds=None,
                    employers=None,
                    zones=_mask(zone, ZONES),
                    whitelist=None,
                    values=values,
                    legacy_slot=z + 1,
                )
            )
    names = tuple(policy.whitelists) if list_names is None else tuple(list_names)
    quota = []
    for i, rule in enumerate(policy.rules):
        values = {q: getattr(rule, q) for q in QUANTITIES if getattr(rule, q) is not None}
        if "quota" in values:
            values["quota"] = values["quota"] * scale
        elements = _mask(rule.element, ELEMENTS)
        label = f"policy.rules[{i}]" + (f" ({rule.name})" if rule.name else "")
        rules.append(
            CompiledRule(
                label=label,
                path=("policy", "rules", i),
                specificity=rule.specificity(),
                order=len(rules),
                elements=np.ones(len(ELEMENTS), dtype=bool) if elements is None else elements,
                pairs=_pairs(rule.corridor, rule.direction, rule.external()),
                origin=_mask(rule.from_, places),
                destination=_mask(rule.to, places),
                fields=_mask(rule.field, FIELDS),
                categories=_mask(rule.category, DATA_CATEGORIES),
                kinds=_mask(rule.kind, SAMPLE_KINDS),
                employers=_mask(rule.employer, EMPLOYER_KINDS),
                zones=_mask(rule.zone, ZONES),
                whitelist=None if rule.whitelist is None else names.index(rule.whitelist),
                values=values,
            )
        )
        quota.append(values.get("quota", np.inf))
    ordered = tuple(sorted(rules, key=lambda r: (r.specificity, r.order)))
    check_conflicts(ordered, geography)
    return RuleSet(ordered, len(policy.rules), np.asarray(quota, dtype=np.float64), names)


def _geo_states(geography: Geography) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every place a flow end can be: (place, zone or -1), with the place's jurisdiction.

    The cities, each zone in its city, and the external places.
    """
    n = len(CITIES)
    city = (
        list(range(n)) + [int(c) for c in geography.zone_city] + list(range(n, n + len(EXTERNALS)))
    )
    zone = [-1] * n + list(range(len(ZONES))) + [-1] * len(EXTERNALS)
    city_a = np.asarray(city, dtype=np.int64)
    return city_a, np.asarray(zone, dtype=np.int64), geography.place_jurisdiction[city_a]


def _geo_match(rule: CompiledRule, states) -> np.ndarray:
    """(origin state, destination state) pairs a rule's place selectors can select."""
    city, zone, jur = states
    ok = rule.pairs[jur[:, None], jur[None, :]]
    if rule.origin is not None:
        ok &= _place_match(rule.origin, city, zone)[:, None]
    if rule.destination is not None:
        ok &= _place_match(rule.destination, city, zone)[None, :]
    return ok


def _overlap(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    return a is None or b is None or bool((a & b).any())


def overlaps(a: CompiledRule, b: CompiledRule, geography: Geography) -> bool:
    """Whether some flow could match both rules (each selector checked; places jointly)."""
    if not (a.elements & b.elements).any():
        return False
    for x, y in (
        (a.fields, b.fields),
        (a.categories, b.categories),
        (a.kinds, b.kinds),
        (a.employers, b.employers),
        (a.zones, b.zones),
    ):
        if not _overlap(x, y):
            return False
    states = _geo_states(geography)
    return bool((_geo_match(a, states) & _geo_match(b, states)).any())


def check_conflicts(rules: tuple[CompiledRule, ...], geography: Geography) -> None:
    """Raise :class:`RuleConflict` for two rules that could match a common flow.

    Only rules of equal specificity that set some value differently conflict.
    """
    for i, a in enumerate(rules):
        for b in rules[i + 1 :]:
            if b.specificity != a.specificity:
                break
            shared = [q for q in QUANTITIES if q in a.values and q in b.values]
            differ = [q for q in shared if a.values[q] != b.values[q]]
            if differ and overlaps(a, b, geography):
                raise RuleConflict(a, b, differ[0])


@dataclass
class Friction:
    """Effective friction of a batch of flows and which rule supplied each value (-1 default)."""

    approval: np.ndarray
    delay_days: np.ndarray
    cost: np.ndarray
    pool: np.ndarray
    source: dict[str, np.ndarray]


def resolve(
    tables: FrictionTables,
    rules: RuleSet | None,
    element: int,
    origin: np.ndarray,
    destination: np.ndarray,
    zone: np.ndarray,
    keys: FlowKeys,
    jurisdiction: np.ndarray,
    corridor_matrix: np.ndarray,
) -> Friction:
    """The friction each cross-border flow meets: the most specific matching rule's values.

    Starts from the corridor's default (the tables' slot 0) and lets each rule, least
    specific first, overwrite what it sets where it matches (a loop over rules, never over
    flows). ``pool`` numbers the quota pool each flow uses: ``slot x corridors + corridor``
    for the tables' pools, ``slots x corridors + i`` for the i-th rule of ``policy.rules``.
    """
    origin = np.asarray(origin, dtype=np.int64)
    destination = np.asarray(destination, dtype=np.int64)
    c = corridor_matrix[origin, destination].astype(np.int64)
    n_co = tables.approval.shape[2]
    out = {
        "approval": tables.approval[0, element, c].copy(),
        "delay_days": tables.delay_days[0, element, c].copy(),
        "cost": tables.cost[0, element, c].copy(),
        "quota": np.zeros(c.size),
    }
    pool = c.copy()
    source = {q: np.full(c.size, -1, dtype=np.int64) for q in QUANTITIES}
    legacy_pools = tables.quota.shape[0] * n_co
    user_index = 0
    for k, rule in enumerate(rules.rules if rules is not None else ()):
        if rule.legacy_slot is None:
            user_index = rule.path[2]
        if not rule.elements[element]:
            continue
        hit = rule.match(origin, destination, zone, keys, jurisdiction)
        if not hit.any():
            continue
        for q, v in rule.values.items():
            out[q][hit] = v
            source[q][hit] = k
        if "quota" in rule.values:
            if rule.legacy_slot is not None:
                pool[hit] = rule.legacy_slot * n_co + c[hit]
            else:
                pool[hit] = legacy_pools + user_index
    return Friction(out["approval"], out["delay_days"], out["cost"], pool, source)


@dataclass
class Crossing:
    """Outcome of a batch of flows: one entry per flow."""

    approved: np.ndarray
    refused: np.ndarray
    over_quota: np.ndarray
    delay_days: np.ndarray
    delay_steps: np.ndarray
    cost: np.ndarray
    corridor: np.ndarray


def cross(
    origin: np.ndarray,
    destination: np.ndarray,
    zone: np.ndarray,
    element: int,
    tables: FrictionTables,
    corridor_matrix: np.ndarray,
    quota_left: np.ndarray,
    rng: np.random.Generator,
    rules: RuleSet | None = None,
    keys: FlowKeys | None = None,
    rule_quota_left: np.ndarray | None = None,
    jurisdiction: np.ndarray | None = None,
) -> Crossing:
    """Send flows from ``origin`` to ``destination`` cities through border control (pure core).

    Args:
        origin: origin city of each flow.
        destination: destination city of each flow.
        zone: zone number of the acting agent (-1 none), one per flow.
        element: element number (``ELEMENTS.index(...)``).
        tables: compiled friction.
        corridor_matrix: corridor number of each city pair (-1 domestic).
        quota_left: crossings still allowed this month, shape (zone slots, elements,
            corridors); decremented in place for approved crossings.
        rng: the mechanism's Generator.
        rules: the compiled rules (:func:`compile_rules`); with none of ``policy.rules``
            the tables alone decide, as before the rule language.
        keys: what the rules may select on, one entry per flow.
        rule_quota_left: crossings each rule of ``policy.rules`` still allows this month;
            decremented in place.
        jurisdiction: jurisdiction of each city (needed with rules).

    Returns:
        A :class:`Crossing`. Domestic flows are always approved with no delay or cost.
        A crossing refused for lack of quota has ``refused`` and ``over_quota`` set.
        The number of draws does not depend on the friction, so a rule that changes a
        value leaves the stream's later draws where they were.
    """
    origin = np.asarray(origin, dtype=np.int64)
    destination = np.asarray(destination, dtype=np.int64)
    n = origin.size
    corridor = corridor_matrix[origin, destination].astype(np.int64)
    border = corridor >= 0
    approved = np.ones(n, dtype=bool)
    over_quota = np.zeros(n, dtype=bool)
    delay_days = np.zeros(n)
    cost = np.zeros(n)
    b = np.flatnonzero(border)
    n_co = tables.approval.shape[2]
    if b.size:
        c = corridor[b]
        z = np.asarray(zone, dtype=np.int64)[b]
        if rules is not None and rules.user:
            f = resolve(
                tables,
                rules,
                element,
                origin[b],
                destination[b],
                z,
                (keys or FlowKeys()).take(b),
                jurisdiction,
                corridor_matrix,
            )
            p, mean_delay, cost[b], pool_all = f.approval, f.delay_days, f.cost, f.pool
            left_all = np.concatenate(
                (np.floor(quota_left[:, element, :]).ravel(), np.floor(rule_quota_left))
            )
        else:
            slot = np.where((z >= 0), z + 1, 0)
            p = tables.approval[slot, element, c]
            mean_delay = tables.delay_days[slot, element, c]
            cost[b] = tables.cost[slot, element, c]
            pool_all = tables.quota_slot[slot, element, c] * n_co + c
            left_all = np.floor(quota_left[:, element, :]).ravel()
        u = rng.random(b.size)
        delay_days[b] = rng.exponential(1.0, b.size) * mean_delay
        ok = u < p
        approved[b] = ok
        # quotas: among approved crossings, a random subset up to what is left in each pool
        limited = ok & np.isfinite(left_all[pool_all])
        if limited.any():
            idx = np.flatnonzero(limited)
            n_pools = left_all.size
            pool = pool_all[idx]
            left = left_all
            if (np.bincount(pool, minlength=n_pools) > left).any():
                # a quota binds: a random subset of its crossings, up to what is left, goes
                # through. Only then is the mechanism's stream drawn from, so that a quota
                # that binds nothing leaves every draw as it was.
                order = rng.permutation(idx.size)
                idx, pool = idx[order], pool[order]
                sort = np.argsort(pool, kind="stable")
                idx, pool = idx[sort], pool[sort]
                first = np.searchsorted(pool, pool, side="left")
                rank = np.arange(idx.size) - first
                denied = rank >= left[pool]
                approved[b[idx[denied]]] = False
                over_quota[b[idx[denied]]] = True
                pool = pool[~denied]
            used = np.bincount(pool, minlength=n_pools)
            legacy = quota_left.shape[0] * n_co
            quota_left[:, element, :] -= used[:legacy].reshape(quota_left.shape[0], n_co)
            if n_pools > legacy:
                rule_quota_left -= used[legacy:]
    delay_days[~approved] = 0.0
    steps = np.floor(delay_days / DAYS_PER_STEP + rng.random(n)).astype(np.int64)
    steps[~border] = 0
    return Crossing(approved, ~approved, over_quota, delay_days, steps, cost, corridor)


def border_weights(
    tables: FrictionTables,
    element: int,
    corridor_matrix: np.ndarray,
    response: Response,
) -> np.ndarray:
    """Multiplier on the pull of each destination, shape (zone slots, origin, destination).

    1 inside a jurisdiction; across a border, the element's residual border effect
    times the approval probability times the deterrence of cost and delay, each
    element with its own response (``deterrence.<element>``).
    """
    slots = tables.approval.shape[0]
    n = corridor_matrix.shape[0]
    out = np.ones((slots, n, n))
    c = corridor_matrix.astype(np.int64)
    border = c >= 0
    for s in range(slots):
        a = tables.approval[s, element][c]
        d = tables.delay_days[s, element][c]
        k = tables.cost[s, element][c]
        w = (
            response.border_effect
            * a
            * np.exp(-k / response.cost_scale)
            * np.exp(-d / response.delay_scale_days)
        )
        out[s] = np.where(border, w, 1.0)
    return out


def fresh_quota(tables: FrictionTables, rng: np.random.Generator) -> np.ndarray:
    """This month's quota, stochastically rounded so that small scales keep the expected quota."""
    q = tables.quota.copy()
    finite = np.isfinite(q)
    if finite.any():
        base = np.floor(q[finite])
        q[finite] = base + (rng.random(base.shape) < (q[finite] - base))
    return q


def rule_border_weights(
    tables: FrictionTables,
    rules: RuleSet | None,
    element: int,
    geography: Geography,
    response: Response,
) -> np.ndarray:
    """:func:`border_weights` under the rules, per zone slot of the acting agent.

    The deterrence a flow expects from each origin to each destination.

    Rules that select on what a table cannot know (field, category, kind, employer,
    whitelist, the other end's zone) are left out here and act at the crossing and in
    :func:`expected_weights`; with no ``policy.rules`` this is :func:`border_weights`.
    """
    if rules is None or not rules.user:
        return border_weights(tables, element, geography.corridor, response)
    slots = tables.approval.shape[0]
    n = geography.corridor.shape[0]
    s, o, d = (a.ravel() for a in np.indices((slots, n, n)))
    zone = s - 1
    end = AGENT_END[ELEMENTS[element]]
    keys = FlowKeys(
        origin_zone=zone if end == "origin" else None,
        destination_zone=zone if end == "destination" else None,
    )
    w = expected_weights(tables, rules, element, o, d, zone, keys, geography, response)
    return w.reshape(slots, n, n)


def expected_weights(
    tables: FrictionTables,
    rules: RuleSet | None,
    element: int,
    origin: np.ndarray,
    destination: np.ndarray,
    zone: np.ndarray,
    keys: FlowKeys,
    geography: Geography,
    response: Response,
) -> np.ndarray:
    """Expected deterrence of each flow under the rules (1 domestic).

    Border effect x approval x exp(-cost / cost scale) x exp(-delay / delay scale).
    """
    return _deterrence(
        tables, rules, element, origin, destination, zone, keys, response,
        geography.city_jurisdiction, geography.corridor,
    )  # fmt: skip


def external_weights(
    tables: FrictionTables,
    rules: RuleSet | None,
    element: int,
    city: np.ndarray,
    place: np.ndarray,
    inbound: bool,
    zone: np.ndarray,
    keys: FlowKeys,
    geography: Geography,
    response: Response,
) -> np.ndarray:
    """Expected deterrence of flows between cities and places (CN, ROW), 1 without a border.

    As :func:`expected_weights`, over the external tables (:func:`compile_external`);
    ``inbound`` flows go from ``place`` to ``city``, the others from ``city`` to ``place``.
    """
    origin, destination = (place, city) if inbound else (city, place)
    return _deterrence(
        tables, rules, element, origin, destination, zone, keys, response,
        geography.place_jurisdiction, geography.place_corridor,
    )  # fmt: skip


def _deterrence(tables, rules, element, origin, destination, zone, keys, response, jur, corridor):
    """Border effect x approval x cost and delay terms of each flow; 1 without a border."""
    f = resolve(tables, rules, element, origin, destination, zone, keys, jur, corridor)
    w = (
        response.border_effect
        * f.approval
        * np.exp(-f.cost / response.cost_scale)
        * np.exp(-f.delay_days / response.delay_scale_days)
    )
    border = corridor[np.asarray(origin), np.asarray(destination)] >= 0
    return np.where(border, w, 1.0)


def fresh_rule_quota(rules: RuleSet, rng: np.random.Generator) -> np.ndarray:
    """This month's quota of each rule of ``policy.rules``, stochastically rounded.

    Drawn after the tables' quotas and only for rules with a quota, so a policy without
    rule quotas draws exactly what it drew before rules existed.
    """
    q = rules.quota.copy()
    finite = np.isfinite(q)
    if finite.any():
        base = np.floor(q[finite])
        q[finite] = base + (rng.random(base.shape) < (q[finite] - base))
    return q


@dataclass(frozen=True)
class Counts:
    """Counters a crossing adds to (None: not counted).

    ``approved``: approved flows; ``crossed``: approved cross-border flows; ``refused`` and
    ``over_quota``: refused flows (all, and for lack of quota); ``delay_days``: the delay of
    approved cross-border flows [days].
    """

    approved: str | None = None
    crossed: str | None = None
    refused: str | None = None
    over_quota: str | None = None
    delay_days: str | None = None


def rules_for(world: Any, chan: str) -> tuple[FrictionTables, RuleSet, np.ndarray]:
    """Tables, compiled rules and rule quotas left for channel ``chan`` (baseline's if held)."""
    if chan in world.held:
        return world.baseline_tables, world.baseline_rules, world.baseline_rule_quota_left
    return world.tables, world.rules, world.rule_quota_left


def merge_crossings(n: int, parts: list[tuple[np.ndarray, Crossing]]) -> Crossing:
    """One :class:`Crossing` of ``n`` flows from crossings of disjoint subsets (``rows``)."""
    out = {}
    for name in Crossing.__dataclass_fields__:
        first = getattr(parts[0][1], name)
        column = np.zeros(n, dtype=first.dtype)
        for rows, part in parts:
            column[rows] = getattr(part, name)
        out[name] = column
    return Crossing(**out)


def response_for(world: Any, chan: str, element: str) -> Response:
    """The deterrence response of ``element`` for channel ``chan``: the baseline's if held.

    A channel held by ``flowsim explain`` meets the baseline's friction, and so its
    response (``deterrence.<element>``) too: a scenario that changes only the response (no
    border) leaves a held channel exactly the baseline's.
    """
    params = world.params
    if chan in world.held and world.hold is not None:
        params = world.hold.baseline
    return params.deterrence.for_element(element)


def _cross_phased(
    world: Any,
    phase: Any,
    element: int,
    origin: np.ndarray,
    destination: np.ndarray,
    zone: np.ndarray,
    rng: np.random.Generator,
    keys: FlowKeys | None,
    external: bool = False,
) -> Crossing:
    """Cross during a policy's phase-in: each flow meets the new rules with probability weight.

    Which flows meet the new rules is drawn from the ``phase_in`` stream; the rest meet the
    rules before the policy (``phase``: :class:`flowsim.regime.Phase`), each set with its
    own quotas. ``external`` flows (ends are place numbers) meet the external tables of each.
    """
    origin = np.asarray(origin, dtype=np.int64)
    destination = np.asarray(destination, dtype=np.int64)
    n = origin.size
    zone = np.broadcast_to(np.asarray(zone, dtype=np.int64), (n,))
    new = world.rngs["phase_in"].random(n) < phase.weight
    geo = world.geo
    if external:
        regimes = (
            (
                new,
                world.external_tables,
                world.rules,
                world.external_quota_left,
                world.rule_quota_left,
            ),
            (
                ~new,
                phase.external_tables,
                phase.rules,
                phase.external_quota_left,
                phase.rule_quota_left,
            ),
        )
        corridor, jurisdiction = geo.place_corridor, geo.place_jurisdiction
    else:
        regimes = (
            (new, world.tables, world.rules, world.quota_left, world.rule_quota_left),
            (~new, phase.tables, phase.rules, phase.quota_left, phase.rule_quota_left),
        )
        corridor, jurisdiction = geo.corridor, geo.city_jurisdiction
    parts = []
    for mask, tables, rules, quota_left, rule_quota_left in regimes:
        rows = np.flatnonzero(mask)
        part = cross(
            origin[rows],
            destination[rows],
            zone[rows],
            element,
            tables,
            corridor,
            quota_left,
            rng,
            rules=rules,
            keys=None if keys is None else keys.take(rows),
            rule_quota_left=rule_quota_left,
            jurisdiction=jurisdiction,
        )
        parts.append((rows, part))
    return merge_crossings(n, parts)


def external_weights_for(
    world: Any,
    chan: str,
    element: int,
    city: np.ndarray,
    place: np.ndarray,
    inbound: bool,
    zone: np.ndarray,
    keys: FlowKeys,
    response: Response,
) -> np.ndarray:
    """:func:`external_weights` under the rules in force for channel ``chan`` of ``world``.

    The baseline's external tables and rules for a channel held by ``flowsim explain``
    (:func:`rules_for`). During a policy's phase-in (``world.phase``) the expected
    deterrence is blended as the Bay Area's is (:func:`flowsim.regime.set_phase`):
    ``weight`` x under the new rules + (1 - ``weight``) x under the rules before the policy.
    Draws nothing.
    """
    held = chan in world.held
    tables = world.baseline_external_tables if held else world.external_tables
    _, rules, _ = rules_for(world, chan)
    geo = world.geo
    w = external_weights(tables, rules, element, city, place, inbound, zone, keys, geo, response)
    phase = getattr(world, "phase", None)
    if phase is None or held:
        return w
    before = external_weights(
        phase.external_tables,
        phase.rules,
        element,
        city,
        place,
        inbound,
        zone,
        keys,
        geo,
        response,
    )
    return phase.weight * w + (1.0 - phase.weight) * before


def cross_border(
    world: World,
    element: int,
    origin: np.ndarray,
    destination: np.ndarray,
    zone: np.ndarray,
    rng: np.random.Generator,
    chan: str,
    counter: str | None = None,
    volume: np.ndarray | float = 1.0,
    keys: FlowKeys | None = None,
    counts: Counts | None = None,
    record: str = "all",
    external: bool = False,
) -> Crossing:
    """The one border crossing: every element's flows pass here, through the rules in force.

    Reads the compiled rules of channel ``chan`` (:func:`rules_for`: the
    baseline's for a channel held by ``flowsim explain``), passes the flows through
    :func:`cross`, records them in the flow ledger and counts them, once.

    Args:
        world: the world.
        element: element number.
        origin: origin city of each flow.
        destination: destination city of each flow.
        zone: zone of the acting agent (-1 none).
        rng: the mechanism's Generator.
        chan: the channel of the flows (:data:`flowsim.flows.CHANNELS`).
        counter: shorthand for ``Counts(counter, counter + "_cross_border",
            counter + "_refused")``.
        volume: volume of each flow for the ledger.
        keys: what the rules may select on (field, employer, category, kind, whitelists,
            zones of the two ends).
        counts: the counters to add to (overrides ``counter``).
        record: ``"all"`` records every flow in the ledger; ``"refused"`` only the refused
            ones (capital records its approved rounds once their amount is known).
        external: the flows' ends are place numbers (:data:`~flowsim.geography.PLACES`)
            and may be CN or ROW; they meet the external tables
            (:func:`compile_external`) and every rule in force. During a policy's phase-in
            they are blended as the Bay Area's flows are: each meets the new rules with
            probability ``weight`` (a draw from the ``phase_in`` stream) and the rules
            before the policy otherwise, each with its own quotas.

    The cost of approved crossings adds to ``friction_cost``.
    """
    tables, rules, rule_quota = rules_for(world, chan)
    phase = getattr(world, "phase", None)
    held = chan in world.held
    if phase is not None and not held:
        c = _cross_phased(world, phase, element, origin, destination, zone, rng, keys, external)
    else:
        geo = world.geo
        if external:
            tables = world.baseline_external_tables if held else world.external_tables
            corridor, quota_left = geo.place_corridor, world.external_quota_left
            jurisdiction = geo.place_jurisdiction
        else:
            corridor, quota_left = geo.corridor, world.quota_left
            jurisdiction = geo.city_jurisdiction
        c = cross(
            origin,
            destination,
            zone,
            element,
            tables,
            corridor,
            quota_left,
            rng,
            rules=rules,
            keys=keys,
            rule_quota_left=rule_quota,
            jurisdiction=jurisdiction,
        )
    led = channel(chan)
    if record == "all":
        world.ledger.record(led, origin, destination, c.approved, volume, c.delay_days)
    else:
        refused = c.refused
        world.ledger.record(
            led,
            np.asarray(origin)[refused],
            np.asarray(destination)[refused],
            np.zeros(int(refused.sum()), bool),
        )
    if counts is None and counter is not None:
        counts = Counts(counter, f"{counter}_cross_border", f"{counter}_refused")
    if counts is not None:
        crossed = c.approved & (c.corridor >= 0)
        for name, value in (
            (counts.approved, c.approved.sum()),
            (counts.crossed, crossed.sum()),
            (counts.refused, c.refused.sum()),
            (counts.over_quota, c.over_quota.sum()),
        ):
            if name is not None:
                world.count(name, value)
        if counts.delay_days is not None:
            world.count(counts.delay_days, c.delay_days[crossed].sum())
    world.count("friction_cost", c.cost[c.approved].sum())
    return c


MASKS = {"field": "fields", "employer": "employers", "category": "categories", "kind": "kinds"}
"""The mask of a compiled rule for each flow key."""


@dataclass(frozen=True)
class Effective:
    """The friction one flow meets: each value and the rule that supplied it (None: default)."""

    values: dict[str, float]
    sources: dict[str, CompiledRule | None]
    corridor: str
    open_rules: tuple[tuple[CompiledRule, str], ...]


def effective_friction(
    policy: Policy,
    geography: Geography,
    element: str,
    origin: int,
    destination: int,
    *,
    origin_zone: int = UNKNOWN,
    destination_zone: int = UNKNOWN,
    zone: int = -1,
    field: int = UNKNOWN,
    employer: int = UNKNOWN,
    category: int = UNKNOWN,
    kind: int = UNKNOWN,
    lists: tuple[str, ...] = (),
) -> Effective:
    """The friction of one flow, as a crossing computes it (real-world quota), and its sources.

    ``origin`` and ``destination`` are place numbers (:data:`~flowsim.geography.PLACES`): a
    city, or CN or ROW at one end, whose flows meet the external tables
    (:func:`compile_external`: ``policy.external`` and the rules in force), as
    :func:`cross_border` with ``external=True`` crosses them. ``open_rules`` are the rules
    that would match but select on something left unknown (a field, category, kind,
    employer or zone the caller did not give), with that key.
    """
    tables = compile_policy(policy, geography, 1.0)
    rules = compile_rules(policy, geography, 1.0)
    e = ELEMENTS.index(element)
    n = len(CITIES)
    external = origin >= n or destination >= n
    if origin >= n and destination >= n:
        raise ValueError(
            f"{PLACES[origin]} -> {PLACES[destination]} has no Bay Area end (the model makes "
            "no flow between two external places)"
        )
    if external:
        tables = compile_external(policy, tables, 1.0)
        jur, corridors, names = (
            geography.place_jurisdiction,
            geography.place_corridor,
            ALL_CORRIDORS,
        )
    else:
        jur, corridors, names = geography.city_jurisdiction, geography.corridor, CORRIDORS
    c = int(corridors[origin, destination])
    if c < 0:
        raise ValueError(
            f"{PLACES[origin]} -> {PLACES[destination]} crosses no border (one jurisdiction, "
            "or the rest of the mainland and Guangdong)"
        )
    table = policy.external if external else policy.corridors
    bits = 0
    for name in lists:
        bits |= 1 << rules.whitelist_names.index(name)

    def one(value: int) -> np.ndarray:
        return np.asarray([value], dtype=np.int64)

    keys = FlowKeys(
        field=one(field),
        employer=one(employer),
        category=one(category),
        kind=one(kind),
        lists=one(bits),
        origin_zone=one(origin_zone),
        destination_zone=one(destination_zone),
    )
    o, d, z = one(origin), one(destination), one(zone)
    f = resolve(tables, rules, e, o, d, z, keys, jur, corridors)
    values = {
        "approval": float(f.approval[0]),
        "delay_days": float(f.delay_days[0]),
        "cost": float(f.cost[0]),
    }
    quota = getattr(table.for_corridor(names[c]), element).quota
    values["quota"] = np.inf if quota is None else float(quota)
    sources: dict[str, CompiledRule | None] = {}
    for q in QUANTITIES:
        k = int(f.source[q][0])
        sources[q] = None if k < 0 else rules.rules[k]
        if k >= 0 and q == "quota":
            values[q] = float(rules.rules[k].values[q])
    open_rules = []
    everything = FlowKeys(
        field=one(field if field >= 0 else 0),
        employer=one(employer if employer >= 0 else 0),
        category=one(category if category >= 0 else 0),
        kind=one(kind if kind >= 0 else 0),
        lists=one(bits),
        origin_zone=one(origin_zone),
        destination_zone=one(destination_zone),
    )
    unknown = [
        name
        for name, value in (
            ("field", field),
            ("employer", employer),
            ("category", category),
            ("kind", kind),
        )
        if value < 0
    ]
    for rule in rules.for_element(e):
        if rule.match(o, d, z, keys, jur)[0]:
            continue
        needs = [n for n in unknown if getattr(rule, MASKS[n]) is not None]
        if not needs:
            continue
        # would it match some value of what is unknown? try each value of each
        for key in needs:
            size = len(getattr(rule, MASKS[key]))
            for v in range(size):
                trial = FlowKeys(**{**everything.__dict__, key: one(v)})
                if rule.match(o, d, z, trial, jur)[0]:
                    open_rules.append((rule, key))
                    break
            else:
                continue
            break
    return Effective(values, sources, names[c], tuple(open_rules))
