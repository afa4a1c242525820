"""Channels of a policy's effect, and holding one at its baseline behaviour (a shared tool).

``flowsim explain`` splits a policy's effect by re-running the policy with sets of
channels held at the baseline's behaviour (Shapley values, :mod:`flowsim.explain`).
A :class:`Hold` names the baseline scenario and the channels held; the world then
uses, for the flows of a
held channel, the baseline's friction tables, its border deterrence (and, for
collaboration, its grant portability; for capital, its guidance leverage), and,
for ``knowledge``, the baseline run's research productivity month by month; for
``relocation``, the baseline's access gain of moving into a cooperation zone.
This module imports no mechanism.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from flowsim.params import Scenario  # above the mechanisms: type hints only

METHODS: tuple[str, ...] = ("exact", "sampled")
"""How ``flowsim explain`` averages over orders of the channels: every subset, or sampled orders."""

DEFAULT_PERMUTATIONS = 6
"""Orders per replicate of ``method="sampled"`` (half of them reversed copies of the others)."""

CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "collaboration": ("collaboration", "grant"),
    "data": ("data_request",),
    "samples": ("sample_shipment",),
    "capital": ("vc_round", "guidance_coinvestment", "licence_fee"),
    "mobility": ("job_move", "visit"),
    "knowledge": (),
    "relocation": (),
}
"""Channels of ``flowsim explain`` -> the flow channels (:data:`flowsim.flows.CHANNELS`) each
holds at baseline; ``knowledge`` holds the research productivity path instead, and
``relocation`` the moves of labs and firms into cooperation zones (their access gain is
computed from the baseline's border weights, :mod:`flowsim.mechanisms.relocation`).
Data and samples are separate channels: each is its own flow channel with its own element
(``data``, ``samples``) and friction tables."""

MEDIATORS: tuple[str, ...] = ("knowledge",)
"""Groups ``flowsim explain`` never holds: knowledge spillovers are fed by the other channels
(collaboration, data, samples, mobility...), so holding them apart would count an effect twice."""

PLAYERS: tuple[str, ...] = tuple(g for g in CHANNEL_GROUPS if g not in MEDIATORS)
"""The channels ``flowsim explain`` attributes a policy's effect to (its Shapley players)."""


@dataclass
class Hold:
    """What a run holds at the baseline's behaviour."""

    baseline: Scenario
    groups: frozenset[str]
    knowledge_path: list[np.ndarray] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = set(self.groups) - set(CHANNEL_GROUPS)
        if unknown:
            raise ValueError(
                f"unknown channel(s) {sorted(unknown)}; channels are {', '.join(CHANNEL_GROUPS)}"
            )
        if "knowledge" in self.groups and not self.knowledge_path:
            raise ValueError("holding knowledge needs the baseline run's productivity path")

    @property
    def flow_channels(self) -> frozenset[str]:
        """Flow channels held at baseline."""
        return frozenset(c for g in self.groups for c in CHANNEL_GROUPS[g])
