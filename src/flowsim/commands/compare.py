"""``flowsim compare DIR_A DIR_B ... [--out FILE.csv]``: scenarios against the first."""

from __future__ import annotations

import argparse
import sys

from flowsim.compare import DEFAULT_OUTPUTS, compare, format_table
from flowsim.folders import FolderError
from flowsim.outputs import REPORTED, YEARLY_SHARES

NAME = "compare"
HELP = "compare run folders: yearly outputs, and the difference from the first with a 95 percent CI"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim compare``."""
    parser.add_argument(
        "folders", nargs="+", metavar="DIR", help="run folders; the first is the reference"
    )
    parser.add_argument("--out", metavar="FILE.csv", help="also write the whole table as CSV there")
    parser.add_argument("--force", action="store_true", help="replace the CSV file if it exists")
    parser.add_argument(
        "--outputs",
        metavar="NAME",
        nargs="+",
        default=list(DEFAULT_OUTPUTS),
        help=f"outputs to compare (default: {' '.join(DEFAULT_OUTPUTS)})",
    )
    parser.add_argument(
        "--years", action="store_true", help="print every year, not only the whole run"
    )


def main(args: argparse.Namespace) -> int:
    """Print the comparison (and write the CSV); exit 2 with the reason on bad input."""
    known = set(REPORTED) | set(YEARLY_SHARES)
    unknown = [name for name in args.outputs if name not in known]
    if unknown:
        print(
            f"flowsim compare: error: unknown output(s) {unknown}; see `flowsim.outputs`",
            file=sys.stderr,
        )
        return 2
    if len(args.folders) < 2:
        print(
            "flowsim compare: error: give at least two run folders (the reference first)",
            file=sys.stderr,
        )
        return 2
    try:
        table = compare(args.folders, args.outputs, out=args.out, force=args.force)
    except (FolderError, FileExistsError, ValueError) as err:
        print(f"flowsim compare: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk, a read-only --out: no half-written table is left
        where = f" {err.filename}" if err.filename else ""
        print(
            f"flowsim compare: error: cannot write{where}: {err.strerror or err}; no table "
            "was written",
            file=sys.stderr,
        )
        return 1
    reference = table["scenario"].iloc[0]
    print(
        f"Mean over replicates; difference from {reference} with its 95% CI "
        "(paired t where replicates share seeds, else Welch t)."
    )
    print(format_table(table, period=None if args.years else "all"))
    if args.out:
        print(f"\nwritten: {args.out}")
    return 0
