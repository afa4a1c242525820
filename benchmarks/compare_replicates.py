"""How many replicates a first answer needs: the MDE of a paired comparison at scale 0.1.

Runs the baseline and a policy on the same replicate seeds, takes each headline
output's whole-run value per replicate (as ``flowsim compare`` does), and prints the
standard deviation of the paired differences and the minimum detectable effect
(80% power, two-sided alpha 0.05, paired t; :mod:`flowsim.replication`) in percent of
the baseline mean for 2, 3, 5, 8, ... pairs, extrapolated from the measured sd.

    PYTHONPATH=src python benchmarks/compare_replicates.py --replicates 10

It prints figures; it asserts nothing. About 8 s per run at scale 0.1 and 120 months
on one core, so 10 replicates of two scenarios take about 3 minutes.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from flowsim.compare import whole_run
from flowsim.numbers import format_number
from flowsim.replication import minimum_detectable_effect
from flowsim.run import run, stack_replicates
from flowsim.scenario import load_scenario
from flowsim.streams import replicate_seeds

HEADLINE = ("papers", "invention_patents", "pct_applications", "startups", "commercialized")
SHOWN_N = (2, 3, 5, 8, 10, 12, 16, 20, 30)


def main() -> int:
    """Run, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=10)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--policy", default="scenarios/data_sandbox.yaml")
    args = parser.parse_args()
    overrides = {"scale": args.scale, "steps": args.steps}
    base = load_scenario("scenarios/baseline.yaml", overrides=overrides)
    policy = load_scenario(args.policy, overrides=overrides)
    seeds = replicate_seeds(base.seed, args.replicates)
    values = {}
    started = time.perf_counter()
    for scenario in (base, policy):
        results = []
        for k, seed in enumerate(seeds):
            results.append(run(scenario, seed))
            print(
                f"{scenario.name} replicate {k + 1}/{len(seeds)} "
                f"({time.perf_counter() - started:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        values[scenario.name] = whole_run(stack_replicates(results, "yearly"), HEADLINE)
    a, b = values[base.name], values[policy.name]
    print(
        f"scale {args.scale:g}, {args.steps} months, {args.replicates} replicates of "
        f"{base.name} and {policy.name} on the same seeds "
        f"({time.perf_counter() - started:.0f} s)"
    )
    print("MDE (80% power, alpha 0.05, paired t) in % of the baseline mean, from the measured sd:")
    print(
        f"{'output':<20} {'mean':>10} {'effect %':>9} {'sd diff %':>9} "
        + " ".join(f"{'n=' + str(n):>6}" for n in SHOWN_N)
    )
    for output in HEADLINE:
        d = (b[output] - a[output]).to_numpy(dtype=np.float64)
        mean = float(a[output].mean())
        sd = float(d.std(ddof=1))
        mdes = [100 * minimum_detectable_effect(sd, n) / mean for n in SHOWN_N]
        print(
            f"{output:<20} {format_number(mean):>10} {100 * d.mean() / mean:>+9.2f} "
            f"{100 * sd / mean:>9.2f} " + " ".join(f"{m:>6.1f}" for m in mdes)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
