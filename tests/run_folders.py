"""Test helpers: real runs written as run and sweep folders in the agreed formats.

These stand in for ``flowsim run`` / ``flowsim sweep`` so the figure and comparison
tests use real model output without depending on how those commands write files.
The formats are the ones the results and sweep modules write: see
``flowsim.folders`` for the files read.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import flowsim
from flowsim.results import write_run
from flowsim.streams import replicate_seeds

TINY = {"scale": 0.003, "steps": 18, "warmup_steps": 24}
"""A run small enough for tests (about 0.1 s), big enough to have flows on every corridor."""


POLICY: dict[str, float] = {
    "policy.corridors.GD-HK.data.approval": 0.95,
    "policy.corridors.GD-HK.data.delay_days": 5.0,
}
"""A policy that changes GD-HK data flows a lot: most requests approved within days."""


def tiny_scenario(name: str = "baseline", **overrides: object) -> flowsim.Scenario:
    """The default scenario at test size, with dotted-path overrides."""
    return flowsim.with_overrides(flowsim.Scenario(name=name, **TINY), overrides)


def run_replicates(scenario: flowsim.Scenario, replications: int = 3) -> list[flowsim.RunResult]:
    """Replicates with seeds spawned from the scenario's root seed (common across scenarios)."""
    return [flowsim.run(scenario, seed) for seed in replicate_seeds(scenario.seed, replications)]


def write_run_folder(results: list[flowsim.RunResult], folder: Path) -> Path:
    """Write replicates as a run folder, exactly as ``flowsim run`` does."""
    return write_run(results, results[0].scenario, folder)


SWEEP_LEVERS: dict[str, tuple[float, float]] = {
    "policy.corridors.GD-HK.data.approval": (0.1, 1.0),
    "policy.corridors.GD-HK.samples.delay_days": (2.0, 30.0),
}
"""Two levers a tiny sweep varies."""

SWEEP_OUTCOMES: tuple[str, ...] = ("commercialized", "papers", "vc_deals")
"""Outcomes a tiny sweep records (mean per year over the run)."""


def write_sweep_folder(folder: Path, points: int = 6, replications: int = 2) -> Path:
    """A small random-design sweep of real runs written as a sweep folder, with a sensitivity table.

    One extra run failed (its ``error`` is set, its outcomes are NaN). The sensitivity table
    has the Sobol layout: S1 is the squared correlation of lever and outcome across the runs
    (a crude first-order index), and the ``_conf`` columns are known numbers that the
    tests compare with the drawn error bars.
    """
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    seeds = replicate_seeds(11, replications)
    rows = []
    for point in range(points):
        values = {path: float(rng.uniform(low, high)) for path, (low, high) in SWEEP_LEVERS.items()}
        scenario = flowsim.with_overrides(tiny_scenario("sweep-point"), values | {"steps": 12})
        for replicate, seed in enumerate(seeds):
            result = flowsim.run(scenario, seed)
            outcomes = {name: float(result.yearly[name].mean()) for name in SWEEP_OUTCOMES}
            rows.append(
                {
                    "run_id": point * replications + replicate,
                    "point_id": point,
                    "replicate": replicate,
                    "seed": seed,
                    **values,
                    **outcomes,
                    "error": None,
                }
            )
    runs = pd.DataFrame(rows)
    runs.loc[len(runs)] = {
        **runs.iloc[0].to_dict(),
        "run_id": len(runs),
        **dict.fromkeys(SWEEP_OUTCOMES, np.nan),
        "error": "ValueError: injected failure",
    }
    runs.to_parquet(folder / "runs.parquet")
    manifest = {
        "kind": "sweep",
        "design": "monte_carlo",
        "levers": list(SWEEP_LEVERS),
        "outcomes": list(SWEEP_OUTCOMES),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    sensitivity = []
    for outcome in SWEEP_OUTCOMES:
        for parameter in SWEEP_LEVERS:
            r = np.corrcoef(runs[parameter][:-1], runs[outcome][:-1])[0, 1]
            s1 = float(np.nan_to_num(r) ** 2)
            sensitivity.append(
                {
                    "outcome": outcome,
                    "parameter": parameter,
                    "S1": s1,
                    "S1_conf": 0.1 + s1 / 4,
                    "ST": min(1.0, s1 + 0.05),
                    "ST_conf": 0.08,
                }
            )
    pd.DataFrame(sensitivity).to_csv(folder / "sensitivity.csv", index=False)
    return folder


# Fixtures shared by the figure and comparison tests: import them into a test module.


@pytest.fixture(scope="session")
def baseline_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of the baseline at test size, 3 replicates."""
    root = tmp_path_factory.mktemp("runs")
    return write_run_folder(run_replicates(tiny_scenario("baseline")), root / "baseline")


@pytest.fixture(scope="session")
def policy_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder of a data-sandbox-like policy (GD-HK data approved, fast), 3 replicates."""
    scenario = tiny_scenario("data_sandbox", **POLICY)
    return write_run_folder(
        run_replicates(scenario), tmp_path_factory.mktemp("runs") / "data_sandbox"
    )


@pytest.fixture(scope="session")
def sweep_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sweep folder of 6 points x 2 replicates, one failed run, and a sensitivity table."""
    return write_sweep_folder(tmp_path_factory.mktemp("sweeps") / "sweep")
