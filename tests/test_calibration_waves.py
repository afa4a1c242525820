"""A refocused wave of ``flowsim calibrate``: ABC on given proposals (history-matching NROY sets).

``calibrate(..., proposals=table)`` takes its ABC draws, in order, from the rows of a
table (the sets a wave of history matching did not rule out) instead of the priors, so
the accepted draws sample the accepted region with far fewer runs. The trials must be
the given rows in order, also across an interruption and ``--resume``; proposals off
their priors, too few for the budget, for a TPE search or changed on resume are refused;
the manifest names the sampler; and the report does not run history matching on a
refocused wave (its trials are not draws from the priors).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from test_calibration_fit import _spec

from flowsim.calibration.fit import MANIFEST, CalibrationError, calibrate, finish, read_log

NAME = "research.pct_prob.GD"


def _targets(tmp_path, method: str = "abc"):
    spec = _spec(4)
    spec["search"]["method"] = method
    spec["replicates"] = 1
    for t in spec["targets"]:
        t["value"] = 20_000.0 if t["id"] == "pct" else 50_000.0
        t["tolerance"] = 0.5
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


PROPOSALS = pd.DataFrame({NAME: [0.05, 0.07, 0.09, 0.11, 0.13, 0.15]})


def test_a_refocused_wave_runs_the_proposals_in_order_across_a_resume(tmp_path):
    path = _targets(tmp_path)
    out = tmp_path / "wave2"
    calibrate(path, out, budget=4, workers=1, progress=False, proposals=PROPOSALS, stop_after=2)
    assert [r["params"][NAME] for r in read_log(out)] == [0.05, 0.07], (
        "the first two trials are the first two proposals"
    )
    calibrate(path, out, budget=4, workers=1, progress=False, proposals=PROPOSALS, resume=True)
    tried = [r["params"][NAME] for r in read_log(out)]
    assert tried == [0.05, 0.07, 0.09, 0.11], (
        f"a resumed wave goes on with the next proposals, none repeated or skipped: {tried}"
    )
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert "given proposals" in manifest["sampler"], manifest["sampler"]
    assert manifest["proposals_sha256"], "the proposals are recorded by their hash"
    outcome = finish(path, out)
    assert outcome.history is None and "refocused wave" in outcome.history_note, (
        f"no history matching on a refocused wave: {outcome.history_note}"
    )


def test_a_plain_abc_manifest_names_abc_not_optuna(tmp_path):
    path = _targets(tmp_path)
    calibrate(path, tmp_path / "w1", budget=1, workers=1, progress=False)
    manifest = json.loads((tmp_path / "w1" / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["sampler"].startswith("ABC rejection"), manifest["sampler"]
    assert manifest["proposals_sha256"] is None


@pytest.mark.parametrize(
    ("proposals", "budget", "method", "message"),
    [
        (pd.DataFrame({NAME: [0.05, 0.5]}), 2, "abc", "leave its prior"),
        (pd.DataFrame({NAME: [0.05, np.nan]}), 2, "abc", "leave its prior"),
        (pd.DataFrame({"other": [0.05, 0.06]}), 2, "abc", "lack the free parameters"),
        (PROPOSALS, 7, "abc", "6 proposals for a budget of 7"),
        (PROPOSALS, 2, "tpe", "proposals are for ABC"),
    ],
)
def test_bad_proposals_are_refused_before_any_run(tmp_path, proposals, budget, method, message):
    path = _targets(tmp_path, method)
    with pytest.raises(CalibrationError, match=message):
        calibrate(path, tmp_path / "out", budget=budget, workers=1, progress=False,
                  proposals=proposals)  # fmt: skip
    assert not (tmp_path / "out" / "trials.jsonl").exists(), "nothing was run"


def test_resume_with_other_proposals_is_refused(tmp_path):
    path = _targets(tmp_path)
    out = tmp_path / "wave2"
    calibrate(path, out, budget=2, workers=1, progress=False, proposals=PROPOSALS, stop_after=1)
    with pytest.raises(CalibrationError, match="other proposals"):
        calibrate(path, out, budget=2, workers=1, progress=False,
                  proposals=PROPOSALS.iloc[::-1], resume=True)  # fmt: skip
