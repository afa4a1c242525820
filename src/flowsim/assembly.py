"""The house: the mechanisms in step order, the state each owns, and the world they act on.

Every mechanism module declares what it owns: ``STATE``, the columns it owns on
each table (:class:`flowsim.state.Column`), and ``PARAMS``, the scenario section
it owns (its pydantic class lives in :mod:`flowsim.params`, which composes the
:class:`~flowsim.params.Scenario`). This module puts the declarations together:
:data:`COLUMNS`, each table's columns (the core columns of :mod:`flowsim.state`,
then each mechanism's in :data:`MECHANISMS` order), and :data:`OWNERS`, who owns
each column. A column declared twice is an error here, at import.

Layers, from the bottom: the container (:mod:`flowsim.world`) and the shared tools
(:mod:`flowsim.gravity`, :mod:`flowsim.pools`, :mod:`flowsim.policy`,
:mod:`flowsim.knowledge`, :mod:`flowsim.employment`, :mod:`flowsim.firms`,
:mod:`flowsim.tally`, :mod:`flowsim.setup`, ...) import no mechanism; the
mechanisms import tools (and the world for type hints only); this module and
:mod:`flowsim.model` sit above the mechanisms.
"""

from __future__ import annotations

from types import ModuleType

from flowsim import setup
from flowsim.channels import Hold
from flowsim.mechanisms import (
    capital,
    commercialization,
    data,
    relocation,
    research,
    samples,
    talent,
    transfer,
)
from flowsim.params import Scenario
from flowsim.state import CORE, CORE_OWNER, StateError, assemble
from flowsim.world import World

MECHANISMS: tuple[ModuleType, ...] = (
    talent,
    research,
    data,
    samples,
    transfer,
    capital,
    commercialization,
    relocation,
)
"""Every mechanism module, in step order (data and samples are research's inputs)."""

COLUMNS, OWNERS = assemble(CORE, [(m.__name__, m.STATE) for m in MECHANISMS])
"""Columns of each table by table name; owner (module name) of each column by table."""

PARAMS: dict[str, str] = {m.PARAMS: m.__name__ for m in MECHANISMS if m.PARAMS is not None}
"""Scenario section -> the mechanism module that owns it."""

if len(PARAMS) != sum(m.PARAMS is not None for m in MECHANISMS):
    raise StateError("two mechanism modules claim the same scenario section")

__all__ = ["COLUMNS", "CORE_OWNER", "MECHANISMS", "OWNERS", "PARAMS", "build_world"]


def build_world(params: Scenario, seed: int, hold: Hold | None = None) -> World:
    """A world with the initial agents, its tables of the :data:`COLUMNS` declared here.

    See :func:`flowsim.setup.build_world`.
    """
    return setup.build_world(params, seed, COLUMNS, hold=hold)
