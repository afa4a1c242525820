"""Start-up cost of the ``flowsim`` command: wall time and CPU time of a fresh process.

    python benchmarks/startup_time.py               # --help and validate, 5 runs each
    python benchmarks/startup_time.py --repeat 10

CPU time (user + system, from the child's resource usage) is the figure to compare
across machines and loads; wall time also counts waiting for a busy CPU or disk.
Prints the median and the range of each.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("FLOWSIM_CACHE", "off")  # time every warm-up (flowsim.warmstart)

ROOT = Path(__file__).resolve().parents[1]

COMMANDS: dict[str, list[str]] = {
    "flowsim --help": ["--help"],
    "flowsim validate scenarios/baseline.yaml": ["validate", str(ROOT / "scenarios/baseline.yaml")],
}


def measure(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``python -m flowsim.cli ARGS`` in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flowsim.cli", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Measure each command ``--repeat`` times and print median and range."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    for name, argv in COMMANDS.items():
        measure(argv)  # warm the file cache
        walls, cpus = zip(*(measure(argv) for _ in range(args.repeat)), strict=True)
        print(
            f"{name:<44} wall {statistics.median(walls):.2f} s "
            f"({min(walls):.2f}-{max(walls):.2f}), CPU {statistics.median(cpus):.2f} s "
            f"({min(cpus):.2f}-{max(cpus):.2f})"
        )


if __name__ == "__main__":
    main()
