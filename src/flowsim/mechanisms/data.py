"""Data: datasets a project needs from another city (research, medical, financial, transport).

Export of data from the mainland needs a security assessment; pilots and
sandboxes raise the approval probability and cut the delay. A refused dataset
stops or weakens the project (see :mod:`flowsim.mechanisms.research`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.mechanisms.inputs import Requests, request_inputs

if TYPE_CHECKING:
    from flowsim.world import World

DATA = 2


def request(
    world: World,
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
) -> Requests:
    """Data requests of a batch of new projects, recorded in the flow ledger."""
    p = world.params.research
    req = request_inputs(
        field,
        city,
        zone,
        collaborator_city,
        world.data_need,
        p.collaborator_source_prob,
        world.source_weights,
        DATA,
        world.tables,
        world.geo.corridor,
        world.quota_left,
        world.rngs["data"],
    )
    c = req.crossing
    world.ledger.record(DATA, req.source, city[req.project], c.approved, 1.0, c.delay_days)
    world.count("data_requests", req.project.size)
    world.count("data_transfers_cross_border", (c.approved & (c.corridor >= 0)).sum())
    world.count("data_refused", c.refused.sum())
    world.count("friction_cost", c.cost[c.approved].sum())
    return req
