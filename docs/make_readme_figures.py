"""Draw the README's figures: what a new user gets from the quick start, at a small scale.

Run from the repository root: ``python docs/make_readme_figures.py``. It runs the
default (baseline) scenario with ``flowsim.run`` at scale 0.005 for 36 months, three
replicates, and writes small PNGs to ``docs/img/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import flowsim
from flowsim.plots import plot_corridor_heatmap, plot_map, plot_timeseries
from flowsim.streams import replicate_seeds

OUT = Path(__file__).resolve().parent / "img"
SCALE, STEPS, REPLICATES, DPI = 0.005, 36, 3, 60


def main() -> None:
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


if __name__ == "__main__":
    main()
