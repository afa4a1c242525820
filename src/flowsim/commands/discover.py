"""``flowsim discover DIR --outcome X --threshold T``: where a policy works (PRIM)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

NAME = "discover"
HELP = (
    "scenario discovery: the ranges of levers and uncertain parameters under which an outcome "
    "passes a threshold (PRIM), with coverage and density, as table and figure (needs the "
    "discover extra: pip install 'flowsim[discover]')"
)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``flowsim discover``."""
    parser.add_argument(
        "folder",
        metavar="DIR",
        help="a finished sweep folder (`flowsim sweep`, also with --ensemble) or an ensemble run "
        "(`flowsim run FILE --ensemble DIR`)",
    )
    parser.add_argument(
        "--outcome",
        required=True,
        metavar="NAME",
        help="the outcome to classify (one of the sweep's outcomes: a yearly mean over the run)",
    )
    parser.add_argument(
        "--threshold", required=True, type=_number, metavar="T", help="the outcome's threshold"
    )
    side = parser.add_mutually_exclusive_group()
    side.add_argument(
        "--above",
        dest="above",
        action="store_true",
        default=True,
        help="cases of interest have the outcome above T (default)",
    )
    side.add_argument(
        "--below", dest="above", action="store_false", help="cases of interest are below T"
    )
    parser.add_argument(
        "--per-point",
        action="store_true",
        help="one case per design point (outcome averaged over its replicates) instead of "
        "one per run",
    )
    parser.add_argument(
        "--min-density",
        type=_number,
        default=0.8,
        metavar="D",
        help="report the box of highest coverage with at least this density (default 0.8)",
    )
    parser.add_argument(
        "--box", type=int, metavar="N", help="report box N of the peeling trajectory instead"
    )
    parser.add_argument(
        "--peel-alpha",
        type=_number,
        default=0.05,
        metavar="A",
        help="share of cases peeled off per step (default 0.05)",
    )
    parser.add_argument(
        "--mass-min",
        type=_number,
        default=0.05,
        metavar="M",
        help="stop peeling below this share of all cases in the box (default 0.05)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="where to write discover-<outcome>-<above|below>-<T>.csv, -trajectory.csv and "
        ".png (default: the folder analysed)",
    )
    parser.add_argument("--force", action="store_true", help="replace those files if they exist")


def main(args: argparse.Namespace) -> int:
    """Print the box and write its table and figure; exit 2 on bad input."""
    from flowsim.discover import DiscoverError, discover, format_discovery, write_discovery
    from flowsim.diskio import FolderLockedError

    for name in ("peel_alpha", "mass_min"):
        value = getattr(args, name)
        if not 0.0 < value < 0.5:
            option = "--" + name.replace("_", "-")
            print(f"flowsim discover: error: {option} must be between 0 and 0.5", file=sys.stderr)
            return 2
    try:
        found = discover(
            args.folder,
            args.outcome,
            args.threshold,
            above=args.above,
            aggregate="point" if args.per_point else "run",
            min_density=args.min_density,
            box=args.box,
            peel_alpha=args.peel_alpha,
            mass_min=args.mass_min,
        )
    except DiscoverError as err:
        print(f"flowsim discover: error: {err}", file=sys.stderr)
        return 2
    try:
        written = write_discovery(found, Path(args.out or args.folder), force=args.force)
    except (FileExistsError, FolderLockedError) as err:
        print(f"flowsim discover: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk, a read-only --out: the previous files are intact
        from flowsim.diskio import write_error_message

        print(f"flowsim discover: error: {write_error_message(err)}", file=sys.stderr)
        return 1
    print(format_discovery(found))
    print("\nwritten: " + ", ".join(str(p) for p in written[:3]))
    return 0
