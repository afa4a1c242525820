"""Print the README's policy table: each shipped scenario against the baseline.

Reads run folders made with the same seeds (``flowsim run FILE --replications 8``),
one per scenario, and prints a markdown table of the ten-year totals' difference
from the baseline in percent with its 95% interval (paired over replicates that
share seeds)::

    python scripts/policy_table.py results/policy/baseline results/policy/*/
"""

from __future__ import annotations

import argparse
import sys

from flowsim.compare import compare

OUTPUTS = (
    "papers",
    "invention_patents",
    "pct_applications",
    "startups",
    "vc_deals",
    "commercialized",
    "cross_border_collaboration_share",
)


def main(argv: list[str] | None = None) -> int:
    """Print the table; exit 2 on bad input."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline")
    parser.add_argument("policies", nargs="+")
    args = parser.parse_args(argv)
    folders = [args.baseline] + [p for p in args.policies if p.rstrip("/") != args.baseline]
    table = compare(folders, OUTPUTS)
    whole = table[(table["period"] == "all") & table["diff"].notna()]
    n = int(whole["replicates"].min())
    print(f"Change over 2025-2034 vs the baseline, % (95% CI, paired, {n} replicates)\n")
    print("| scenario | " + " | ".join(OUTPUTS) + " |")
    print("|---|" + "---|" * len(OUTPUTS))
    for name, group in whole.groupby("scenario", sort=False):
        g = group.set_index("output")
        cells = []
        for o in OUTPUTS:
            r = g.loc[o]
            base = r["mean"] - r["diff"]
            lo, hi = 100 * r["diff_ci_low"] / base, 100 * r["diff_ci_high"] / base
            cells.append(f"{r['diff_pct']:+.1f} [{lo:+.1f}, {hi:+.1f}]")
        print(f"| {name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
