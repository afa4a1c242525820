"""The baseline is of the right order against the brief's real figures (within a factor of 2).

A full-scale run (scale 1.0, 120 months) takes ~15 s, too slow for the suite, so this
runs scale 0.1 for 36 months after the default 60-month warm-up; outputs are in
real-world units (model counts divided by the scale), so the targets apply as they
are. The scale-1.0 figures are in README (section "The model") and docs/ODD.md.

Macao is not tested: its 22 PCT filings a year are ~2 agents' filings a year at
scale 0.1 (0.2 at 0.01), so a yearly figure at test scales is mostly Poisson noise;
the full-scale run gives ~14 a year (9-22), inside the factor of 2.
"""

from __future__ import annotations

from functools import cache

import pandas as pd
import pytest

from flowsim.params import Scenario
from flowsim.run import run

TARGETS: dict[str, tuple[float, str]] = {
    "pct_applications_GD": (23_676, "PCT applications received by CNIPA, Guangdong, 2023"),
    "pct_applications_HK": (727, "PCT applications received by CNIPA, Hong Kong, 2023"),
    "world_share_pct": (
        0.090,
        "Shenzhen-HK-Guangzhou cluster share of world PCT filings, GII 2025",
    ),
    "world_share_papers": (0.024, "cluster share of world scientific papers, GII 2025"),
    "world_share_vc_deals": (0.029, "cluster share of world VC deals, GII 2025"),
}
"""Output -> (real figure per year, source)."""

FACTOR = 2.0
CALIBRATION_RUN = {"scale": 0.1, "steps": 36, "seed": 20250904}


@cache
def _yearly() -> pd.DataFrame:
    scenario = Scenario(scale=CALIBRATION_RUN["scale"], steps=CALIBRATION_RUN["steps"])
    return run(scenario, seed=CALIBRATION_RUN["seed"]).yearly


@pytest.mark.parametrize("output", sorted(TARGETS))
def test_baseline_within_a_factor_of_two(output: str):
    target, source = TARGETS[output]
    model = float(_yearly()[output].mean())
    assert target / FACTOR <= model <= target * FACTOR, (
        f"{output}: baseline gives {model:,.4g} a year, the real figure is {target:,} ({source}); "
        f"it must stay within a factor of {FACTOR}"
    )


def test_every_simulated_year_is_in_range():
    yearly = _yearly()
    assert len(yearly) == 3 and (yearly["months"] == 12).all(), "36 months are 3 full years"
    for output, (target, _) in TARGETS.items():
        values = yearly[output]
        assert values.between(target / FACTOR, target * FACTOR).all(), (
            f"{output} leaves the factor-2 band in some year: "
            f"{values.round(4).tolist()} vs {target}"
        )
