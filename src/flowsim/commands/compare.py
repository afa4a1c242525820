"""``flowsim compare DIR_A DIR_B ... [--out FILE.csv]``: scenarios against the first."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

from flowsim.outputs import COMPARED as DEFAULT_OUTPUTS
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
        "--allow-mixed-scales",
        action="store_true",
        help="compare folders run at different agent scales (refused by default; flagged)",
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


def _pairing_note(table: pd.DataFrame) -> str:
    """What common random numbers bought here: the measured pairing correlations."""
    whole = table[(table["period"] == "all") & table["parameter_set"].isna()]
    paired = whole[whole["test"] == "paired"]
    if paired.empty and (whole["test"] == "paired-ensemble").any():
        return (
            "\nEnsemble runs share their seeds in every parameter set; the pairing correlation "
            "r of each set is in the per-set rows (--by-set, and the CSV's pairing_r)."
        )
    if paired.empty:
        return (
            "\nNo scenario shares the reference's replicate seeds: differences are unpaired "
            "(Welch), with no common-random-number gain."
        )
    lines = [
        "\nCommon random numbers: replicate k of each scenario used the same seeds, so "
        "randomness a lever leaves untouched cancels in the paired difference; the pairing "
        "correlation r says how much did. A paired interval is about sqrt(1 - r) as wide as "
        "an unpaired one (r = 0.5: 29% narrower; r = 0.2: 11%; r <= 0: no gain). A lever "
        "that changes who moves, collaborates, transfers or invests changes how many draws "
        "each mechanism makes, and every later draw with it, so r is often small."
    ]
    for scenario, group in paired.groupby("scenario", sort=False):
        r = group["pairing_r"].dropna()
        if r.empty:
            lines.append(f"  {scenario}: too few replicates to measure r (3 or more needed)")
            continue
        n = int(group["replicates"].iloc[0])
        weak = [row.output for row in group.itertuples() if row.pairing_r < 0.3]
        lines.append(
            f"  {scenario}: r median {r.median():+.2f} (from {r.min():+.2f} to {r.max():+.2f}) "
            f"over {len(r)} outputs, {n} pairs each (r is uncertain by about "
            f"+/-{1 / max(n - 1, 1) ** 0.5:.2f}); r < 0.3 for {len(weak)} of them"
        )
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    """Print the comparison (and write the CSV); exit 2 with the reason on bad input."""
    from flowsim.compare import compare, format_table
    from flowsim.ensemble import EnsembleError, read_parameter_sets
    from flowsim.folders import FolderError

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
        sha = (
            read_parameter_sets(args.ensemble, allow_misfit=True).sha256 if args.ensemble else None
        )
        table = compare(
            args.folders,
            args.outputs,
            out=args.out,
            force=args.force,
            allow_mixed_scales=args.allow_mixed_scales,
            by_set=True,
            ensemble=sha,
        )
    except EnsembleError as err:
        print(f"flowsim compare: error: --ensemble {err}", file=sys.stderr)
        return 2
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
        "(paired t where replicates share seeds, else Welch t), its p-value, the p-value "
        "adjusted for testing many outputs (Benjamini-Hochberg) and, when paired, the "
        "correlation r of the paired replicates. Shares in percent, their differences in "
        "percentage points (pp)."
    )
    if (table["test"] == "paired-ensemble").any():
        print(
            "Ensemble runs: paired on parameter set and seed; the CI is that of the mean effect "
            "over parameter sets, 'across sets' the 95% uncertainty interval of the effect "
            "(parameter uncertainty and noise)."
        )
    shown = table if args.by_set else table[table["parameter_set"].isna()]
    print(format_table(shown, period=None if args.years else "all"))
    print(_pairing_note(table))
    if args.out:
        print(f"\nwritten: {args.out}")
    return 0
