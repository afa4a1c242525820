"""One module per mechanism; each has a pure core and a ``step(world, t)`` that wires it in.

Each module declares what it owns: ``STATE``, its columns on each table
(:class:`flowsim.state.Column`); ``MEMORY``, the tables and month-to-month memory it
keeps on the world (:class:`flowsim.state.Memory`), which its ``init(world)`` sets
once the initial agents are drawn; ``OUTPUTS``, the counters it counts; ``PARAMS``,
its scenario section; and ``Params``, the pydantic class of that section, defined in
the module itself from the building blocks of :mod:`flowsim.paramtypes` (``None`` for
both where a module reads another's section). No mechanism knows the warm-up's
length: :class:`flowsim.model.FlowModel` passes a ``warmup`` flag to those that act
differently in it and calls their ``settle`` hooks. :mod:`flowsim.params` composes
the classes into the :class:`~flowsim.params.Scenario`; :mod:`flowsim.assembly` puts
the declarations together and checks them. A mechanism never imports
:mod:`flowsim.params`, which sits above the mechanisms. The order in which
:class:`flowsim.model.FlowModel` calls them is documented there.
"""
