"""One module per mechanism; each has a pure core and a ``step(world, t)`` that wires it in.

Each module declares what it owns: ``STATE``, its columns on each table
(:class:`flowsim.state.Column`); ``PARAMS``, its scenario section; and ``Params``,
the pydantic class of that section, defined in the module itself from the building
blocks of :mod:`flowsim.paramtypes` (``None`` for both where a module reads another's
section). :mod:`flowsim.params` composes the classes into the
:class:`~flowsim.params.Scenario`; :mod:`flowsim.assembly` puts the declarations
together and checks them. A mechanism never imports :mod:`flowsim.params`, which sits
above the mechanisms. The order in which :class:`flowsim.model.FlowModel` calls them
is documented there.
"""
