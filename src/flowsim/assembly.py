"""The house: the mechanisms in step order, the state each owns, and the world they act on.

Every mechanism module declares what it owns: ``STATE``, the columns it owns on
each table (:class:`flowsim.state.Column`); ``MEMORY``, the tables and
month-to-month memory it keeps on the world (:class:`flowsim.state.Memory`), set
by its ``init(world)``; ``OUTPUTS``, the counters of
:data:`flowsim.outputs.COUNTERS` it counts; ``PARAMS``, the scenario section it
owns; and ``Params``, the pydantic class of that section, defined in the mechanism
module itself (e.g. :class:`flowsim.mechanisms.talent.TalentParams`) from the
building blocks of :mod:`flowsim.paramtypes`. :mod:`flowsim.params` imports those
classes and composes the :class:`~flowsim.params.Scenario`. This module puts the
declarations together: :data:`COLUMNS`, each table's columns (the core columns of
:mod:`flowsim.state`, then each mechanism's in :data:`MECHANISMS` order),
:data:`OWNERS`, who owns each column, :data:`MEMORY_OWNERS`, who owns each memory,
:data:`OUTPUT_OWNERS`, who counts each counter, and :data:`PARAMS`, who owns each
scenario section. A column or memory declared twice, a counter declared by none
or by two, a section claimed twice, or a section whose class in the
:class:`~flowsim.params.Scenario` is not the class its mechanism declares is an
error here, at import. The step order itself is written once, in
:mod:`flowsim.model`.

Layers, from the bottom: the container (:mod:`flowsim.world`) and the shared tools
(:mod:`flowsim.gravity`, :mod:`flowsim.pools`, :mod:`flowsim.policy`,
:mod:`flowsim.knowledge`, :mod:`flowsim.employment`, :mod:`flowsim.firms`,
:mod:`flowsim.tally`, :mod:`flowsim.setup`, :mod:`flowsim.paramtypes`, ...) import
no mechanism, and :mod:`flowsim.params` for type hints only; the mechanisms import
tools (and the world for type hints only); :mod:`flowsim.params`, this module and
:mod:`flowsim.model` sit above the mechanisms.
"""

from __future__ import annotations

from types import ModuleType

from flowsim import firms, setup
from flowsim.channels import Hold
from flowsim.mechanisms import (
    capital,
    commercialization,
    data,
    growth,
    knowledge,
    relocation,
    research,
    samples,
    talent,
    transfer,
)
from flowsim.outputs import COUNTERS, CROSSING_COUNTERS
from flowsim.params import Scenario
from flowsim.state import CORE, CORE_OWNER, StateError, assemble, assemble_memory
from flowsim.world import World

MECHANISMS: tuple[ModuleType, ...] = (
    growth,
    talent,
    research,
    data,
    samples,
    transfer,
    capital,
    commercialization,
    relocation,
    knowledge,
)
"""Every mechanism module, in step order (growth first, in reported months only; data and
samples are research's inputs)."""

COLUMNS, OWNERS = assemble(CORE, [(m.__name__, m.STATE) for m in MECHANISMS])
"""Columns of each table by table name; owner (module name) of each column by table."""

PARAMS: dict[str, str] = {m.PARAMS: m.__name__ for m in MECHANISMS if m.PARAMS is not None}
"""Scenario section -> the mechanism module that owns it (and declares its class)."""

if len(PARAMS) != sum(m.PARAMS is not None for m in MECHANISMS):
    raise StateError("two mechanism modules claim the same scenario section")
for _module in MECHANISMS:
    if (_module.PARAMS is None) != (_module.Params is None):
        raise StateError(f"{_module.__name__} declares PARAMS and Params apart: both or neither")
    if _module.PARAMS is None:
        continue
    _field = Scenario.model_fields.get(_module.PARAMS)
    if _field is None or _field.annotation is not _module.Params:
        raise StateError(
            f"{_module.__name__} declares the scenario section {_module.PARAMS!r} of class "
            f"{_module.Params.__name__}, but the Scenario's {_module.PARAMS!r} is "
            f"{None if _field is None else _field.annotation}"
        )
del _module

MEMORY_OWNERS: dict[str, str] = assemble_memory([(m.__name__, m.MEMORY) for m in MECHANISMS])
"""Memory kept on the world -> the mechanism module that declares and initialises it."""

CROSSING_OWNER = "flowsim.policy"
"""Owner of :data:`flowsim.outputs.CROSSING_COUNTERS`: the border crossing."""


def _output_owners() -> dict[str, str]:
    owner: dict[str, str] = {}
    declared = [(m.__name__, m.OUTPUTS) for m in MECHANISMS]
    declared += [(firms.__name__, firms.OUTPUTS), (CROSSING_OWNER, CROSSING_COUNTERS)]
    for name, outputs in declared:
        for output in outputs:
            if output not in COUNTERS:
                raise StateError(f"{name} declares the output {output!r}, which is no counter")
            if output in owner:
                raise StateError(f"the output {output!r} is declared by {owner[output]} and {name}")
            owner[output] = name
    missing = [c for c in COUNTERS if c not in owner]
    if missing:
        raise StateError(f"no module declares the counters {missing}")
    return owner


OUTPUT_OWNERS: dict[str, str] = _output_owners()
"""Counter -> the module that counts it: a mechanism, or a shared tool that counts for any
mechanism that calls it (:mod:`flowsim.firms`, the border crossing)."""

SHARED_OUTPUTS: frozenset[str] = frozenset(
    c for c, owner in OUTPUT_OWNERS.items() if owner in (firms.__name__, CROSSING_OWNER)
)
"""Counters a shared tool counts on behalf of whichever mechanism calls it."""

__all__ = [
    "COLUMNS",
    "CORE_OWNER",
    "MECHANISMS",
    "MEMORY_OWNERS",
    "OUTPUT_OWNERS",
    "OWNERS",
    "PARAMS",
    "SHARED_OUTPUTS",
    "build_world",
]


def build_world(params: Scenario, seed: int, hold: Hold | None = None) -> World:
    """A world with the initial agents, its tables of the :data:`COLUMNS` declared here.

    Then each mechanism's ``init`` sets the memory it declares, in :data:`MECHANISMS`
    order. See :func:`flowsim.setup.build_world`.
    """
    memories = [(m.__name__, m.MEMORY, m.init) for m in MECHANISMS]
    return setup.build_world(params, seed, COLUMNS, memories, hold=hold)
