"""Is the baseline stationary? The ten-year drift of every stock and headline counter.

Runs the default scenario (or it with ``--set`` overrides) for several replicates and
prints, per gauge of :data:`flowsim.outputs.GAUGES` and per headline annual counter,
the first and last reported year's value (mean over replicates) and the **drift**: the
change over the nine years from the first to the last reported year implied by a
log-linear trend fitted to every replicate's yearly values (one slope, replicate
intercepts), with its 95% interval, and PASS/FAIL against +-5% (issue 10: "every stock
stays within +-5% over the ten reported years"). The trend uses all ten years, so one
lumpy year (a large fund raised in the last year) does not decide the verdict the way a
first-vs-last comparison would. Cumulative totals (capital raised, written off,
realised) are running sums, not stocks that can settle; their flows (funds_raised,
vc_written_off, vc_realised) are listed instead.

    python benchmarks/stationarity.py [--scale 0.1] [--replicates 8] [--seed 100]
                                      [--set warmup_steps=120] [--workers 2]
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import yaml
from tqdm import tqdm

from flowsim.outputs import GAUGES
from flowsim.trend import drift

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


def measured() -> tuple[str, ...]:
    """The outputs checked: gauges that are stocks, headline counters, the capital flows."""
    gauges = tuple(g for g in GAUGES if g not in CUMULATIVE)
    return gauges + HEADLINE + FLOWS


def yearly(args: tuple[float, int, dict]) -> dict[str, np.ndarray]:
    """One replicate's yearly values of every measured output."""
    from flowsim.params import Scenario
    from flowsim.run import run

    scale, seed, overrides = args
    # the stationary option (issue 18: the default region grows); --set growth.enabled=true
    # measures the growing one
    overrides = {"growth.enabled": False, **overrides}
    y = run(Scenario(), seed=seed, overrides={"scale": scale, **overrides}).yearly
    return {name: y[name].to_numpy(dtype=np.float64) for name in measured()}


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--replicates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key] = yaml.safe_load(value)
    started = time.perf_counter()
    jobs = [(args.scale, args.seed + r, overrides) for r in range(args.replicates)]
    with ProcessPoolExecutor(args.workers) as pool:
        runs = list(tqdm(pool.map(yearly, jobs), total=len(jobs), desc="replicates"))
    print(
        f"scale {args.scale}, {args.replicates} replicates, overrides {overrides or 'none'} "
        f"({time.perf_counter() - started:.0f} s); drift = 9-year change of a log-linear trend"
    )
    print(f"{'output':38s} {'first':>14s} {'last':>14s} {'drift':>8s} {'95% interval':>18s}")
    failed = 0
    for name in measured():
        values = np.stack([r[name] for r in runs])
        change, lo, hi = drift(values)
        ok = np.isfinite(change) and abs(change) <= TOLERANCE
        failed += not ok
        print(
            f"{name:38s} {values[:, 0].mean():14,.1f} {values[:, -1].mean():14,.1f} "
            f"{change:+8.1%} [{lo:+7.1%}, {hi:+7.1%}] {'PASS' if ok else 'FAIL'}"
        )
    print(f"{failed} of {len(measured())} outside +-{TOLERANCE:.0%}")


if __name__ == "__main__":
    main()
