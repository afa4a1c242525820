"""Refresh the golden baseline: the yearly outputs of one small seeded run.

``tests/test_golden.py`` compares a fresh run with ``tests/golden/baseline_summary.json``
to a relative tolerance of 1e-9, so any change to what the model computes (a new
draw, a reordered step, a changed default) shows up. When a change is intended,
refresh the file deliberately and commit it with the change that explains it::

    python scripts/refresh_golden.py           # print what changed, write nothing
    python scripts/refresh_golden.py --write   # print what changed and update the file

The exit status is 0 when the stored summary matches a fresh run (or was just
written), 1 when it differs and ``--write`` was not given.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

GOLDEN_PATH = Path(__file__).resolve().parents[1] / "tests" / "golden" / "baseline_summary.json"
GOLDEN_RUN: dict[str, Any] = {"scale": 0.01, "steps": 24, "warmup_steps": 36, "seed": 20250904}
"""The run the golden summary describes: the default scenario with these settings."""

RELATIVE_TOLERANCE = 1e-9


def summarize() -> dict[str, Any]:
    """Run the golden scenario and return its yearly outputs as plain JSON data."""
    from flowsim.params import Scenario
    from flowsim.run import run

    settings = {k: v for k, v in GOLDEN_RUN.items() if k != "seed"}
    result = run(Scenario(**settings), seed=GOLDEN_RUN["seed"])
    yearly = result.yearly
    return {
        "run": dict(GOLDEN_RUN),
        "yearly": {
            str(int(row["year"])): {
                name: float(row[name]) for name in yearly.columns if name != "year"
            }
            for _, row in yearly.iterrows()
        },
    }


def differences(
    stored: dict[str, Any], fresh: dict[str, Any], rel: float = RELATIVE_TOLERANCE
) -> list[str]:
    """Lines describing every value that differs between two summaries (empty when they match)."""
    lines: list[str] = []
    if stored.get("run") != fresh.get("run"):
        lines.append(f"run settings: {stored.get('run')} -> {fresh.get('run')}")
    old_years, new_years = stored.get("yearly", {}), fresh.get("yearly", {})
    for year in sorted(set(old_years) | set(new_years)):
        old, new = old_years.get(year), new_years.get(year)
        if old is None or new is None:
            lines.append(f"{year}: year {'added' if old is None else 'removed'}")
            continue
        for name in sorted(set(old) | set(new)):
            if name not in old:
                lines.append(f"{year} {name}: new output = {new[name]!r}")
            elif name not in new:
                lines.append(f"{year} {name}: output removed (was {old[name]!r})")
            elif not math.isclose(old[name], new[name], rel_tol=rel, abs_tol=rel):
                change = f" ({(new[name] - old[name]) / old[name]:+.3%})" if old[name] else ""
                lines.append(f"{year} {name}: {old[name]!r} -> {new[name]!r}{change}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """Compare the stored golden summary with a fresh run; write it with ``--write``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help="update the stored summary with the fresh run"
    )
    args = parser.parse_args(argv)
    fresh = summarize()
    stored = json.loads(GOLDEN_PATH.read_text(encoding="utf-8")) if GOLDEN_PATH.exists() else {}
    changed = differences(stored, fresh) if stored else ["no stored summary yet"]
    if not changed:
        print(f"{GOLDEN_PATH} matches a fresh run; nothing to do.")
        return 0
    print(f"{len(changed)} difference(s) between {GOLDEN_PATH.name} and a fresh run:")
    for line in changed:
        print("  " + line)
    if not args.write:
        print(
            "Nothing written. If the change is intended, "
            "run again with --write and commit the file."
        )
        return 1
    GOLDEN_PATH.parent.mkdir(parents=True, exist_ok=True)
    GOLDEN_PATH.write_text(json.dumps(fresh, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
