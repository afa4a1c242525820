"""What the warm-start cache saves: a policy sweep, and the full-scale baseline.

    python benchmarks/warm_start.py [--scale 0.05] [--workers 2] [--full-scale 1.0]

1. A sweep of 8 policy points x 2 replicates (scale 0.05, 120 reported months after the
   180-month warm-up), run three times: cold (``cache=False``: 16 warm-ups), from an empty
   cache (the sweep shares its 2 warm-ups: the first runs of each seed write them, every
   later run reads them) and from a full cache (no warm-up at all). The runs' outcomes are
   checked identical across the three.
2. The full-scale baseline (every real agent: scale 1.0, 120 months): the model built and
   run cold and from a warm cache, with the warm-up's share of the time.

Timings are on this machine's cores, shared with whatever else runs: the load average is
printed. The cache lives in a temporary folder, never the user's.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

SWEEP = """\
name: warm-start
base: base.yaml
design: factorial
replications: 2
seed: 1
levers:
  policy.corridors.GD-HK.data.approval: {values: [0.3, 0.9]}
  policy.corridors.GD-HK.samples.delay_days: {values: [20, 3]}
  research.grant_portability: {values: [0.0, 1.0]}
outcomes: [papers, pct_applications, vc_deals, data_transfers_cross_border]
"""


def _sweep(spec: Path, out: Path, workers: int, cache: bool) -> tuple[float, pd.DataFrame]:
    import flowsim

    start = time.perf_counter()
    result = flowsim.sweep(spec, workers=workers, out=out, progress=False, cache=cache)
    return time.perf_counter() - start, result.runs


def _full_scale(scale: float, steps: int, cache: Path | bool) -> tuple[float, float, str]:
    from flowsim.model import FlowModel
    from flowsim.params import Scenario

    start = time.perf_counter()
    model = FlowModel(Scenario(scale=scale, steps=steps), rng=1, cache=cache)
    built = time.perf_counter()
    while model.running:
        model.step()
    return built - start, time.perf_counter() - start, model.warm_start


def main() -> None:
    """Print the sweep's times cold and warm-started, then the full-scale baseline's."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05, help="the sweep's agent scale")
    parser.add_argument("--workers", type=int, default=2, help="the sweep's local workers")
    parser.add_argument("--full-scale", type=float, default=1.0, help="0 skips part 2")
    parser.add_argument("--steps", type=int, default=120, help="reported months")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        os.environ["FLOWSIM_CACHE"] = str(folder / "cache")  # the workers inherit it
        (folder / "base.yaml").write_text(
            f"name: bench\nscale: {args.scale}\nsteps: {args.steps}\n", encoding="utf-8"
        )
        spec = folder / "sweep.yaml"
        spec.write_text(SWEEP, encoding="utf-8")
        cold, runs_cold = _sweep(spec, folder / "cold", args.workers, cache=False)
        empty, runs_empty = _sweep(spec, folder / "empty", args.workers, cache=True)
        full, runs_full = _sweep(spec, folder / "full", args.workers, cache=True)
        columns = [c for c in runs_cold.columns if c not in ("wall_seconds", "worker")]
        for other in (runs_empty, runs_full):
            pd.testing.assert_frame_equal(runs_cold[columns], other[columns])
        n = len(runs_cold)
        print(
            f"1. sweep of {n} runs (8 policy points x 2 replicates), scale {args.scale}, "
            f"{args.steps} months, {args.workers} workers, {os.cpu_count()} cores"
        )
        print(f"   cold (a warm-up per run):        {cold:7.1f} s")
        print(f"   from an empty cache (2 warm-ups): {empty:7.1f} s  speed-up {cold / empty:.2f}x")
        print(f"   from a full cache (no warm-up):   {full:7.1f} s  speed-up {cold / full:.2f}x")
        print("   outcomes identical in all three")
        if args.full_scale > 0:
            cache = folder / "full-scale"
            build_cold, total_cold, _ = _full_scale(args.full_scale, args.steps, False)
            _full_scale(args.full_scale, 1, cache)  # writes the warm-up
            build_warm, total_warm, state = _full_scale(args.full_scale, args.steps, cache)
            assert state == "hit"
            size = sum(p.stat().st_size for p in cache.iterdir()) / 1e6
            print(
                f"2. baseline at scale {args.full_scale:g} ({args.steps} months): cold "
                f"{total_cold:.1f} s (build and warm-up {build_cold:.1f} s); from a warm cache "
                f"{total_warm:.1f} s (load {build_warm:.2f} s, entry {size:.0f} MB); "
                f"goal < 15 s: {'met' if total_warm < 15 else 'NOT met'}"
            )
    print(f"   load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
