"""Print the README's baseline-against-real-figures table from a baseline run folder.

Reads the yearly outputs of every replicate of a folder made by ``flowsim run
scenarios/baseline.yaml --replications 8`` and prints, per output, the real figure and
the model's mean over replicates and years with the range of the replicates' ten-year
means, then the baseline by city (``flowsim.tables.city_table``)::

    python scripts/baseline_table.py results/policy/runs/baseline
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from flowsim.folders import FolderError, read_run_folder
from flowsim.tables import city_table

ROWS = (
    ("Guangdong PCT applications / year", "pct_applications_GD", "23,676 (CNIPA 2023)", "{:,.0f}"),
    ("Hong Kong PCT applications / year", "pct_applications_HK", "727 (CNIPA 2023)", "{:,.0f}"),
    ("Macao PCT applications / year", "pct_applications_MO", "22 (CNIPA 2023)", "{:,.0f}"),
    ("share of world PCT filings", "world_share_pct", "9.0% (GII 2025)", "{:.1%}"),
    ("share of world papers", "world_share_papers", "2.4% (GII 2025)", "{:.1%}"),
    ("share of world VC deals", "world_share_vc_deals", "2.9% (GII 2025)", "{:.1%}"),
    ("cross-border collaboration share", "cross_border_collaboration_share", "—", "{:.1%}"),
)


def main(argv: list[str] | None = None) -> int:
    """Print both tables; exit 2 on a folder that is not a run folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder")
    args = parser.parse_args(argv)
    try:
        run = read_run_folder(args.folder)
    except FolderError as err:
        print(f"baseline_table: error: {err}", file=sys.stderr)
        return 2
    yearly = run.yearly
    per_rep = yearly.groupby("replicate").mean(numeric_only=True)
    reps = len(per_rep)
    print(f"| output | real | model ({reps} replicates; range of their ten-year means) |")
    print("|---|---|---|")
    for label, column, real, fmt in ROWS:
        v = per_rep[column]
        print(
            f"| {label} | {real} | {fmt.format(v.mean())} "
            f"({fmt.format(v.min())}–{fmt.format(v.max())}) |"
        )
    print()
    table = city_table(pd.read_parquet(Path(args.folder) / "by_city.parquet"))
    names = {
        "papers": "papers (whole counting)",
        "invention_patents": "invention patents",
        "pct_applications": "PCT applications",
        "pct_share": "share of PCT",
        "startups": "start-ups",
        "vc_deals": "VC deals",
    }
    columns = list(table.columns)
    print("| city | " + " | ".join(names.get(c, c.replace("_", " ")) for c in columns) + " |")
    print("|---|" + "---|" * len(columns))
    for city, row in table.iterrows():
        cells = [f"{row[c]:.1%}" if c == "pct_share" else f"{row[c]:,.0f}" for c in columns]
        print(f"| {city} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
