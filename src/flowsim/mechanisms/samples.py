"""Samples: research samples, reagents and genetic resources through customs.

White-list pilots cut clearance from about 20 days to 3 working days (Our Hong
Kong Foundation, 2020). A project waits for its samples; where the best samples lie across
the border it asks for them or substitutes (see :mod:`flowsim.mechanisms.inputs`).
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
    "projects": (
        Column("samples_ready", np.int16, -1, "step the samples clear customs, -1 not needed"),
    ),
}
"""Columns this mechanism owns, by table (assembled by :mod:`flowsim.assembly`)."""

MEMORY = (
    Memory(
        "samples_need",
        "share of each field's projects that need samples (research.samples_need)",
    ),
)
"""What this mechanism keeps on the world, set by :func:`init`."""

OUTPUTS = (
    "samples_requests",
    "samples_shipments_cross_border",
    "samples_refused",
    "samples_substituted",
    "samples_delay_days",
    "samples_shipments_external",
)
"""The counters of :data:`flowsim.outputs.COUNTERS` this mechanism counts."""

STREAM = "samples_kind"
"""The stream each request's kind is drawn from (common random numbers)."""

SAMPLES = 3


COUNTERS = InputCounters(
    "sample_shipment",
    "samples_requests",
    "samples_shipments_cross_border",
    "samples_refused",
    "samples_substituted",
    "samples_delay_days",
    external="samples_shipments_external",
)
"""What this element reports each step."""


def init(world: World) -> None:
    """Each field's need for samples, from the research section."""
    world.samples_need = np.asarray(world.params.research.samples_need.as_array())


def request(
    world: World,
    field: np.ndarray,
    city: np.ndarray,
    zone: np.ndarray,
    collaborator_city: np.ndarray,
    employer: np.ndarray | None = None,
    employer_row: np.ndarray | None = None,
) -> Requests:
    """Sample shipments of a batch of new projects, recorded in the flow ledger."""
    # what each request is (a data category, a sample kind) comes from a stream of its own
    category = draw_kinds("samples", field, world.rngs[STREAM])
    return request_and_record(
        world,
        SAMPLES,
        world.samples_need,
        COUNTERS,
        field,
        city,
        zone,
        collaborator_city,
        employer,
        employer_row,
        category,
    )
