"""Shared core of the two inputs a project may need: data and samples.

A project in field f needs the input with probability ``need[f]``. Each
jurisdiction holds the input at its own quality ``q[j, f]`` (the best source
there, ``data/input_quality.csv``), so what a project needs may lie across a
border: mainland clinical cohorts for a Hong Kong biomedical project, imported
reagents and cell lines in Hong Kong for a Shenzhen one. The project compares the
best domestic source with the best one across a border, whose value is its
quality times the deterrence the project expects (approval x cost x delay, the
element's own response, :func:`flowsim.policy.border_weights`); a partner across
the border offers its own city as a source (``collaborator_source_prob``). If
the input is better across the border, it asks across with the logit probability
``1 / (1 + (q_dom / v_across) ** theta)``, else substitutes the domestic source.
A refused request costs
``research.refusal_delay_months`` and falls back to the domestic source. The
project's output is multiplied by ``(q_used / q_best) ** substitution_elasticity``.
A white list or a sandbox thus changes where inputs come from *and* how good the
work is.

The rest of the mainland (CN) and the rest of the world (ROW) are sources too
(docs/open_region.md): their quality relative to the Bay Area's best
(``data/external_inputs.csv``, may exceed 1) competes with the foreign sources in the
region, weighted by the external border's expected deterrence; a project that uses one
gets ``(q / q_best) ** substitution_elasticity`` with ``q_best`` the Bay Area's best.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from flowsim.policy import (
    Counts,
    Crossing,
    FlowKeys,
    cross_border,
    expected_weights,
    external_weights_for,
    merge_crossings,
    rules_for,
)
from flowsim.pools import choose_rows
from flowsim.whitelists import agent_lists

if TYPE_CHECKING:
    from flowsim.world import World

N_JURISDICTIONS = 3


@dataclass(frozen=True)
class ExternalSources:
    """The external places as sources of an input (docs/open_region.md).

    Attributes:
        quality: quality of each external place's best source per field, relative to the
            Bay Area's best, shape (externals, fields).
        places: place number of each external place (:data:`flowsim.geography.PLACES`).
        expected: ``expected(place, destination, zone, keys)``, the deterrence a request from
            an external place expects under the rules in force.
        crossing: ``crossing(place, destination, zone, keys)`` passes requests from external
            places through their border (:func:`flowsim.policy.cross_border`, external).
    """

    quality: np.ndarray
    places: np.ndarray
    expected: Callable[[np.ndarray, np.ndarray, np.ndarray, FlowKeys], np.ndarray]
    crossing: Callable[[np.ndarray, np.ndarray, np.ndarray, FlowKeys], Crossing]


@dataclass
class Requests:
    """Requests of a batch of projects: who asked, from where, the outcome and its quality."""

    project: np.ndarray
    source: np.ndarray
    crossing: Crossing
    asked_across: np.ndarray
    substituted: np.ndarray
    quality: np.ndarray
    extra_delay_steps: np.ndarray


def request_inputs(
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
    need: np.ndarray,
    quality: np.ndarray,
    jurisdiction: np.ndarray,
    source_weights: np.ndarray,
    deterrence: np.ndarray,
    collaborator_source_prob: float,
    sensitivity: float,
    elasticity: float,
    refusal_delay_steps: int,
    crossing: Callable[[np.ndarray, np.ndarray, np.ndarray, FlowKeys], Crossing],
    rng: np.random.Generator,
    keys: FlowKeys | None = None,
    expected: Callable[[np.ndarray, np.ndarray, np.ndarray, FlowKeys], np.ndarray] | None = None,
    external: ExternalSources | None = None,
) -> Requests:
    """Which projects need the input, where they get it, and at what quality (pure core).

    Args:
        field: each new project's field.
        city: each new project's PI city.
        zone: each new project's PI zone (-1 none).
        collaborator_city: city of each project's collaborator, -1 none.
        need: probability of needing the input, by field.
        quality: quality of the best source in each jurisdiction, shape (3, fields).
        jurisdiction: jurisdiction of each city.
        source_weights: pull of source cities, shape (jurisdiction, origin, source), zero
            outside the jurisdiction.
        deterrence: expected border weight of the element, shape (zone slots, origin, dest).
        collaborator_source_prob: probability a partner across the border offers its city.
        sensitivity: logit sensitivity of the choice to ask across.
        elasticity: output elasticity to input quality.
        refusal_delay_steps: months a refusal costs.
        crossing: ``crossing(source, destination, zone, keys)`` passes the requests through
            border control (:func:`flowsim.policy.cross_border`) with the element's stream.
        rng: the element's Generator.
        keys: what border rules may select on, one entry per project of the batch.
        expected: ``expected(source, destination, zone, keys)``, the deterrence each request
            expects under the rules (None: the ``deterrence`` table).
        external: the external places as further candidate sources (None: the Bay Area's
            only, as before the open region).
    """
    n = field.size
    needs = rng.random(n) < need[field]
    proj = np.flatnonzero(needs)
    m = proj.size
    pc, pf = city[proj].astype(np.int64), field[proj].astype(np.int64)
    pz = np.asarray(zone, dtype=np.int64)[proj]
    jp = jurisdiction[pc].astype(np.int64)
    ncity = jurisdiction.size
    q = quality[:, pf].T  # (m, 3)
    rows = np.arange(m)
    q_best = q.max(axis=1)
    q_dom = q[rows, jp]
    flat = source_weights.reshape(N_JURISDICTIONS * ncity, ncity)
    home = choose_rows(flat, jp * ncity + pc, rng)
    # the best foreign source: one candidate city in each other jurisdiction
    others = np.stack([(jp + 1) % 3, (jp + 2) % 3], axis=1)
    cand = np.stack([choose_rows(flat, others[:, k] * ncity + pc, rng) for k in range(2)], axis=1)
    cc = np.asarray(collaborator_city, dtype=np.int64)[proj]
    offer = (cc >= 0) & (rng.random(m) < collaborator_source_prob)
    for k in range(2):
        use = offer & (jurisdiction[np.maximum(cc, 0)] == others[:, k])
        cand[use, k] = cc[use]
    slot = pz + 1
    pk = (keys or FlowKeys()).take(proj)
    n_ext = 0 if external is None else external.places.size
    value = np.zeros((m, 2 + n_ext))
    qual_of = np.zeros((m, 2 + n_ext))
    for k in range(2):
        ok = cand[:, k] >= 0
        if expected is None:
            weight = deterrence[slot[ok], pc[ok], cand[ok, k]]
        else:  # the rules in force: by field, category or kind, employer, list, direction
            weight = expected(cand[ok, k], pc[ok], pz[ok], pk.take(np.flatnonzero(ok)))
        qual_of[:, k] = q[rows, others[:, k]]
        value[ok, k] = qual_of[ok, k] * weight
    if external is not None:  # CN and ROW: always there, behind their own border
        for x in range(n_ext):  # a loop over the two places, not over agents
            qual_of[:, 2 + x] = external.quality[x, pf]
            place = np.full(m, external.places[x], dtype=np.int64)
            value[:, 2 + x] = qual_of[:, 2 + x] * external.expected(place, pc, pz, pk)
            # only a better source is a candidate: CN without a border must not hide the
            # region's foreign sources behind a domestic-quality offer
            value[qual_of[:, 2 + x] <= q_dom, 2 + x] = 0.0
        cand = np.concatenate([cand, np.broadcast_to(external.places, (m, n_ext))], axis=1)
    best = value.argmax(axis=1)
    v_across = value[rows, best]
    foreign = cand[rows, best]
    q_across = qual_of[rows, best]
    ratio = q_dom / np.maximum(v_across, 1e-12)
    # only a better input is worth asking across a border for
    p_across = np.where((v_across > 0) & (q_across > q_dom), 1.0 / (1.0 + ratio**sensitivity), 0.0)
    across = (rng.random(m) < p_across) & (foreign >= 0)
    source = np.where(across, foreign, np.where(home >= 0, home, pc))
    # the input travels from its source to the project
    if n_ext:
        outside = across & (best >= 2)
        inside, ext = np.flatnonzero(~outside), np.flatnonzero(outside)
        c = merge_crossings(
            m,
            [
                (inside, crossing(source[inside], pc[inside], pz[inside], pk.take(inside))),
                (ext, external.crossing(source[ext], pc[ext], pz[ext], pk.take(ext))),
            ],
        )
    else:
        c = crossing(source, pc, pz, pk)
    used = np.where(across & c.approved, q_across, q_dom)
    qual = (used / q_best) ** elasticity
    # substituted: a better source across one of the region's borders was not asked (a
    # better source in CN or ROW that was not asked is not counted: the counter keeps its
    # meaning, and its response to the region's input-quality table)
    substituted = ~across & (qual_of[:, :2].max(axis=1) > q_dom)
    extra = np.where(c.refused, refusal_delay_steps, 0).astype(np.int64)
    return Requests(proj, source, c, across, substituted, qual, extra)


@dataclass(frozen=True)
class InputCounters:
    """Names of the counters an input element reports (see :mod:`flowsim.outputs`)."""

    channel: str
    requests: str
    crossed: str
    refused: str
    substituted: str
    delay_days: str | None = None
    external: str | None = None
    """approved requests from CN or ROW (docs/open_region.md); the ``crossed`` counter and
    ``delay_days`` keep to the Bay Area's borders."""


