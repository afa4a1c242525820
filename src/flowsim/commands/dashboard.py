"""``flowsim dashboard [SCENARIO] [--port N] [--host 127.0.0.1]``: the page in a browser."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError

NAME = "dashboard"
HELP = "open the policy dashboard in the browser: levers, runs against the baseline, figures"


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 0-65535 (0 = any free)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim dashboard``."""
    parser.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="scenario YAML file to open first (default: the shipped scenarios/ or the defaults)",
    )
    parser.add_argument("--port", type=_port, default=8765, help="port (default 8765)")
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1: this machine only)",
    )
    parser.add_argument(
        "--results",
        metavar="DIR",
        help="folder searched for results folders to open (default: ./results)",
    )


def main(args: argparse.Namespace) -> int:
    """Check the scenario, warn about a non-loopback address, run the server."""
    from flowsim.dashboard.server import is_loopback, serve

    if (
        importlib.util.find_spec("solara") is None
        or importlib.util.find_spec("mesa.visualization") is None
    ):
        print(
            "flowsim dashboard needs Solara: install the dashboard extra, "
            "pip install 'flowsim[dashboard]' (from a clone: pip install -e '.[dashboard]')",
            file=sys.stderr,
        )
        return 2
    if args.scenario:
        try:
            load_scenario(args.scenario)
        except ConfigError as err:
            print(err.report(), file=sys.stderr)
            return 2
        if not Path(args.scenario).is_file():  # pragma: no cover - load_scenario says so
            return 2
    if not is_loopback(args.host):
        print(
            f"warning: the dashboard listens on {args.host}, so other machines that can reach "
            "this one can open it and run scenarios; it has no login. Use --host 127.0.0.1 "
            "(the default) to keep it to this machine.",
            file=sys.stderr,
        )
    print(f"flowsim dashboard: http://{args.host}:{args.port}/ (Ctrl-C to stop)", flush=True)
    return serve(args.scenario, host=args.host, port=args.port, results=args.results)
