"""Scenario comparison: yearly means, differences from the reference and their Welch intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from run_folders import POLICY, run_replicates, tiny_scenario
from scipy import stats

from flowsim import cli
from flowsim.compare import ALL_YEARS, COLUMNS, compare, welch_difference
from flowsim.folders import read_run_folder


def yearly(folder) -> pd.DataFrame:
    return read_run_folder(folder).yearly


def test_table_shape_and_reference_rows(baseline_folder, policy_folder):
    table = compare([baseline_folder, policy_folder], ["papers", "vc_volume"])
    assert list(table.columns) == list(COLUMNS), f"columns {list(table.columns)}"
    years = sorted(yearly(baseline_folder)["year"].unique())
    assert list(dict.fromkeys(table["period"])) == [str(y) for y in years] + [ALL_YEARS], (
        "each year, then all"
    )
    assert len(table) == 2 * (len(years) + 1) * 2, "scenarios x periods x outputs rows"
    reference = table[table.scenario == "baseline"]
    assert reference["diff"].isna().all(), "the reference has no difference from itself"
    assert (table["replicates"] == 3).all(), "3 replicates per scenario"
    assert set(table.loc[table.output == "vc_volume", "unit"]) == {"RMB m"}, (
        "units come with the rows"
    )


def test_differences_are_paired_when_replicates_share_seeds(baseline_folder, policy_folder):
    table = compare([baseline_folder, policy_folder], ["papers", "invention_patents", "startups"])
    a, b = yearly(baseline_folder), yearly(policy_folder)
    assert (
        a.sort_values(["year", "replicate"]).seed.to_numpy()
        == b.sort_values(["year", "replicate"]).seed.to_numpy()
    ).all(), "fixtures share seeds"
    year = int(a["year"].min())
    for output in ("papers", "invention_patents", "startups"):
        x = b.loc[b.year == year].sort_values("replicate")[output].to_numpy()
        y = a.loc[a.year == year].sort_values("replicate")[output].to_numpy()
        row = table[
            (table.scenario == "data_sandbox")
            & (table.period == str(year))
            & (table.output == output)
        ].iloc[0]
        assert row["test"] == "paired", "common random numbers: a paired test"
        assert np.isclose(row["diff"], (x - y).mean()), f"{output}: mean paired difference"
        if np.var(x - y) > 0:
            test = stats.ttest_rel(x, y)
            ci = test.confidence_interval(0.95)
            assert np.isclose(row["diff_ci_low"], ci.low), f"{output}: paired CI low"
            assert np.isclose(row["diff_ci_high"], ci.high), f"{output}: paired CI high"
            assert np.isclose(row["p_value"], test.pvalue), f"{output}: paired p-value"


def test_scenarios_over_different_years_are_refused(baseline_folder):
    shorter = yearly(baseline_folder)
    shorter = shorter[shorter.year == shorter.year.min()]
    with pytest.raises(ValueError, match="same steps and start year"):
        compare({"baseline": yearly(baseline_folder), "short": shorter}, ["papers"])


def test_differences_match_welch_t_test(baseline_folder, policy_folder):
    # without shared seeds (here: the seed column dropped) the test is Welch's
    a = yearly(baseline_folder).drop(columns="seed")
    b = yearly(policy_folder).drop(columns="seed")
    table = compare({"baseline": a, "data_sandbox": b}, ["papers", "invention_patents", "startups"])
    assert (table.loc[table.scenario == "data_sandbox", "test"] == "welch").all(), "Welch"
    year = int(a["year"].min())
    for output in ("papers", "invention_patents", "startups"):
        x = b.loc[b.year == year, output].to_numpy()
        y = a.loc[a.year == year, output].to_numpy()
        row = table[
            (table.scenario == "data_sandbox")
            & (table.period == str(year))
            & (table.output == output)
        ].iloc[0]
        assert np.isclose(row["mean"], x.mean()), f"{output}: mean over replicates"
        assert np.isclose(row["diff"], x.mean() - y.mean()), f"{output}: difference of means"
        if np.var(x) + np.var(y) > 0:
            test = stats.ttest_ind(x, y, equal_var=False)
            ci = test.confidence_interval(0.95)
            assert np.isclose(row["diff_ci_low"], ci.low), f"{output}: Welch CI low"
            assert np.isclose(row["diff_ci_high"], ci.high), f"{output}: Welch CI high"
            assert np.isclose(row["p_value"], test.pvalue), f"{output}: Welch p-value"
            assert np.isclose(row["diff_pct"], 100 * (x.mean() - y.mean()) / y.mean()), (
                f"{output}: percent"
            )
        low, high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert np.isclose(row["ci_low"], low) and np.isclose(row["ci_high"], high), (
            f"{output}: mean's CI"
        )


def test_whole_run_is_a_yearly_rate_for_counters(baseline_folder, policy_folder):
    table = compare([baseline_folder, policy_folder], ["papers", "researchers"])
    b = yearly(baseline_folder)
    per_replicate = (
        b.groupby("replicate")["papers"].sum() / b.groupby("replicate")["months"].sum() * 12
    )
    row = table[
        (table.scenario == "baseline") & (table.period == ALL_YEARS) & (table.output == "papers")
    ].iloc[0]
    assert np.isclose(row["mean"], per_replicate.mean()), "papers per year over the whole run"
    stock = b.groupby("replicate")["researchers"].mean().mean()
    row = table[
        (table.scenario == "baseline")
        & (table.period == ALL_YEARS)
        & (table.output == "researchers")
    ].iloc[0]
    assert np.isclose(row["mean"], stock), "a stock is averaged over years"


def test_same_scenario_twice_is_named_apart_and_differs_by_zero(baseline_folder):
    table = compare([baseline_folder, baseline_folder], ["papers"])
    names = list(dict.fromkeys(table["scenario"]))
    assert names == ["baseline (baseline)", "baseline (baseline) #2"], names
    other = table[table.scenario == names[1]]
    assert np.allclose(other["diff"], 0.0), "identical results differ by 0"
    assert (other["diff_ci_low"] <= 0).all() and (other["diff_ci_high"] >= 0).all(), (
        "the CI contains 0"
    )


def test_in_memory_results_match_folders(baseline_folder, policy_folder):
    baseline = run_replicates(tiny_scenario("baseline"))
    policy = run_replicates(tiny_scenario("data_sandbox", **POLICY))
    in_memory = compare(
        {"baseline": baseline, "data_sandbox": policy}, ["papers", "commercialized"]
    )
    on_disk = compare([baseline_folder, policy_folder], ["papers", "commercialized"])
    pd.testing.assert_frame_equal(in_memory, on_disk, check_exact=False, rtol=1e-9)


def test_csv_is_written_and_never_overwritten_unasked(baseline_folder, policy_folder, tmp_path):
    out = tmp_path / "cmp.csv"
    table = compare([baseline_folder, policy_folder], ["papers"], out=out)
    pd.testing.assert_frame_equal(pd.read_csv(out, dtype={"period": str}), table, check_dtype=False)
    with pytest.raises(FileExistsError, match="--force"):
        compare([baseline_folder, policy_folder], ["papers"], out=out)
    compare([baseline_folder, policy_folder], ["papers", "startups"], out=out, force=True)
    assert set(pd.read_csv(out)["output"]) == {"papers", "startups"}, "replaced when forced"


def test_welch_edge_cases():
    diff, low, high, p = welch_difference(np.array([1.0]), np.array([0.0, 2.0]))
    assert diff == 0.0 and np.isnan(low) and np.isnan(high) and np.isnan(p), (
        "one replicate: no interval"
    )
    diff, low, high, p = welch_difference(np.array([3.0, 3.0]), np.array([1.0, 1.0]))
    assert (diff, low, high, p) == (2.0, 2.0, 2.0, 0.0), "no spread: the difference is exact"


def test_bad_input_is_a_clear_error(baseline_folder, tmp_path):
    with pytest.raises(ValueError, match="at least two scenarios"):
        compare([baseline_folder])
    with pytest.raises(ValueError, match="no output.*'paper'"):
        compare([baseline_folder, baseline_folder], ["paper"])


def test_cli_compare_prints_and_writes(baseline_folder, policy_folder, tmp_path, capsys):
    out = tmp_path / "c.csv"
    code = cli.main(
        [
            "compare",
            str(baseline_folder),
            str(policy_folder),
            "--out",
            str(out),
            "--outputs",
            "papers",
        ]
    )
    assert code == 0, "compare succeeds"
    printed = capsys.readouterr().out
    assert (
        "difference from baseline" in printed
        and "data_sandbox" in printed
        and "whole run" in printed
    ), printed
    assert out.is_file(), "CSV written"
    assert (
        cli.main(["compare", str(baseline_folder), str(policy_folder), "--out", str(out)]) == 2
    ), "no overwrite"
    assert "exists" in capsys.readouterr().err
    assert (
        cli.main(["compare", str(baseline_folder), str(policy_folder), "--outputs", "paper"]) == 2
    )
    assert "unknown output" in capsys.readouterr().err
    assert cli.main(["compare", str(baseline_folder)]) == 2, "one folder is not a comparison"
    assert cli.main(["compare", str(baseline_folder), str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert "no such folder" in err and "Traceback" not in err, err


def test_help_of_every_command_prints(capsys):
    for argv in (["--help"], ["compare", "--help"], ["plot", "--help"]):
        with pytest.raises(SystemExit) as done:
            cli.main(argv)
        assert done.value.code == 0, f"flowsim {' '.join(argv)} exits 0"
    assert "compare" in capsys.readouterr().out


def test_the_csv_comes_with_its_provenance(baseline_folder, policy_folder, tmp_path):
    out = tmp_path / "cmp.csv"
    compare([baseline_folder, policy_folder], ["papers"], out=out)
    record = json.loads(Path(f"{out}.provenance.json").read_text())
    folders = [s["folder"] for s in record["sources"]]
    assert folders == [str(Path(baseline_folder).resolve()), str(Path(policy_folder).resolve())], (
        "the provenance names the compared folders in order"
    )
    assert all(s.get("scenario_sha256") for s in record["sources"]), "with their scenario hashes"
