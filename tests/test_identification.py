"""Identification: recover known parameters, assumption parameters included, from model targets.

Targets are made by the model itself at known values of nine parameters (the truth);
`flowsim calibrate` with ``search.method: abc`` then draws 80 parameter sets from the
priors (one replicate each, common seed, scale 0.01, 24 warm-up and 12 reported months),
and its report's one wave of history matching (:mod:`flowsim.calibration.history`: an
additive quadratic emulator per target, implausibility cutoff 3; ``history_match.csv``)
keeps the sets that the targets do not rule out. The test asserts that each parameter's
95% interval over those sets covers its true value, and that for the five identified
parameters the interval is at least :data:`NARROWING` times narrower than the prior (log
scale for log-uniform priors).

Targets are chosen to respond strongly to one parameter each: ratios (PCT filings per
invention patent, substituted data requests per request, cross-border moves and visits
per move and visit, VC deals per screened-out start-up) so that the number of projects
cancels, and the knowledge gauges.

**Not identified at this scale, said openly** (asserted to cover the truth only; measured
narrowing ~1.04-1.14): ``knowledge.outside_jurisdiction`` (the share of knowledge learned
across a border saturates in it), ``capital.screening_base``,
``research.samples_quality_factor.HK`` (sample
substitution at scale 0.01 is a few dozen requests a year) and
``research.substitution_elasticity`` (it scales every project's output by a quality ratio
that is close to 1 for most projects; no output here isolates it). Their intervals are
nearly their priors: a calibration on these targets leaves them to their priors, and an
ensemble must carry that uncertainty.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from flowsim.calibration.fit import TargetModel, calibrate, finish, read_log
from flowsim.calibration.history import history_match, implausibility, unit_coordinates
from flowsim.calibration.targets import load_targets
from flowsim.streams import replicate_seeds

ROOT = Path(__file__).resolve().parents[1]

PRIORS = {
    "research.pct_prob.GD": {"low": 0.05, "high": 0.15},
    "knowledge.elasticity": {"low": 0.05, "high": 0.4},
    "knowledge.outside_jurisdiction": {"low": 0.1, "high": 0.8},
    "research.data_quality_factor.HK": {"low": 0.5, "high": 2.0, "log": True},
    "research.samples_quality_factor.HK": {"low": 0.5, "high": 2.0, "log": True},
    "deterrence.talent.border_effect": {"low": 0.2, "high": 0.9},
    "capital.screening_base": {"low": 0.2, "high": 0.6},
    "research.substitution_elasticity": {"low": 0.3, "high": 3.0, "log": True},
    "open_region.talent_factor": {"low": 0.5, "high": 2.0, "log": True},
}
TRUTH = {
    "research.pct_prob.GD": 0.09,
    "knowledge.elasticity": 0.25,
    "knowledge.outside_jurisdiction": 0.4,
    "research.data_quality_factor.HK": 1.3,
    "research.samples_quality_factor.HK": 0.8,
    "deterrence.talent.border_effect": 0.6,
    "capital.screening_base": 0.35,
    "research.substitution_elasticity": 1.2,
    "open_region.talent_factor": 1.4,
}
IDENTIFIED = (
    "research.pct_prob.GD",
    "knowledge.elasticity",
    "research.data_quality_factor.HK",
    "deterrence.talent.border_effect",
    "open_region.talent_factor",
)
NOT_IDENTIFIED = (
    "knowledge.outside_jurisdiction",
    "capital.screening_base",
    "research.samples_quality_factor.HK",
    "research.substitution_elasticity",
)
"""With the exchange of researchers with CN and ROW (2026-12-05, later): the exchange's own
factor narrows 5.0x (departures per move), pct_prob.GD 1.28x, outside_jurisdiction only
1.06x and screening_base 1.08x. On the model with named anchors, Hong Kong's research weight
and the survival hazard (2026-12-05): outside_jurisdiction narrowed 1.23x, screening_base
only 1.10x (before those changes it was the other way round: 1.16x and 1.28x). Both sit near
the threshold; targets
that move either one more (a start-up or VC count by city; co-publication across the
border) would settle them."""
NARROWING = 1.2
"""Least ratio of the prior's width to the 95% interval's for an identified parameter."""

TARGETS = [
    ("pct_per_patent", "pct_applications", {"jurisdiction": "GD", "statistic": "share",
                                            "of": {"output": "invention_patents",
                                                   "jurisdiction": "GD"}}),
    ("knowledge_productivity", "knowledge_productivity", {}),
    ("knowledge_across_border", "knowledge_outside_jurisdiction_share", {}),
    ("data_substituted_share", "data_substituted",
     {"statistic": "share", "of": {"output": "data_requests"}}),
    ("samples_substituted_share", "samples_substituted",
     {"statistic": "share", "of": {"output": "samples_requests"}}),
    ("moves_cross_border_share", "researcher_moves_cross_border",
     {"statistic": "share", "of": {"output": "researcher_moves"}}),
    ("visits_cross_border_share", "visits_cross_border",
     {"statistic": "share", "of": {"output": "visits"}}),
    ("vc_deals_per_screened_out", "vc_deals",
     {"statistic": "share", "of": {"output": "vc_screened_out"}}),
    ("departures_per_move", "researcher_departures",
     {"statistic": "share", "of": {"output": "researcher_moves"}}),
    ("papers_per_project", "papers",
     {"statistic": "share", "of": {"output": "projects_completed"}}),
]  # fmt: skip
BUDGET = 80
SEED = 5


def _spec() -> dict:
    return {
        "name": "identification-v3",
        "scenario": str(ROOT / "scenarios" / "baseline.yaml"),
        "run": {"scale": 0.01, "steps": 12, "start_year": 2022, "warmup_steps": 24},
        "replicates": 1,
        "seed": SEED,
        "free": PRIORS,
        "search": {"budget": BUDGET, "ensemble": 5, "method": "abc"},
        "targets": [
            {
                "id": tid,
                "output": output,
                "year": 2022,
                "value": 1.0,
                "tolerance": 0.02,
                "source": "the model at TRUTH",
                "role": "calibration",
                "reason": "identification",
                **selection,
            }
            for tid, output, selection in TARGETS
        ],
    }


@pytest.fixture(scope="module")
def matched(tmp_path_factory):
    folder = tmp_path_factory.mktemp("identification")
    path = folder / "targets.yaml"
    spec = _spec()
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    probe = load_targets(path)
    model = TargetModel(probe.base_scenario(), tuple(probe.spec.targets))
    (seed,) = replicate_seeds(SEED, 1)
    truth, _ = model(TRUTH, seed)
    for t in spec["targets"]:
        t["value"] = truth[t["id"]]
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    targets = load_targets(path)
    calibrate(path, folder / "out", workers=1, progress=False)
    outcome = finish(path, folder / "out")  # `flowsim calibrate`'s reports: one wave of HM
    assert outcome.history is not None, outcome.history_note
    assert "HISTORY MATCHING" in outcome.text()
    trials = read_log(folder / "out")
    calib = targets.spec.of_role("calibration")
    match = history_match(trials, calib, targets.spec.free, seed=SEED)
    table = outcome.history.copy()
    assert table.equals(match.intervals(targets.spec.free)), "the report is this wave"
    table["true"] = [TRUTH[name] for name in table["parameter"]]
    table["covered"] = (table["low"] <= table["true"]) & (table["true"] <= table["high"])
    return targets, match, table.set_index("parameter")


def test_the_wave_is_the_abc_draws_and_the_truth_is_not_ruled_out(matched):
    targets, match, _ = matched
    calib = targets.spec.of_role("calibration")
    worst = implausibility(
        match.emulators, calib, unit_coordinates(pd.DataFrame([TRUTH]), targets.spec.free)
    ).max()
    assert worst <= 3.0, f"the true set is ruled out (largest implausibility {worst:.2f})"
    assert 0.001 < match.share < 0.5, (
        f"the targets rule out {1 - match.share:.1%} of the prior: neither nothing nor all"
    )


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_every_95_percent_interval_covers_the_true_value(matched, name):
    _, _, table = matched
    row = table.loc[name]
    assert row["covered"], (
        f"{name}: the 95% interval {row['low']:.4g}-{row['high']:.4g} of the sets not ruled "
        f"out misses the true value {row['true']}\n{table.to_string()}"
    )


@pytest.mark.parametrize("name", IDENTIFIED)
def test_identified_parameters_are_narrowed_from_their_priors(matched, name):
    _, _, table = matched
    row = table.loc[name]
    assert row["narrowing"] >= NARROWING, (
        f"{name} is not identified: its 95% interval {row['low']:.4g}-{row['high']:.4g} is "
        f"only {row['narrowing']:.2f}x narrower than the prior {row['prior_low']}-"
        f"{row['prior_high']} (needed {NARROWING}x)\n{table.to_string()}"
    )


def test_the_parameters_not_identified_are_reported_as_such(matched, capsys):
    """Says openly which parameters these targets leave to their priors.

    Fails when one of them becomes identified (narrowed by NARROWING or more): then move it
    to IDENTIFIED, where its narrowing is asserted.
    """
    _, _, table = matched
    loose = table.loc[list(NOT_IDENTIFIED), "narrowing"]
    with capsys.disabled():
        print("\n" + table[["true", "low", "high", "narrowing", "covered"]].to_string())
        print(
            "not identified at scale 0.01 (prior width / 95% interval): "
            + ", ".join(f"{n} {v:.2f}x" for n, v in loose.items())
        )
    assert (loose < NARROWING).all(), (
        f"now identified, move to IDENTIFIED: {loose[loose >= NARROWING].to_string()}"
    )
