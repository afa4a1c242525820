"""The ``flowsim`` command: a thin dispatcher over :mod:`flowsim.commands`.

Exit codes:

- 0 success;
- 1 a run failed, or its results could not be written (a full disk);
- 2 bad input: a file, an option, a folder that cannot be used (the errors are printed);
- 128 + the signal's number when stopped: 130 for Ctrl-C (SIGINT), 143 for SIGTERM,
  129 for SIGHUP. All three are handled alike: partial results are removed or kept
  for ``--resume``, and the message says which.
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
    "explain",
    "report",
    "export",
    "dashboard",
    "calibrate",
    "discover",
    "cache",
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
    """Entry point of the console script (SIGTERM and SIGHUP are handled like Ctrl-C)."""
    from flowsim.diskio import interrupt_exit_code, signals_as_interrupt

    try:
        with signals_as_interrupt():
            parser = build_parser()
            args = parser.parse_args(argv)
            args.command_line = ["flowsim", *(sys.argv[1:] if argv is None else argv)]
            if not getattr(args, "handler", None):
                parser.print_help()
                return 2
            return int(args.handler(args) or 0)
    except KeyboardInterrupt as err:  # before a command could handle it (e.g. while importing)
        print("flowsim: interrupted", file=sys.stderr)
        return interrupt_exit_code(err)


if __name__ == "__main__":
    sys.exit(main())
