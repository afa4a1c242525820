"""Replication advice: the MDE has the power it claims; ``--until`` adds paired replicates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from run_folders import run_replicates, tiny_scenario, write_run_folder
from scipy import stats

from flowsim import cli
from flowsim.replication import (
    halfwidth,
    minimum_detectable_effect,
    parse_target,
    replicates_for_halfwidth,
    replicates_for_mde,
)


@pytest.mark.parametrize("n", [3, 8, 16])
def test_the_mde_is_detected_with_80_percent_power(n):
    """Simulated paired t-tests at the MDE reject 80% of the time (40,000 draws)."""
    sd = 2.0
    mde = minimum_detectable_effect(sd, n)
    rng = np.random.default_rng(n)
    d = rng.normal(mde, sd, size=(40_000, n))
    p = stats.ttest_1samp(d, 0.0, axis=1).pvalue
    power = float((p < 0.05).mean())
    assert abs(power - 0.80) < 0.01, f"n={n}: power at the MDE {power:.3f}, expected 0.80"


def test_mde_numbers():
    assert np.isclose(minimum_detectable_effect(1.0, 1000) * np.sqrt(1000), 2.80, atol=0.01), (
        "large n: (z 0.975 + z 0.80) sd / sqrt(n)"
    )
    assert minimum_detectable_effect(1.0, 3) > 3 * minimum_detectable_effect(1.0, 30) / 1.5
    assert np.isnan(minimum_detectable_effect(1.0, 1)), "one pair: no MDE"
    assert minimum_detectable_effect(0.0, 5) == 0.0, "no noise: any effect is exact"
    n = replicates_for_mde(1.0, 0.5)
    assert minimum_detectable_effect(1.0, n) <= 0.5 < minimum_detectable_effect(1.0, n - 1)


def test_halfwidth_inversion():
    n = replicates_for_halfwidth(3.0, 1.0)
    assert halfwidth(3.0, n) <= 1.0 < halfwidth(3.0, n - 1), n
    assert np.isclose(halfwidth(3.0, 10), stats.t.ppf(0.975, 9) * 3.0 / np.sqrt(10)), (
        "the t interval's half-width"
    )


def test_parse_target():
    assert parse_target("2%").relative and np.isclose(parse_target("2%").value, 0.02)
    assert not parse_target("150").relative and parse_target("150").value == 150.0
    for bad in ("x", "-1%", "0", "nan"):
        with pytest.raises(ValueError, match="--until"):
            parse_target(bad)


def test_until_runs_paired_replicates_to_the_target_or_the_cap(tmp_path, capsys):
    # a lever that moves papers at this tiny scale (a data lever leaves them exactly equal
    # when the policy starts with the reported months: no interval to narrow)
    lever = {"talent.move_rate": 0.03, "research.papers_per_project_lab": 3.0}
    base = write_run_folder(run_replicates(tiny_scenario("baseline"), 2), tmp_path / "base")
    policy = write_run_folder(
        run_replicates(tiny_scenario("policy", **lever), 2), tmp_path / "policy"
    )
    before = {p: (p / "manifest.json").read_text() for p in (base, policy)}
    out = tmp_path / "cmp"
    code = cli.main(
        ["compare", str(base), str(policy), "--outputs", "papers", "--until", "0.001%"]
        + ["--max-replicates", "4", "--out", str(out), "--no-cells"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "2 replicates: papers +/-" in captured.err, "a progress line per round"
    assert "NOT reached" in captured.err and "cap of 4" in captured.err, captured.err
    for folder in (base, policy):
        assert (folder / "manifest.json").read_text() == before[folder], "inputs untouched"
    extended = [out / "runs" / "base", out / "runs" / "policy"]
    manifests = [json.loads((f / "manifest.json").read_text()) for f in extended]
    assert [m["replications"] for m in manifests] == [4, 4], "ran up to the cap"
    assert manifests[0]["seeds"] == manifests[1]["seeds"], "the same seeds: still paired"
    old = pd.read_parquet(base / "timeseries.parquet")
    new = pd.read_parquet(extended[0] / "timeseries.parquet")
    pd.testing.assert_frame_equal(
        new[new.replicate < 2].reset_index(drop=True), old.reset_index(drop=True)
    )
    # the extra replicates are what `flowsim run --replications 4` gives
    again = run_replicates(tiny_scenario("baseline"), 4)
    assert np.allclose(
        new[new.replicate == 3]["papers"].to_numpy(), again[3].timeseries["papers"].to_numpy()
    ), "replicate 4 is reproducible"
    headline = pd.read_csv(out / "compare_headline.csv")
    assert (headline["replicates"] == 4).all(), headline

    # a target that is already met runs nothing more
    out2 = tmp_path / "cmp2"
    code = cli.main(
        ["compare", str(base), str(policy), "--outputs", "papers", "--until", "1000%"]
        + ["--out", str(out2), "--no-cells"]
    )
    err = capsys.readouterr().err
    assert code == 0 and "target reached" in err and "running replicates" not in err, err
