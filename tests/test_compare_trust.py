"""What a comparison can be trusted for: pairing correlation, many outputs, scales, formats."""

from __future__ import annotations

import numpy as np
import pytest
from run_folders import run_replicates, tiny_scenario, write_run_folder
from scipy import stats

from flowsim import cli
from flowsim.compare import (
    adjust_p_values,
    compare,
    format_table,
    mean_interval,
    paired_difference,
    welch_difference,
)
from flowsim.folders import read_run_folder
from flowsim.numbers import format_value

OUTPUTS = ["papers", "invention_patents", "startups", "licences", "vc_deals"]


def test_the_pairing_correlation_is_measured_per_output(baseline_folder, policy_folder):
    table = compare([baseline_folder, policy_folder], OUTPUTS)
    a, b = read_run_folder(baseline_folder).yearly, read_run_folder(policy_folder).yearly
    year = int(a["year"].min())
    for output in OUTPUTS:
        row = table[
            (table.scenario == "data_sandbox")
            & (table.period == str(year))
            & (table.output == output)
        ].iloc[0]
        x = b.loc[b.year == year].sort_values("replicate")[output].to_numpy()
        y = a.loc[a.year == year].sort_values("replicate")[output].to_numpy()
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            assert row["pairing_r"] == pytest.approx(np.corrcoef(x, y)[0, 1]), (
                f"{output}: r of the paired replicates"
            )
    assert table.loc[table.scenario == "baseline", "pairing_r"].isna().all(), (
        "none for the reference"
    )


def test_unpaired_comparisons_have_no_pairing_correlation(baseline_folder, tmp_path):
    other = tiny_scenario("other-seeds").model_copy(update={"seed": 99})
    folder = write_run_folder(run_replicates(other), tmp_path / "other")
    table = compare([baseline_folder, folder], OUTPUTS)
    assert set(table["test"].dropna()) == {"welch"}, "other seeds: Welch"
    assert table["pairing_r"].isna().all(), "no pairing, no r"


def test_p_values_are_adjusted_across_the_outputs(baseline_folder, policy_folder):
    table = compare([baseline_folder, policy_folder], OUTPUTS)
    family = table[(table.scenario == "data_sandbox") & (table.period == "all")]
    expected = stats.false_discovery_control(family["p_value"].to_numpy(), method="bh")
    assert np.allclose(family["p_adjusted"].to_numpy(), expected), "Benjamini-Hochberg"
    assert (family["p_adjusted"] >= family["p_value"] - 1e-12).all(), "never below the raw p"
    assert np.isnan(adjust_p_values([np.nan, 0.01])[0]), "an untested output stays untested"
    assert adjust_p_values([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.04, 0.04])


def test_intervals_and_tests_are_scipys():
    rng = np.random.default_rng(5)
    a, b = rng.normal(10, 2, 6), rng.normal(11, 3, 6)
    mean, low, high = mean_interval(a)
    ci = stats.ttest_1samp(a, 0).confidence_interval(0.95)
    assert (low, high) == pytest.approx((ci.low, ci.high)) and mean == pytest.approx(a.mean())
    _, low, high, p = welch_difference(b, a)
    welch = stats.ttest_ind(b, a, equal_var=False)
    assert (low, high, p) == pytest.approx((*welch.confidence_interval(0.95), welch.pvalue))
    _, low, high, p = paired_difference(b, a)
    paired = stats.ttest_rel(b, a)
    assert (low, high, p) == pytest.approx((*paired.confidence_interval(0.95), paired.pvalue))


@pytest.fixture(scope="module")
def coarse_folder(tmp_path_factory):
    scenario = tiny_scenario("coarse").model_copy(update={"scale": 0.002})
    return write_run_folder(run_replicates(scenario), tmp_path_factory.mktemp("c") / "coarse")


def test_folders_of_different_scales_are_refused_or_flagged(baseline_folder, coarse_folder, capsys):
    with pytest.raises(ValueError, match="different agent scales .*baseline at 0.003.*0.002"):
        compare([baseline_folder, coarse_folder], OUTPUTS)
    assert cli.main(["compare", str(baseline_folder), str(coarse_folder)]) == 2
    assert "--allow-mixed-scales" in capsys.readouterr().err, "the refusal says what to do"
    code = cli.main(["compare", str(baseline_folder), str(coarse_folder), "--allow-mixed-scales"])
    assert code == 0
    assert "(!) scenarios at different agent scales" in capsys.readouterr().out, "flagged"


def test_shares_print_as_percentages_with_p_values(baseline_folder, policy_folder, capsys):
    outputs = ["papers", "cross_border_collaboration_share", "gii_cluster_score"]
    table = compare([baseline_folder, policy_folder], outputs)
    text = format_table(table)
    share = table[
        (table.scenario == "data_sandbox")
        & (table.period == "all")
        & (table.output == "cross_border_collaboration_share")
    ].iloc[0]
    assert "cross_border_collaboration_share [%]" in text and "gii_cluster_score [%]" in text
    assert format_value("cross_border_collaboration_share", share["mean"]) in text, (
        f"the share in percent, by the one formatter: {text}"
    )
    assert "e+" not in text and "e-0" not in text, f"no scientific notation: {text}"
    assert " pp [" in text, "differences of shares in percentage points"
    assert "p " in text and "adj. " in text and ", r " in text, text

    assert cli.main(["compare", str(baseline_folder), str(policy_folder)]) == 0
    out = capsys.readouterr().out
    assert "Common random numbers" in out and "data_sandbox: r median" in out, out
