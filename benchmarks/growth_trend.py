"""Baseline output growth per year, 2025-2034: the growing region against the stationary one.

    python benchmarks/growth_trend.py [--scale 0.02] [--seeds 2]

Runs the default baseline (growth on) and ``growth.enabled: false`` with common seeds and
prints, per output, the log-linear growth per year fitted over the ten reported years
(mean of the seeds) and each year's value, for researchers, papers, invention patents and
PCT applications. The real trends to compare with are in docs/growth.md.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

OUTPUTS = ("researchers", "papers", "invention_patents", "pct_applications", "commercialized")


def yearly_growth(values: np.ndarray) -> float:
    """Log-linear growth per year of a (replicates, years) array (mean over replicates)."""
    years = np.arange(values.shape[1])
    slopes = [np.polyfit(years, np.log(np.maximum(v, 1e-9)), 1)[0] for v in values]
    return float(np.exp(np.mean(slopes)) - 1.0)


def main() -> None:
    """Run both regions and print each output's growth per year and yearly values."""
    from flowsim.run import run

    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.02)
    ap.add_argument("--seeds", type=int, default=2)
    args = ap.parse_args()
    for enabled in (True, False):
        start = time.perf_counter()
        runs = [
            run(
                seed=11 + s,
                overrides={"scale": args.scale, "growth.enabled": enabled},
                cache=False,
            ).yearly
            for s in range(args.seeds)
        ]
        label = "growing" if enabled else "stationary"
        took = time.perf_counter() - start
        print(f"== {label} (scale {args.scale}, {args.seeds} seeds, {took:.0f} s)")
        for name in OUTPUTS:
            values = np.stack([y[name].to_numpy(float) for y in runs])
            series = " ".join(f"{v:9.0f}" for v in values.mean(axis=0))
            print(f"{name:20s} {yearly_growth(values):+7.1%}/yr  {series}")


if __name__ == "__main__":
    main()
