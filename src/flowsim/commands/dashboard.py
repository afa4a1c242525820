"""``flowsim dashboard [SCENARIO] [--port N] [--host 127.0.0.1] [--save-dir DIR]``: the page."""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from flowsim.dashboard.guard import MAX_SOCKETS
from flowsim.dashboard.limits import MAX_REPLICATES, MAX_WARMUP_WORK, MAX_WORK
from flowsim.dashboard.server import KERNEL_CULL
from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError

NAME = "dashboard"
HELP = "open the policy dashboard in the browser: levers, runs against the baseline, figures"
DESCRIPTION = f"""\
Open the policy dashboard: levers, runs against a reference, figures, results folders.

Security: the server listens on 127.0.0.1 only, and prints an address that carries a
random token made at each start (http://127.0.0.1:PORT/?token=...). Open that address;
the token is then kept in an HttpOnly, SameSite=Strict cookie. Every request without the
token, or whose Host or Origin is not the dashboard's own address, is refused (403), so
another web page open in your browser cannot drive the dashboard.

Limits: a run is capped at {MAX_REPLICATES} replicates and at replicates x (steps +
warmup_steps) x scale <= {MAX_WORK:g} (the default 3 replicates of 180 + 120 months at
scale 0.1 is 90), and a replicate's warm-up at warmup_steps x scale <= {MAX_WARMUP_WORK:g};
larger runs belong to `flowsim run`. A run stops when its page closes.
At most {MAX_SOCKETS} pages are open at a time; a page's state is dropped {KERNEL_CULL}
after it closed.

Saving: "Save scenario" writes plain file names (letters, digits, - and _, ending in
.yaml) into one folder only: --save-dir, or the folder of SCENARIO, or ./scenarios, or
the working folder. See docs/dashboard.md.
"""


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
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "scenario",
        nargs="?",
        metavar="SCENARIO",
        help="scenario YAML file to open first (default: the shipped scenarios/ or the defaults)",
    )
    parser.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 = any)")
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
    parser.add_argument(
        "--save-dir",
        metavar="DIR",
        help="the only folder 'Save scenario' writes into; it must exist (default: the "
        "folder of SCENARIO, else ./scenarios, else the working folder)",
    )


def main(args: argparse.Namespace) -> int:
    """Check the scenario and folders, warn about a non-loopback address, run the server."""
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
    results = getattr(args, "results", None)
    if results is not None and not Path(results).is_dir():
        what = "is not a folder" if Path(results).exists() else "no such folder"
        print(
            f"flowsim dashboard: --results {results}: {what}; give the folder that holds "
            "results folders (made by flowsim run --out), or leave --results out to use "
            "./results",
            file=sys.stderr,
        )
        return 2
    save_dir = getattr(args, "save_dir", None)
    if save_dir is not None and not Path(save_dir).is_dir():
        print(
            f"flowsim dashboard: --save-dir {save_dir}: no such folder; give an existing "
            "folder (the dashboard creates none)",
            file=sys.stderr,
        )
        return 2
    if not is_loopback(args.host):
        print(
            f"warning: the dashboard listens on {args.host}, so other machines that can reach "
            "this one can open it; only who has the printed address (its token) can use it, "
            "and the token travels unencrypted. Use --host 127.0.0.1 (the default) to keep "
            "it to this machine.",
            file=sys.stderr,
        )
    try:
        return serve(
            args.scenario, host=args.host, port=args.port, results=args.results, save_dir=save_dir
        )
    except OSError as err:
        print(
            f"flowsim dashboard: cannot listen on {args.host}:{args.port}: {err.strerror or err}; "
            "choose another --port (0 = any free port) or --host",
            file=sys.stderr,
        )
        return 2
