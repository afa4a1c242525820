"""Samples: research samples, reagents and genetic resources through customs.

White-list pilots cut clearance from about 20 days to 3 working days (Our Hong
Kong Foundation, 2020). A project waits for its samples; refused samples stop or
weaken it (see :mod:`flowsim.mechanisms.research`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.mechanisms.inputs import Requests, request_inputs

if TYPE_CHECKING:
    from flowsim.world import World

SAMPLES = 3


def request(
    world: World,
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
) -> Requests:
    """Sample shipments of a batch of new projects, recorded in the flow ledger."""
    p = world.params.research
    req = request_inputs(
        field,
        city,
        zone,
        collaborator_city,
        world.samples_need,
        p.collaborator_source_prob,
        world.source_weights,
        SAMPLES,
        world.tables,
        world.geo.corridor,
        world.quota_left,
        world.rngs["samples"],
    )
    c = req.crossing
    world.ledger.record(SAMPLES, req.source, city[req.project], c.approved, 1.0, c.delay_days)
    world.count("samples_requests", req.project.size)
    world.count("samples_shipments_cross_border", (c.approved & (c.corridor >= 0)).sum())
    world.count("samples_refused", c.refused.sum())
    world.count("samples_delay_days", c.delay_days[c.approved & (c.corridor >= 0)].sum())
    world.count("friction_cost", c.cost[c.approved].sum())
    return req
