"""Measure what the default scale should be: run-to-run spread and agents per lever.

For each scale, prints (1) the agents that the scenario levers act on (zone members,
investors by type and jurisdiction) and (2) the coefficient of variation across
replicates of the headline outputs' annual means, and the time per run.

    python benchmarks/default_scale.py [--scales 0.01,0.02,0.05,0.1] [--replicates 8]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from flowsim.assembly import build_world
from flowsim.levers import agents_by_group
from flowsim.params import Scenario
from flowsim.run import run
from flowsim.streams import replicate_seeds
from flowsim.tables import annual_mean

HEADLINE = ("papers", "pct_applications", "startups", "vc_deals", "commercialized")


def main() -> None:
    """Print the table for each scale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.01,0.02,0.05,0.1")
    parser.add_argument("--replicates", type=int, default=8)
    args = parser.parse_args()
    for scale in (float(s) for s in args.scales.split(",")):
        scenario = Scenario(scale=scale)
        groups = agents_by_group(build_world(scenario, scenario.seed))
        print(f"\n== scale {scale}")
        print("agents a lever acts on:")
        for name, count in groups.items():
            print(f"  {name:40s} {count:8d}")
        means = {k: [] for k in HEADLINE}
        started = time.perf_counter()
        for seed in replicate_seeds(scenario.seed, args.replicates):
            result = run(scenario, seed)
            am = annual_mean([result])
            for k in HEADLINE:
                means[k].append(am[k])
        per_run = (time.perf_counter() - started) / args.replicates
        print(f"run-to-run spread over {args.replicates} replicates ({per_run:.2f} s per run):")
        for k in HEADLINE:
            v = np.asarray(means[k])
            print(f"  {k:20s} mean {v.mean():12,.0f}   CV {v.std(ddof=1) / v.mean():6.2%}")


if __name__ == "__main__":
    main()
