"""How fast, and in how little memory, hostile input files are refused (issue 13).

Each file is loaded in a fresh process (``flowsim.scenario.load_scenario``); the script
prints the time to the refusal, the process's peak memory, and the first line of the
message. Before the input limits, the 1 kB alias bomb took minutes and 7.5 GB, the
50 MB file 452 s and 7.4 GB, ``/dev/zero`` ran out of memory and a FIFO blocked forever.

    python benchmarks/hostile_inputs.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MALFORMED = Path(__file__).resolve().parents[1] / "tests" / "malformed"

PROBE = """
import json, resource, sys, time
from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError
start = time.perf_counter()
try:
    load_scenario(sys.argv[1])
    message = "loaded"
except ConfigError as err:
    message = str(err.problems[0]).splitlines()[0]
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "message": message}))
"""


def measure(path: str) -> dict:
    """Time and peak memory of loading ``path`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, path], capture_output=True, text=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print one line per hostile input."""
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.yaml"
        with big.open("wb") as handle:
            handle.write(b"name: big\n#" + b"x" * 50_000_000 + b"\n")
        fifo = Path(tmp) / "fifo.yaml"
        os.mkfifo(fifo)
        baseline = measure(str(MALFORMED.parent.parent / "scenarios" / "baseline.yaml"))
        cases = {
            "baseline.yaml (a valid scenario, for reference)": None,
            "alias bomb (1 kB)": MALFORMED / "alias_bomb.yaml",
            "alias bomb with merge keys": MALFORMED / "alias_bomb_merge.yaml",
            "3000-deep nesting": MALFORMED / "deep_nesting.yaml",
            "100-deep nesting": MALFORMED / "nesting_100.yaml",
            "50 MB file": big,
            "FIFO": fifo,
            "/dev/zero": Path("/dev/zero"),
            "extends: /dev/zero": MALFORMED / "extends_dev_zero.yaml",
        }
        print(f"{'input':48s} {'refused in':>11s} {'peak memory':>12s}  message")
        for label, path in cases.items():
            row = baseline if path is None else measure(str(path))
            print(
                f"{label:48s} {row['seconds'] * 1000:8.1f} ms {row['peak_mb']:9.0f} MB  "
                f"{row['message'][:70]}"
            )
        print("(peak memory is the whole process: Python, numpy, pandas and pydantic included)")


if __name__ == "__main__":
    main()
