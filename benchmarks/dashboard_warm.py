"""The dashboard's answer time after changing one lever: cold warm-ups against the warm start.

    python benchmarks/dashboard_warm.py [--scale 0.1] [--replications 3]

What a dashboard user does: the page has run the baseline (its reference, kept in the
page's memory) and the user moves one lever and presses Run. The script times that second
press through the dashboard's own runner (:func:`flowsim.dashboard.runner.run_pair`),
twice: with every warm-up run again (``FLOWSIM_CACHE=off``, as before the warm-start cache)
and from the warm-start cache, which the first press filled. The results are checked
identical. Issue 19's goal: well under 10 s at the default scale with 3 replicates.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time


def _press(scale: float, replications: int, cache_folder: str) -> tuple[float, float, list]:
    from flowsim.dashboard.runner import RunCache, run_pair
    from flowsim.params import Scenario, with_overrides

    os.environ["FLOWSIM_CACHE"] = cache_folder
    memory = RunCache()
    baseline = Scenario(scale=scale)
    start = time.perf_counter()
    run_pair(baseline, baseline, replications, cache=memory)  # the page's first run
    first = time.perf_counter() - start
    lever = with_overrides(baseline, {"policy.corridors.GD-HK.data.approval": 0.8})
    start = time.perf_counter()
    pair = run_pair(lever, baseline, replications, cache=memory)
    second = time.perf_counter() - start
    assert pair.cached == (False, True), pair.cached
    return first, second, [r.timeseries for r in pair.current]


def main() -> None:
    """Print the second press's time cold and warm-started."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--replications", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        first_cold, cold, a = _press(args.scale, args.replications, "off")
        first_warm, warm, b = _press(args.scale, args.replications, tmp)
    for x, y in zip(a, b, strict=True):
        assert x.equals(y), "the warm start changed a result"
    print(
        f"dashboard, scale {args.scale}, {args.replications} replicates, one lever changed "
        f"(GD-HK data approval 0.3 -> 0.8), {os.cpu_count()} cores:"
    )
    print(
        f"  first press (reference and current): {first_cold:.1f} s cold, {first_warm:.1f} s "
        "filling the cache"
    )
    print(
        f"  the press after a lever change: cold {cold:.1f} s, warm-started {warm:.1f} s "
        f"({cold / warm:.1f}x); goal well under 10 s: {'met' if warm < 10 else 'NOT met'}"
    )
    print("  results identical")
    print(f"  load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
