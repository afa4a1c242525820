"""Data: datasets a project needs from another city (research, medical, financial, transport).

Export of data from the mainland needs a security assessment; pilots and
sandboxes raise the approval probability and cut the delay. Where the best data
lies across a border, a project asks for it or substitutes a
worse domestic source (see :mod:`flowsim.mechanisms.inputs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.mechanisms.inputs import InputCounters, Requests, request_and_record
from flowsim.state import Column, Memory
from flowsim.whitelists import draw_kinds

if TYPE_CHECKING:
    from flowsim.world import World

PARAMS = None
"""No scenario section of its own: it reads ``research.*``
(owned by :mod:`flowsim.mechanisms.research`)."""

Params = None
"""No parameter class of its own (:class:`flowsim.mechanisms.research.ResearchParams`)."""

STATE = {
    "projects": (Column("data_ready", np.int16, -1, "step the data arrives, -1 not needed"),),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = (
    Memory("data_need", "share of each field's projects that need data (research.data_need)"),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "data_requests",
    "data_transfers_cross_border",
    "data_refused",
    "data_substituted",
    "data_transfers_external",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts."""

STREAM = "data_category"
"""The stream each request's category is drawn from (common random numbers)."""

DATA = 2


COUNTERS = InputCounters(
    "data_request",
    "data_requests",
    "data_transfers_cross_border",
    "data_refused",
    "data_substituted",
    external="data_transfers_external",
)
"""What this element reports each step."""


def init(world: World) -> None:
    """Each field's need for data, from the research section."""
    world.data_need = np.asarray(world.params.research.data_need.as_array())


def request(
    world: World,
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
    employer: np.ndarray | None = None,
    employer_row: np.ndarray | None = None,
) -> Requests:
    """Data requests of a batch of new projects, recorded in the flow ledger."""
    # what each request is (a data category, a sample kind) comes from a stream of its own
    category = draw_kinds("data", field, world.rngs[STREAM])
    return request_and_record(
        world,
        DATA,
        world.data_need,
        COUNTERS,
        field,
        city,
        zone,
        collaborator_city,
        employer,
        employer_row,
        category,
    )