def scaled_quality(quality: np.ndarray, factors: list[float]) -> np.ndarray:
    """The input-quality table with each jurisdiction's row multiplied by its factor.

    Each field's column is then divided by its largest value, so the best source stays
    at 1 and a factor moves only a jurisdiction's advantage. All factors 1 returns the
    table itself (bit for bit).

    Args:
        quality: shape (3, fields), in (0, 1].
        factors: one positive multiplier per jurisdiction (GD, HK, MO).
    """
    if all(f == 1.0 for f in factors):
        return quality
    scaled = quality * np.asarray(factors, dtype=float)[:, None]
    return scaled / scaled.max(axis=0, keepdims=True)


def request_and_record(
    world: World,
    element: int,
    need: np.ndarray,
    counters: InputCounters,
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
    employer: np.ndarray | None = None,
    employer_row: np.ndarray | None = None,
    category: np.ndarray | None = None,
) -> Requests:
    """Requests of a batch of new projects for one input, recorded in the ledger and counters.

    The input's own random stream is the one named after its element; the requests pass
    the border through :func:`flowsim.policy.cross_border`. ``employer`` (0 lab, 1 firm) and
    ``employer_row`` say who the projects' PIs work for (their whitelists); ``category`` is
    each project's data category or sample kind (:mod:`flowsim.mechanisms.data`).
    """
    from flowsim.geography import ELEMENTS, INPUT_ELEMENTS

    name = ELEMENTS[element]
    rp = world.params.research
    lists = None if employer is None else agent_lists(world, employer, employer_row)
    keys = FlowKeys(
        field=field,
        employer=employer,
        lists=lists,
        category=category if name == "data" else None,
        kind=category if name == "samples" else None,
        destination_zone=zone,
    )
    rng = world.rngs[name]

    def crossing(source, destination, pz, pk):
        return cross_border(
            world,
            element,
            source,
            destination,
            pz,
            rng,
            counters.channel,
            keys=pk,
            counts=Counts(crossed=counters.crossed, delay_days=counters.delay_days),
        )

    tables, rules, _ = rules_for(world, counters.channel)
    expected = None
    if rules.user:
        response = world.params.deterrence.for_element(name)
        if counters.channel in world.held and world.hold is not None:
            response = world.hold.baseline.deterrence.for_element(name)

        def expected(source, destination, pz, pk):
            return expected_weights(
                tables, rules, element, source, destination, pz, pk, world.geo, response
            )

    external = None
    if world.params.open_region.enabled:
        external = _external_sources(world, element, counters, rng)
    req = request_inputs(
        field,
        city,
        zone,
        collaborator_city,
        need,
        scaled_quality(
            world.geo.input_quality[INPUT_ELEMENTS.index(name)],
            getattr(rp, f"{name}_quality_factor").as_array(),
        ),
        world.geo.city_jurisdiction,
        world.source_weights,
        world.border_for(counters.channel, name),
        rp.collaborator_source_prob,
        rp.input_choice_sensitivity,
        rp.substitution_elasticity,
        int(round(rp.refusal_delay_months)),
        crossing,
        rng,
        keys=keys,
        expected=expected,
        external=external,
    )
    c = req.crossing
    asked = req.project
    world.count_by(counters.requests, city[asked], field[asked])
    refused = asked[c.refused]
    world.count_by(counters.refused, city[refused], field[refused])
    substituted = asked[req.substituted]
    world.count_by(counters.substituted, city[substituted], field[substituted])
    return req


def _external_sources(
    world: World, element: int, counters: InputCounters, rng: np.random.Generator
) -> ExternalSources:
    """CN and ROW as sources of an input, behind their borders under the rules in force."""
    from flowsim.geography import CITIES, ELEMENTS, EXTERNALS, INPUT_ELEMENTS
    from flowsim.openregion import load_input_quality

    name = ELEMENTS[element]
    chan = counters.channel
    response = world.params.deterrence.for_element(name)
    if chan in world.held and world.hold is not None:
        response = world.hold.baseline.deterrence.for_element(name)

    def expected(place, destination, pz, pk):
        # blended during a policy's phase-in, as the Bay Area's borders are
        return external_weights_for(
            world, chan, element, destination, place, True, pz, pk, response
        )

    def crossing(place, destination, pz, pk):
        return cross_border(
            world,
            element,
            place,
            destination,
            pz,
            rng,
            chan,
            keys=pk,
            counts=Counts(approved=counters.external),
            external=True,
        )

    return ExternalSources(
        quality=load_input_quality()[INPUT_ELEMENTS.index(name)],
        places=np.arange(len(EXTERNALS)) + len(CITIES),
        expected=expected,
        crossing=crossing,
    )
