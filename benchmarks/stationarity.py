"""Is the baseline stationary? First vs last reported year of every stock and headline counter.

Runs the default scenario for several replicates and prints, per gauge of
:data:`flowsim.outputs.GAUGES` and per headline annual counter, the first and last
reported year's value (mean over replicates), their % change, a 95% interval of the
change over replicates (t interval of the per-replicate changes), and PASS/FAIL
against +-5% (issue 10: "every stock stays within +-5% over the ten reported years").
Cumulative totals (capital raised, written off, realised) are running sums, not stocks
that can settle; their flows (funds_raised, vc_written_off, vc_realised) are listed.

    python benchmarks/stationarity.py [--scale 0.1] [--replicates 8] [--seed 100]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from flowsim.outputs import GAUGES
from flowsim.params import Scenario
from flowsim.run import run

HEADLINE = (
    "papers",
    "invention_patents",
    "pct_applications",
    "startups",
    "vc_deals",
    "vc_volume",
    "commercialized",
)
CUMULATIVE = ("capital_raised", "capital_written_off", "capital_realised")
FLOWS = ("firm_failures", "funds_raised", "vc_written_off", "vc_realised")
TOLERANCE = 0.05


def measured(names=None) -> tuple[str, ...]:
    """The outputs checked: gauges that are stocks, headline counters, the capital flows."""
    gauges = tuple(g for g in GAUGES if g not in CUMULATIVE)
    return names or gauges + HEADLINE + FLOWS


def changes(scale: float, replicates: int, seed: int, names=None):
    """Per output: (first-year mean, last-year mean, per-replicate relative changes)."""
    yearly = [
        run(Scenario(), seed=seed + r, overrides={"scale": scale}).yearly.set_index("year")
        for r in range(replicates)
    ]
    out = {}
    for name in measured(names):
        first = np.array([y[name].iloc[0] for y in yearly])
        last = np.array([y[name].iloc[-1] for y in yearly])
        rel = np.where(first != 0, last / np.where(first != 0, first, 1.0) - 1.0, np.nan)
        out[name] = (first.mean(), last.mean(), rel)
    return out


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()
    started = time.perf_counter()
    table = changes(args.scale, args.replicates, args.seed)
    print(
        f"scale {args.scale}, {args.replicates} replicates, first vs last reported year "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print(f"{'output':38s} {'first':>14s} {'last':>14s} {'change':>8s} {'95% interval':>18s}")
    for name, (first, last, rel) in table.items():
        change = last / first - 1.0 if first else float("nan")
        n = np.isfinite(rel).sum()
        half = (
            stats.t.ppf(0.975, n - 1) * np.nanstd(rel, ddof=1) / np.sqrt(n) if n > 1 else np.nan
        )
        lo, hi = np.nanmean(rel) - half, np.nanmean(rel) + half
        verdict = "PASS" if abs(change) <= TOLERANCE else "FAIL"
        print(
            f"{name:38s} {first:14,.1f} {last:14,.1f} {change:+8.1%} "
            f"[{lo:+7.1%}, {hi:+7.1%}] {verdict}"
        )


if __name__ == "__main__":
    main()
