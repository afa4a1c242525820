"""``flowsim sensitivity DIR``: Sobol or Morris indices of a finished sweep, as table and figure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "sensitivity"
HELP = "sensitivity indices (SALib) of a sobol or morris sweep, with confidence intervals"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``flowsim sensitivity``."""
    parser.add_argument(
        "folder", metavar="DIR", help="results folder of a finished sobol or morris sweep"
    )
    parser.add_argument(
        "--outcome",
        action="append",
        metavar="NAME",
        help="analyse only this outcome (repeatable; default: all)",
    )
    parser.add_argument(
        "--conf-level", type=float, default=0.95, help="confidence level (default 0.95)"
    )
    parser.add_argument(
        "--resamples", type=int, default=200, help="bootstrap resamples (default 200)"
    )
    parser.add_argument(
        "--out", metavar="DIR", help="where to write the table and figure (default: DIR)"
    )


def main(args: argparse.Namespace) -> int:
    """Print the indices and write ``sensitivity.csv`` and ``sensitivity.png``."""
    import pandas as pd

    from flowsim.sweep.api import SweepError
    from flowsim.sweep.sensitivity import sensitivity, sensitivity_figure

    if not 0.0 < args.conf_level < 1.0:
        print("flowsim sensitivity: --conf-level must be between 0 and 1", file=sys.stderr)
        return 2
    try:
        table = sensitivity(
            args.folder, args.outcome, conf_level=args.conf_level, num_resamples=args.resamples
        )
    except SweepError as exc:
        print(exc, file=sys.stderr)
        return 2
    from flowsim.diskio import atomic_path

    out = Path(args.out or args.folder)
    try:
        with atomic_path(out / "sensitivity.csv") as tmp:
            table.to_csv(tmp, index=False)
        figure = sensitivity_figure(table, out / "sensitivity.png")
    except OSError as err:
        print(f"flowsim sensitivity: cannot write in {out}: {err.strerror or err}", file=sys.stderr)
        return 1
    shown = table.drop(columns=["warning"]).assign(
        flag=["(!)" if w else "" for w in table["warning"]]
    )
    with pd.option_context(
        "display.width", 200, "display.max_rows", 500, "display.float_format", "{:.3f}".format
    ):
        print(shown.to_string(index=False))
    print(
        "\n*_width: full width of the bootstrap interval; *_half_change: how much the index "
        "moved between the first half of the sample and all of it (convergence check)"
    )
    warned = {outcome: notes for outcome, notes in table.attrs["warnings"].items() if notes}
    if warned:
        print(
            "\nwarning: some indices are not to be trusted as they stand (rows flagged (!); "
            "the `warning` column of sensitivity.csv says why):",
            file=sys.stderr,
        )
        for outcome, notes in warned.items():
            for note in notes:
                print(f"  {outcome}: {note}", file=sys.stderr)
        print(
            "  more samples (`--samples N`, N a power of 2) and replications "
            "(`--replications N`) narrow the intervals",
            file=sys.stderr,
        )
    print(f"\nwrote {out / 'sensitivity.csv'} and {figure}")
    return 0
