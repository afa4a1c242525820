"""Sub-commands of the ``flowsim`` command, one module each.

Each module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``main(args) -> int``.
They parse nothing themselves beyond their arguments and call library functions
that a notebook can call too.
"""
