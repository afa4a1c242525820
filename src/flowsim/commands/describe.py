"""``flowsim describe FILE``: the resolved scenario with every default shown."""

from __future__ import annotations

import argparse
import sys

NAME = "describe"
HELP = "print the fully resolved scenario (after extends and defaults), each value with its meaning"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim describe``."""
    parser.add_argument("file", metavar="FILE", help="scenario YAML file")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="YAML only, without the comments (as written to scenario.resolved.yaml)",
    )


def main(args: argparse.Namespace) -> int:
    """Print the resolved scenario; exit 2 with the problems if the file is invalid."""
    from flowsim.scenario import describe_scenario, dump_scenario, load_scenario
    from flowsim.yamlio import ConfigError

    try:
        scenario = load_scenario(args.file)
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return 2
    sys.stdout.write(dump_scenario(scenario) if args.plain else describe_scenario(scenario))
    return 0
