"""One module per mechanism; each has a pure core and a ``step(world, t)`` that wires it in.

Each module declares what it owns: ``STATE``, its columns on each table
(:class:`flowsim.state.Column`), and ``PARAMS``, its scenario section
(:mod:`flowsim.assembly` puts the declarations together). The order in which
:class:`flowsim.model.FlowModel` calls them is documented there.
"""
