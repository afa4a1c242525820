"""One module per mechanism; each has a pure core and a ``step(world, t)`` that wires it in.

The order in which :class:`flowsim.model.FlowModel` calls them is documented there.
"""
