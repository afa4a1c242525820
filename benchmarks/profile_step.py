"""Profile FlowModel steps to find the hot spots (cProfile, sorted by own time).

Builds the baseline at a given scale, runs the warm-up outside the profile, then
profiles ``--steps`` monthly steps and prints the functions that cost the most.

    python benchmarks/profile_step.py --scale 1.0 --steps 24
    python benchmarks/profile_step.py --scale 0.1 --steps 60 --sort cumulative --top 40
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import time

from flowsim.model import FlowModel
from flowsim.params import Scenario

os.environ.setdefault("FLOWSIM_CACHE", "off")  # time every warm-up (flowsim.warmstart)


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, profile the steps, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="agents per real entity (default 1.0)"
    )
    parser.add_argument(
        "--steps", type=int, default=24, help="monthly steps to profile (default 24)"
    )
    parser.add_argument("--seed", type=int, default=1, help="run seed (default 1)")
    parser.add_argument(
        "--sort", default="tottime", choices=("tottime", "cumulative"), help="sort key"
    )
    parser.add_argument("--top", type=int, default=30, help="rows to print (default 30)")
    parser.add_argument(
        "--setup", action="store_true", help="profile set-up and warm-up instead of steps"
    )
    args = parser.parse_args(argv)

    scenario = Scenario(scale=args.scale, steps=args.steps)
    profiler = cProfile.Profile()
    start = time.perf_counter()
    if args.setup:
        profiler.enable()
    model = FlowModel(scenario, rng=args.seed)
    if args.setup:
        profiler.disable()
    built = time.perf_counter()
    if not args.setup:
        profiler.enable()
        while model.running:
            model.step()
        profiler.disable()
    done = time.perf_counter()
    print(
        f"scale {args.scale}: {model.n_agents:,} agents, set-up {built - start:.2f} s, "
        f"{args.steps} steps {done - built:.2f} s (profiling overhead included)"
    )
    pstats.Stats(profiler).strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
