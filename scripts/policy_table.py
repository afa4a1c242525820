"""Print the README's policy table: each shipped scenario against the baseline.

Reads run folders made with the same seeds (``flowsim run FILE --replications 8``),
one per scenario, and prints a markdown table of the ten-year totals' difference
from the baseline in percent with its 95% interval (paired over replicates that
share seeds)::

    python scripts/policy_table.py results/policy/baseline results/policy/*/

Folders run with ``--ensemble DIR`` (the same ensemble and seeds for every scenario) give
the ensemble's effect instead: the mean over parameter sets of the paired difference,
with the 95% uncertainty interval that includes parameter uncertainty as well as noise
(``diff_ui_low``/``diff_ui_high`` of :func:`flowsim.compare.compare`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowsim.compare import compare

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/effect_cells.py
from effect_cells import OUTPUTS, cell, pct  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 2 on bad input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline")
    parser.add_argument("policies", nargs="+")
    args = parser.parse_args(argv)
    folders = [args.baseline] + [p for p in args.policies if p.rstrip("/") != args.baseline]
    table = compare(folders, OUTPUTS)
    whole = table[(table["period"] == "all") & table["diff"].notna()]
    ensemble = "parameter_sets" in whole.columns and whole["parameter_sets"].notna().any()
    if ensemble:  # the across-set rows only, not the per-set ones
        whole = whole[whole["parameter_set"].isna()]
        low_col, high_col = "diff_ui_low", "diff_ui_high"
        sets = int(whole["parameter_sets"].max())
        what = f"95% uncertainty interval over {sets} calibrated parameter sets, paired"
    else:
        low_col, high_col = "diff_ci_low", "diff_ci_high"
        what = f"95% CI, paired, {int(whole['replicates'].min())} replicates"
    print(f"Change over 2025-2034 vs the baseline, % ({what})\n")
    print("| scenario | " + " | ".join(OUTPUTS) + " |")
    print("|---|" + "---|" * len(OUTPUTS))
    for name, group in whole.groupby("scenario", sort=False):
        g = group.set_index("output")
        cells = []
        for o in OUTPUTS:
            r = g.loc[o]
            base = r["mean"] - r["diff"]
            cells.append(cell(r["diff_pct"], pct(r[low_col], base), pct(r[high_col], base)))
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
