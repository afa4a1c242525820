"""Speed-up of a sweep on 2 local Dask workers over 1 (in-process) worker.

Runs the same factorial sweep (48 runs of the default-length scenario) with
``workers=1`` and ``workers=2``, checks the results are identical and prints the
wall times and the speed-up (target: at least 1.7x on a machine with 2 free
cores). The 2-worker time includes starting and stopping the local cluster, as a
user would see it; the start-up is also timed on its own and the speed-up without
it printed. Other jobs on the machine lower the speed-up: the load average is printed.

    python benchmarks/sweep_speedup.py [--scale 0.05] [--steps 120] [--replications 4]

The default scale is 0.05 (about 0.65 s a run here): at scale 0.02 a run takes about
0.5 s, and the ~1.5 s it takes to start two worker processes weighs on a 48-run sweep.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import pandas as pd

import flowsim
from flowsim.sweep.executor import dask_client

os.environ.setdefault("FLOWSIM_CACHE", "off")  # time every warm-up (flowsim.warmstart)

SWEEP = """\
name: speedup
base: base.yaml
design: factorial
replications: {replications}
seed: 1
levers:
  policy.corridors.GD-HK.data.approval: {{values: [0.3, 0.6, 0.9]}}
  policy.corridors.GD-HK.samples.delay_days: {{values: [20, 3]}}
  research.grant_portability: {{values: [0.0, 1.0]}}
outcomes: [papers, pct_applications, vc_deals, gii_cluster_score]
"""


def main() -> None:
    """Time the sweep with 1 and 2 workers and print the speed-up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument(
        "--replications", type=int, default=4, help="runs = 12 x replications (default 48)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "base.yaml").write_text(
            f"name: bench\nscale: {args.scale}\nsteps: {args.steps}\n"
        )
        spec = folder / "sweep.yaml"
        spec.write_text(SWEEP.format(replications=args.replications))
        times = {}
        results = {}
        for workers in (1, 2):
            start = time.perf_counter()
            results[workers] = flowsim.sweep(
                spec, workers=workers, out=folder / f"w{workers}", progress=False
            )
            times[workers] = time.perf_counter() - start
        pd.testing.assert_frame_equal(results[1].runs, results[2].runs)
        runs = len(results[1].runs)
    start = time.perf_counter()
    with dask_client(2):
        pass
    startup = time.perf_counter() - start
    print(f"sweep of {runs} runs (scale {args.scale}, {args.steps} months), {os.cpu_count()} cores")
    print(f"  1 worker (in process): {times[1]:7.2f} s  ({times[1] / runs * 1000:.0f} ms a run)")
    print(
        f"  2 workers (local Dask): {times[2]:7.2f} s  "
        f"(cluster start and stop included: {startup:.2f} s)"
    )
    print(
        f"  speed-up: {times[1] / times[2]:.2f}x (target >= 1.7x); without cluster start-up: "
        f"{times[1] / (times[2] - startup):.2f}x; results identical"
    )
    print(
        f"  load average at the end: {os.getloadavg()[0]:.2f} "
        "(other jobs on the machine slow the 2-worker run)"
    )


if __name__ == "__main__":
    main()
