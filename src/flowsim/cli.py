"""The ``flowsim`` command: a thin dispatcher over :mod:`flowsim.commands`.

Exit codes: 0 success, 1 a run failed, 2 bad input (the errors are printed).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from flowsim import __version__

COMMANDS: tuple[str, ...] = (
    "validate",
    "run",
    "describe",
    "sweep",
    "sensitivity",
    "plot",
    "compare",
    "discover",
)
"""Modules of :mod:`flowsim.commands`, in the order ``flowsim --help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="flowsim",
        description="Agent-based simulator of cross-border innovation flows in the Greater Bay "
        "Area.",
    )
    parser.add_argument("--version", action="version", version=f"flowsim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"flowsim.commands.{name}")
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(handler=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.command_line = ["flowsim", *(sys.argv[1:] if argv is None else argv)]  # for manifests
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
