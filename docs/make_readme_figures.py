"""Draw the README's figures: what a new user gets from the quick start, at a small scale.

Run from the repository root: ``python docs/make_readme_figures.py [quickstart]
[discover]`` (default: both). ``quickstart`` runs the default (baseline) scenario with
``flowsim.run`` at the default scale (0.1) for the default 120 months with two
replicates, as ``bash scripts/quickstart.sh`` does; ``discover`` runs the
shipped policy sweep (``scenarios/sweeps/policy_comparison.yaml``, 60 runs at the
baseline's scale, a few minutes on 2 cores) and draws the box ``flowsim discover`` finds
for a cross-border collaboration share above 2%. Small PNGs go to ``docs/img/``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

import flowsim
from flowsim.plots import plot_corridor_heatmap, plot_map, plot_timeseries
from flowsim.streams import replicate_seeds

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "img"
SCALE, STEPS, REPLICATES, DPI = 0.1, 120, 2, 60


DISCOVER = {"outcome": "cross_border_collaboration_share", "threshold": 0.009}
"""The README's discovered policy box: where the share of cross-border projects exceeds 0.9%."""


def discover_figure() -> None:
    """Run the shipped policy sweep, find the box with PRIM, print it and draw it."""
    from flowsim.discover import discover, discovery_figure, format_discovery

    with tempfile.TemporaryDirectory() as tmp:
        result = flowsim.sweep(
            ROOT / "scenarios" / "sweeps" / "policy_comparison.yaml",
            out=Path(tmp) / "policy-comparison",
            workers=2,
        )
        found = discover(result.path, DISCOVER["outcome"], DISCOVER["threshold"])
        print(format_discovery(found))
        runs = result.runs
        for lever in found.restricted["parameter"]:
            means = runs.groupby(lever)[DISCOVER["outcome"]].agg(["mean", "min", "max"])
            print(f"{DISCOVER['outcome']} by {lever}:\n{means}")
        figure = discovery_figure(found)
        figure.savefig(OUT / "discover_policy.png", dpi=72, bbox_inches="tight")
        print(OUT / "discover_policy.png")


def quickstart_figures() -> None:
    """Run the baseline and write the three quick-start figures."""
    scenario = flowsim.Scenario(scale=SCALE, steps=STEPS)
    results = [flowsim.run(scenario, seed) for seed in replicate_seeds(scenario.seed, REPLICATES)]
    timeseries = pd.concat(
        [r.timeseries.assign(replicate=k) for k, r in enumerate(results)], ignore_index=True
    )
    flows = pd.concat(
        [r.flows.assign(replicate=k) for k, r in enumerate(results)], ignore_index=True
    )
    OUT.mkdir(parents=True, exist_ok=True)
    figures = {
        "quickstart_timeseries.png": plot_timeseries(
            timeseries, title="baseline: outputs over time"
        ),
        "quickstart_map.png": plot_map(flows, STEPS, title="baseline: cross-border flows"),
        "quickstart_corridors.png": plot_corridor_heatmap(
            flows, STEPS, title="baseline: border crossings"
        ),
    }
    for name, figure in figures.items():
        figure.savefig(OUT / name, dpi=DPI)
        print(OUT / name)


def main(which: list[str]) -> None:
    """Draw the figures asked for (``quickstart``, ``discover``; default both)."""
    for name in which or ["quickstart", "discover"]:
        {"quickstart": quickstart_figures, "discover": discover_figure}[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
