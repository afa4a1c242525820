"""Data: datasets a project needs from another city (research, medical, financial, transport).

Export of data from the mainland needs a security assessment; pilots and
sandboxes raise the approval probability and cut the delay. A refused dataset
stops or weakens the project (see :mod:`flowsim.mechanisms.research`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.mechanisms.inputs import InputCounters, Requests, request_and_record

if TYPE_CHECKING:
    from flowsim.world import World

DATA = 2


COUNTERS = InputCounters(
    "data_request", "data_requests", "data_transfers_cross_border", "data_refused"
)
"""What this element reports each step."""


def request(
    world: World,
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
) -> Requests:
    """Data requests of a batch of new projects, recorded in the flow ledger."""
    return request_and_record(
        world, DATA, world.data_need, COUNTERS, field, city, zone, collaborator_city
    )
