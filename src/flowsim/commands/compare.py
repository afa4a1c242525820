"""``flowsim compare DIR_A DIR_B ... [--out DIR]``: scenarios against the first.

Headline outputs, their year-by-year path, every city x field x output and corridor
cell, with 95% intervals over replicates, Benjamini-Hochberg control over the cells
shown, the minimum detectable effect at the replicates used, and ``--until`` to run
replicates until the intervals are narrow. docs/compare.md says how to read it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from flowsim.comparison import Comparison

from flowsim.outputs import COMPARED as DEFAULT_OUTPUTS
from flowsim.outputs import REPORTED, YEARLY_SHARES
from flowsim.replication import DEFAULT_REPLICATES

NAME = "compare"
HELP = (
    "compare run folders: effects by output, year, city x field and corridor with 95 percent "
    "CIs, Benjamini-Hochberg FDR and the minimum detectable effect"
)

MAX_REPLICATES = 32
"""Default cap of ``--until``: 32 replicates of each scenario (MDE about half of 8's)."""

NEED_CAP = 200
"""Replicates above which the advice says only 'more than this'."""

SHOWN_CELLS = 12
"""Significant cells printed per table (the CSV files have them all)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim compare``."""
    parser.epilog = (
        "How to read it: each difference is the mean over replicates of policy minus "
        "reference on the same seed (paired), with its 95% confidence interval. Across many "
        "outputs or cells, read the Benjamini-Hochberg adjusted p-value (q): cells with q < "
        "0.05 are 'significant', and about 5% of them may be chance. The MDE is the smallest "
        "effect a paired t-test finds with 80% power at alpha 0.05 with the replicates used: "
        f"a smaller effect may be there unseen. Start from {DEFAULT_REPLICATES} replicates "
        "(flowsim run's default). Exit 2 when no comparison can be made (one replicate, an "
        "asked-for output with no variation, bad input). See docs/compare.md."
    )
    parser.add_argument(
        "folders", nargs="+", metavar="DIR", help="run folders; the first is the reference"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="write the tables into this folder: compare_headline.csv (whole run, with the "
        "MDE), compare_path.csv (year by year), compare_by_city_field.csv, "
        "compare_by_city.csv, compare_by_field.csv, compare_corridors.csv and "
        "manifest.json; a name ending in .csv writes the one long table of outputs x "
        "periods there instead (as before)",
    )
    parser.add_argument("--force", action="store_true", help="replace the tables if they exist")
    parser.add_argument(
        "--outputs",
        metavar="NAME",
        nargs="+",
        default=None,
        help=f"outputs to compare (default: {' '.join(DEFAULT_OUTPUTS)}); outputs the by-city "
        "table has are also compared city x field",
    )
    parser.add_argument(
        "--until",
        metavar="HALFWIDTH",
        help="run more replicates of every scenario, on the same seeds, until the 95%% "
        "interval of each effect on --outputs is at most this half-width: a percentage of "
        "the reference's mean (2%%) or a number in the outputs' units; needs --out DIR (the "
        "extended runs go to DIR/runs/, the folders given are not changed)",
    )
    parser.add_argument(
        "--max-replicates",
        type=int,
        default=MAX_REPLICATES,
        metavar="N",
        help=f"--until stops at N replicates of each scenario (default {MAX_REPLICATES})",
    )
    parser.add_argument(
        "--cells",
        type=int,
        default=SHOWN_CELLS,
        metavar="N",
        help=f"print at most N significant city x field and corridor cells (default "
        f"{SHOWN_CELLS}; the CSV files have every cell)",
    )
    parser.add_argument(
        "--no-cells",
        action="store_true",
        help="leave out the city x field and corridor cells (faster on large runs)",
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


def _error(message: str) -> int:
    print(f"flowsim compare: error: {message}", file=sys.stderr)
    return 2


def _cells_text(cells: pd.DataFrame, keys: list[str], what: str, shown: int) -> list[str]:
    """The significant cells of one table, largest first, and how many there were."""
    import numpy as np

    from flowsim.cells import FDR, FDR_METHOD
    from flowsim.numbers import format_interval, format_number, format_p, format_percent

    lines = []
    if cells.empty:
        return lines
    for scenario, group in cells.groupby("scenario", sort=False):
        hits = group[group["significant"]]
        lines.append(
            f"\n{what}, {scenario} against {group['reference'].iloc[0]}: {len(hits)} of "
            f"{len(group)} cells significant ({FDR_METHOD} over the {len(group)} cells, "
            f"FDR {FDR:.0%}: about {FDR:.0%} of the cells listed may be chance)"
        )
        order = hits.assign(size=hits["diff_pct"].abs().fillna(np.inf)).sort_values(
            ["p_adjusted", "size"], ascending=[True, False]
        )
        for row in order.head(shown).itertuples():
            name = " ".join(str(getattr(row, k)) for k in keys)
            unit = row.unit
            diff = format_number(row.diff, signed=True)
            interval = format_interval("", row.diff_ci_low, row.diff_ci_high)
            pct = f" ({format_percent(row.diff_pct)})" if np.isfinite(row.diff_pct) else ""
            lines.append(
                f"  {name:<46} {diff:>10} {interval} {unit}{pct}  q {format_p(row.p_adjusted)}"
            )
        if len(hits) > shown:
            lines.append(f"  ... and {len(hits) - shown} more (see the CSV file)")
    return lines


def _advice_text(result: Comparison, outputs: list[str]) -> list[str]:
    """Per headline output and scenario: the interval's half-width and the MDE."""
    import numpy as np

    from flowsim.numbers import format_number, format_value
    from flowsim.replication import replicates_for_mde

    head = result.headline
    rows = head[head["diff"].notna() & head["output"].isin(outputs) & head["mde"].notna()]
    if rows.empty:  # ensemble runs: see the interval across sets instead
        return []
    lines = [
        "\nReplication advice: half-width of the 95% CI, and the minimum detectable effect "
        "(MDE: the smallest effect found with 80% power by a two-sided paired t-test at "
        "alpha 0.05) at the replicates used, in % of the reference; an effect below the "
        "MDE may be there unseen. 'for 2%': replicates of each scenario for an MDE of 2%."
    ]
    for row in rows.itertuples():
        if not np.isfinite(row.mde):
            continue
        need = replicates_for_mde(row.sd_diff, 0.02 * abs(row.reference_mean), cap=NEED_CAP)
        need_text = f">{NEED_CAP}" if need >= NEED_CAP else str(need)
        lines.append(
            f"  {row.scenario:<20} {row.output:<34} n {int(row.replicates):>3}  "
            f"+/-{format_number(row.halfwidth_pct)}%  MDE {format_number(row.mde_pct)}% "
            f"({format_value(row.output, row.mde)})  for 2%: {need_text}"
        )
    return lines


def main(args: argparse.Namespace) -> int:
    """Print the comparison and write its tables; exit 2 with the reason on bad input."""
    from flowsim.cells import FDR_METHOD
    from flowsim.compare import format_table
    from flowsim.comparison import FILES, MANIFEST, basis, comparison, uncomparable, write_tables
    from flowsim.ensemble import EnsembleError, read_parameter_sets
    from flowsim.extend import ExtendError, extend_until
    from flowsim.folders import FolderError
    from flowsim.replication import parse_target

    explicit = args.outputs is not None
    outputs = list(args.outputs) if explicit else list(DEFAULT_OUTPUTS)
    known = set(REPORTED) | set(YEARLY_SHARES)
    unknown = [name for name in outputs if name not in known]
    if unknown:
        return _error(f"unknown output(s) {unknown}; see `flowsim.outputs`")
    if len(args.folders) < 2:
        return _error("give at least two run folders (the reference first)")
    csv_file = args.out is not None and args.out.lower().endswith(".csv")
    out_dir = Path(args.out) if args.out is not None and not csv_file else None
    if csv_file and Path(args.out).exists() and not args.force:
        return _error(f"{args.out} exists; choose another file or ask to replace it (--force)")
    if out_dir is not None and not args.force:
        there = [n for n in [*FILES.values(), MANIFEST] if (out_dir / n).exists()]
        if there:
            return _error(
                f"{out_dir} already holds {', '.join(there)}; choose another --out or ask to "
                "replace them (--force)"
            )
    folders = list(args.folders)
    if args.until is not None:
        try:
            target = parse_target(args.until)
        except ValueError as err:
            return _error(str(err))
        if out_dir is None:
            return _error(
                "--until runs more replicates and writes them as new run folders: give "
                "--out DIR (a folder, not a .csv file)"
            )
        if args.max_replicates < 2:
            return _error(f"--max-replicates {args.max_replicates}: give 2 or more")
        print(
            f"--until: 95% CI half-width at most {target} for {', '.join(outputs)}; "
            f"at most {args.max_replicates} replicates",
            file=sys.stderr,
        )
        try:
            written, last = extend_until(
                folders,
                outputs,
                target,
                args.max_replicates,
                out_dir / "runs",
                command=getattr(args, "command_line", None),
            )
        except (ExtendError, FolderError) as err:
            return _error(str(err))
        folders = [str(p) for p in written]
        state = (
            "reached"
            if last.reached
            else (f"NOT reached: stopped at the cap of {args.max_replicates} replicates")
        )
        print(f"--until: target {state}; extended runs in {out_dir / 'runs'}", file=sys.stderr)
    try:
        ensemble = read_parameter_sets(args.ensemble, allow_misfit=True) if args.ensemble else None
        sha = ensemble.sha256 if ensemble is not None else None
        result = comparison(
            folders,
            outputs,
            allow_mixed_scales=args.allow_mixed_scales,
            ensemble=sha,
            cells=not args.no_cells,
        )
    except EnsembleError as err:
        return _error(f"--ensemble {err}")
    except (FolderError, FileExistsError, ValueError) as err:
        return _error(str(err))
    problems = uncomparable(result.table, outputs)
    if problems and (explicit or len(problems) == len(outputs)):
        listed = "\n".join(f"  {name}: {why}" for name, why in problems.items())
        return _error(
            "no comparison can be made for:\n"
            f"{listed}\n"
            f"An interval needs at least 2 replicates of each scenario, on the same seeds "
            f"(start with {DEFAULT_REPLICATES}: `flowsim run FILE --replications "
            f"{DEFAULT_REPLICATES}`, or add `--until 2% --out DIR` here), and an output that "
            "varies between replicates; leave constant outputs out of --outputs"
        )
    table = result.table
    if problems:
        print(
            "note: left out, no comparison possible: "
            + "; ".join(f"{name} ({why})" for name, why in problems.items())
        )
        table = table[~table["output"].isin(list(problems))]
    shown_outputs = [o for o in outputs if o not in problems]
    reference = table["scenario"].iloc[0]
    print(f"Comparison: {basis(result)}.")
    print(
        f"Mean over replicates; difference from {reference} with its 95% CI "
        "(paired t where replicates share seeds, else Welch t), its p-value, the p-value "
        f"adjusted for testing many outputs ({FDR_METHOD}) and, when paired, the "
        "correlation r of the paired replicates. Counts per year; shares in percent, their "
        "differences in percentage points (pp)."
    )
    if (table["test"] == "paired-ensemble").any():
        print(
            "Ensemble runs: paired on parameter set and seed; the CI is that of the mean effect "
            "over parameter sets, 'across sets' the 95% uncertainty interval of the effect "
            "(parameter uncertainty and noise)."
        )
    shown = table if args.by_set else table[table["parameter_set"].isna()]
    print(format_table(shown, period=None if args.years else "all"))
    if not args.years:
        print("\n".join(_effect_path_text(shown)))
    print("\n".join(_timing_text(result.scenarios)))
    print("\n".join(_advice_text(result, shown_outputs)))
    text = _cells_text(result.by_field, ["field", "output"], "By field (all cities)", args.cells)
    text += _cells_text(result.by_city, ["city", "output"], "By city (all fields)", args.cells)
    text += _cells_text(
        result.by_city_field, ["city", "field", "output"], "By city x field", args.cells
    )
    text += _cells_text(
        result.corridors,
        ["corridor", "element", "measure"],
        "Cross-border flows by corridor",
        args.cells,
    )
    if text:
        print("\n".join(text))
    print(_pairing_note(table))
    decides = _what_decides(result.table, ensemble, shown_outputs)
    try:
        if decides is not None and out_dir is not None:
            from flowsim.diskio import atomic_path

            out_dir.mkdir(parents=True, exist_ok=True)
            with atomic_path(out_dir / WHAT_DECIDES) as tmp:
                decides.to_csv(tmp, index=False)
            print(f"written: {out_dir / WHAT_DECIDES}")
        if csv_file:
            _write_long_table(result.table, Path(args.out), folders)
            print(f"\nwritten: {args.out}")
        elif out_dir is not None:
            files = write_tables(
                result,
                out_dir,
                force=args.force,
                command=getattr(args, "command_line", None),
                extra={"until": args.until, "max_replicates": args.max_replicates}
                if args.until
                else None,
            )
            print(f"\nwritten: {', '.join(str(f) for f in files)}")
    except FileExistsError as err:
        return _error(str(err))
    except OSError as err:  # a full disk, a read-only --out: no half-written table is left
        where = f" {err.filename}" if err.filename else ""
        print(
            f"flowsim compare: error: cannot write{where}: {err.strerror or err}; no table "
            "was written",
            file=sys.stderr,
        )
        return 1
    return 0


def _effect_path_text(table: pd.DataFrame) -> list[str]:
    """The effect path: each scenario's difference from the reference, year by year, in %."""
    from flowsim.numbers import format_percent

    years = table[(table["period"] != "all") & table["diff"].notna()]
    if years.empty:
        return []
    lines = ["", "Effect path (difference from the reference by year, % [95% CI]):"]
    for (scenario, output), group in years.groupby(["scenario", "output"], sort=False):
        ref = group["mean"] - group["diff"]
        parts = []
        for row, base in zip(group.itertuples(), ref, strict=True):
            if not base:
                parts.append(f"{row.period} n/a")
                continue
            low, high = 100 * row.diff_ci_low / base, 100 * row.diff_ci_high / base
            parts.append(
                f"{row.period} {format_percent(row.diff_pct)} "
                f"[{format_percent(low)}, {format_percent(high)}]"
            )
        lines.append(f"  {scenario} {output}: " + "; ".join(parts))
    return lines


def _timing_text(scenarios: list[dict]) -> list[str]:
    """When each scenario's policy was in force (its manifest's ``policy_timing``)."""
    lines = []
    for record in scenarios:
        label = record.get("policy_timing")
        if label:
            flag = "(!) " if label.startswith("steady state") else ""
            lines.append(f"  {flag}{record['scenario']}: {label}")
    return ["", "Policy timing:", *lines] if lines else []


WHAT_DECIDES = "what_decides.csv"
"""File of ``compare --ensemble --out DIR``: the screening of the effect over the parameter sets."""


def _what_decides(table: pd.DataFrame, ensemble: object, outputs: list[str]) -> pd.DataFrame | None:
    """Print "what decides this answer" for ensemble runs and return its table (None: none).

    A screening over the ensemble's parameter sets (:func:`flowsim.report.screening`):
    for each output, the correlation ``r`` across sets of the set's effect with each
    parameter's value, ``r2`` the share of the effect's spread across sets it alone
    accounts for, and ``slope_sd`` the effect's change per sd of the parameter. With
    sets drawn from the priors or an ABC posterior, this ranks the assumptions whose
    uncertain range moves the answer most.
    """
    if ensemble is None:
        return None
    from flowsim.report import screening

    frame = screening(table, ensemble, outputs)
    if frame.empty:
        print(
            "\nWhat decides this answer: fewer than 3 parameter sets with an effect; no screening"
        )
        return None
    print(
        "\nWhat decides this answer (screening over the ensemble's parameter sets: the effect "
        "in each set against the set's parameters; r2 = share of the effect's spread across "
        "sets one parameter alone accounts for; slope/sd = change of the effect per sd of the "
        "parameter; correlated parameters share credit):"
    )
    for output, group in frame.groupby("output", sort=False):
        top = group.head(5)
        print(f"  {output} (effect sd across sets {top['effect_sd'].iloc[0]:.4g}):")
        for row in top.itertuples():
            print(
                f"    {row.parameter:<45} r2 {row.r2:5.2f}  r {row.r:+.2f}  "
                f"slope/sd {row.slope_sd:+.4g}"
            )
    return frame


def _write_long_table(table: pd.DataFrame, out: Path, folders: list[str]) -> None:
    """The one long table (outputs x periods, every column) as CSV, with its provenance."""
    from flowsim.diskio import atomic_path
    from flowsim.sidecar import write_provenance

    with atomic_path(out) as tmp:  # a full disk leaves no empty or half-written table
        table.to_csv(tmp, index=False)
    write_provenance(
        Path(f"{out}.provenance.json"),
        [Path(f) for f in folders],
        [out],
        "comparison by flowsim compare",
    )
