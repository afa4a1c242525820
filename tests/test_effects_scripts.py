"""scripts/fit_v3.py and scripts/scenario_effects.py at a tiny scale (issue 18's pipeline).

fit_v3.py: two waves (prior draws, history matching, NROY draws) on targets the model made
at a known Guangdong PCT probability; the shipped ensemble holds only accepted members with
repo-relative paths, and the validation report lists every target, the unreported one as
*not evaluated*. scenario_effects.py: a policy that sets a parameter the ensemble also sets
(no_border's talent border effect) keeps its value in every member, and the page and CSV
files give one effect per output with an interval across members, and what decides it.
"""

from __future__ import annotations

import pandas as pd
import yaml
from model_helpers import load_script
from test_calibration_fit import ROOT, _spec, _true_values

from flowsim.ensemble import read_parameter_sets


def _targets(tmp_path):
    spec = _spec()
    spec["replicates"] = 1
    spec["free"]["knowledge.elasticity"] = {"low": 0.1, "high": 0.3}
    truth = _true_values()
    for t in spec["targets"]:
        t["value"] = truth[t["id"]]
        t["tolerance"] = 0.2
    spec["targets"].append(
        {
            "id": "unreported",
            "model_output": "none",
            "model_output_note": "a test figure the model cannot give",
            "value": 1.0,
            "tolerance": 0.1,
            "source": "test",
            "role": "validation",
            "reason": "shown as not evaluated",
        }
    )
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_fit_v3_writes_an_accepted_ensemble_and_a_report_of_every_target(tmp_path, capsys):
    script = load_script("fit_v3")
    ens, docs = tmp_path / "ensemble_v3", tmp_path / "docs"
    code = script.main(
        ["--targets", str(_targets(tmp_path)), "--wave1", "12", "--wave2", "6",
         "--replicates", "1", "--workers", "1", "--out", str(tmp_path / "fit"),
         "--docs", str(docs), "--ensemble-out", str(ens)]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, f"the model's own targets are met by some NROY draw: {out.err[-1500:]}"
    members = pd.read_csv(ens / "ensemble.csv")
    assert len(members) >= 1 and members["within_all"].all(), "only accepted members ship"
    manifest = yaml.safe_load((ens / "ensemble.yaml").read_text(encoding="utf-8"))
    assert manifest["scenario"] == "scenarios/baseline.yaml", "paths are repo-relative"
    assert (ens / "history_match.csv").is_file() and (ens / "README.md").is_file()
    assert len(read_parameter_sets(ens).sets) == len(members), "--ensemble can read it"
    table = pd.read_csv(docs / "validation_v3.csv")
    assert list(table["id"]) == ["pct", "papers", "vc", "unreported"], "every target, in order"
    row = table.set_index("id").loc["unreported"]
    assert row["verdict"] == "not evaluated" and row["baseline_verdict"] == "not evaluated"
    assert table.set_index("id").loc["pct", "verdict"] == "pass", (
        "the ensemble's members each meet the calibration target, so does their mean"
    )
    page = (docs / "validation_v3.md").read_text(encoding="utf-8")
    assert "**Calibrated ensemble** (mean over members): calibration 1/1 pass" in page
    assert "| unreported | " in page and "history matching kept" in page


def test_scenario_effects_keeps_a_policys_own_value_of_an_ensemble_parameter(tmp_path):
    script = load_script("scenario_effects")
    ens = tmp_path / "ens"
    ens.mkdir()
    pd.DataFrame(
        {
            "member": [0, 1, 2],
            "trial": [0, 1, 2],
            "objective": [0.1, 0.2, 0.3],
            "within_all": [True, True, True],
            "knowledge.elasticity": [0.12, 0.2, 0.28],
            "deterrence.talent.border_effect": [0.3, 0.6, 0.9],
        }
    ).to_csv(ens / "ensemble.csv", index=False)
    (ens / "ensemble.yaml").write_text(
        yaml.safe_dump(
            {
                "format": "flowsim-ensemble/1",
                "parameters": ["knowledge.elasticity", "deterrence.talent.border_effect"],
                "scenario": "scenarios/baseline.yaml",
                "members": 3,
            }
        ),
        encoding="utf-8",
    )
    out, docs = tmp_path / "out", tmp_path / "docs"
    code = script.main(
        ["--ensemble", str(ens), "--members", "3", "--scale", "0.002", "--steps", "12",
         "--scenarios", str(ROOT / "scenarios" / "no_border.yaml"), "--jobs", "1",
         "--min-pairs", "3", "--out", str(out), "--docs", str(docs)]
    )  # fmt: skip
    assert code == 0
    fixed = pd.read_csv(out / "ensembles" / "no_border" / "ensemble.csv")
    assert (fixed["deterrence.talent.border_effect"] == 1.0).all(), (
        "no_border's border effect of 1 must not be overridden by the members' values"
    )
    assert list(fixed["knowledge.elasticity"]) == [0.12, 0.2, 0.28], "other columns kept"
    headline = pd.read_csv(docs / "effects_headline.csv")
    assert set(headline["scenario"]) == {"no_border"}
    assert set(headline["output"]) == set(script.OUTPUTS), "one row per headline output"
    assert (headline["members"] == 3).all(), "the effect is taken across the three members"
    decides = pd.read_csv(docs / "effects_decides.csv")
    assert set(decides["parameter"]) == {"knowledge.elasticity", "deterrence.talent.border_effect"}
    page = (docs / "effects.md").read_text(encoding="utf-8")
    assert "| no_border | " in page and "## What decides each answer" in page
    assert "3 paired replicates per scenario" in page


def test_the_chance_level_of_what_decides_matches_its_p_value():
    script = load_script("scenario_effects")
    for sets in (4, 16, 20):
        r2 = script.critical_r2(sets, 15)
        p = script.correlation_p(r2**0.5, sets)
        assert abs(p - 0.05 / 15) < 1e-9, f"{sets} sets: r2 {r2:.3f} has p {p:.5f}, not 0.05/15"
    assert script.critical_r2(16, 15) < script.critical_r2(4, 15), "more members, lower bar"
