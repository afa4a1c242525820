"""``flowsim compare DIR_A DIR_B ... [--out FILE.csv]``: scenarios against the first."""

from __future__ import annotations

import argparse
import sys

from flowsim.compare import DEFAULT_OUTPUTS, compare, format_table
from flowsim.ensemble import EnsembleError, read_parameter_sets
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
    parser.add_argument(
        "--ensemble",
        metavar="DIR",
        help="require every folder to be a run of this ensemble (`flowsim run FILE --ensemble "
        "DIR`); ensemble runs are paired on parameter set and seed, and the effect gets a "
        "95%% uncertainty interval across parameter sets, with or without this option",
    )
    parser.add_argument(
        "--by-set",
        action="store_true",
        help="ensemble runs: also print the effect in each parameter set (the CSV has them)",
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
        sha = read_parameter_sets(args.ensemble).sha256 if args.ensemble else None
        table = compare(
            args.folders, args.outputs, out=args.out, force=args.force, by_set=True, ensemble=sha
        )
    except EnsembleError as err:
        print(f"flowsim compare: error: --ensemble {err}", file=sys.stderr)
        return 2
    except (FolderError, FileExistsError, ValueError) as err:
        print(f"flowsim compare: error: {err}", file=sys.stderr)
        return 2
    reference = table["scenario"].iloc[0]
    print(
        f"Mean over replicates; difference from {reference} with its 95% CI "
        "(paired t where replicates share seeds, else Welch t)."
    )
    if (table["test"] == "paired-ensemble").any():
        print(
            "Ensemble runs: paired on parameter set and seed; the CI is that of the mean effect "
            "over parameter sets, 'across sets' the 95% uncertainty interval of the effect "
            "(parameter uncertainty and noise)."
        )
    shown = table if args.by_set else table[table["parameter_set"].isna()]
    print(format_table(shown, period=None if args.years else "all"))
    if args.out:
        print(f"\nwritten: {args.out}")
    return 0
