"""``flowsim compare`` by city, field and corridor: hand-computed cells, BH, a known effect."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from run_folders import run_replicates, tiny_scenario, write_run_folder
from scipy import stats

import flowsim
from flowsim import cli
from flowsim.cells import compare_cells, read_tables
from flowsim.compare import compare
from flowsim.comparison import FILES, MANIFEST
from flowsim.geography import load_geography
from flowsim.tally import BY_CITY_COUNTERS

CELL_OUTPUTS = ["papers", "pct_applications", "researchers"]
"""Two counters and a stock: both whole-run summaries are checked."""


def hand_cells(folder: Path, outputs: list[str]) -> pd.DataFrame:
    """Whole-run value per seed, city, field and output, computed from the parquet file alone."""
    by_city = pd.read_parquet(folder / "by_city.parquet")
    summary = json.loads((folder / "summary.json").read_text())
    months = sum(pd.DataFrame(summary["yearly"]).groupby("year")["months"].first().to_list())
    years = pd.DataFrame(summary["yearly"])["year"].nunique()
    rows = []
    for (seed, city, field, output), group in by_city.groupby(
        ["seed", "city", "field", "output"], observed=True
    ):
        if output not in outputs:
            continue
        total = group["value"].sum()
        value = total / months * 12 if output in BY_CITY_COUNTERS else total / years
        rows.append((seed, str(city), str(field), str(output), value))
    return pd.DataFrame(rows, columns=["seed", "city", "field", "output", "value"])


def test_cells_equal_a_hand_computation_with_bh(baseline_folder, policy_folder, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = cli.main(
        ["compare", str(baseline_folder), str(policy_folder), "--out", str(out)]
        + ["--outputs", *CELL_OUTPUTS]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "Benjamini-Hochberg" in printed and "cells significant" in printed, printed
    cells = pd.read_csv(out / FILES["by_city_field"])

    a, b = hand_cells(baseline_folder, CELL_OUTPUTS), hand_cells(policy_folder, CELL_OUTPUTS)
    keys = ["city", "field", "output"]
    wide_a = a.pivot_table(index=keys, columns="seed", values="value").fillna(0.0)
    wide_b = b.pivot_table(index=keys, columns="seed", values="value").fillna(0.0)
    index = wide_a.index.union(wide_b.index)
    wide_a = wide_a.reindex(index, fill_value=0.0)
    wide_b = wide_b.reindex(index, fill_value=0.0)[wide_a.columns]
    active = (wide_a.abs().sum(axis=1) > 0) | (wide_b.abs().sum(axis=1) > 0)
    expected = []
    for key in index[active.to_numpy()]:
        x, y = wide_b.loc[key].to_numpy(), wide_a.loc[key].to_numpy()
        d = x - y
        if np.ptp(d) == 0:
            low = high = d.mean()
            p = 1.0 if d.mean() == 0 else 0.0
        else:
            test = stats.ttest_rel(x, y)
            low, high = test.confidence_interval(0.95)
            p = test.pvalue
        expected.append((*key, d.mean(), low, high, p))
    hand = pd.DataFrame(expected, columns=[*keys, "hand_diff", "low", "high", "p"])
    hand["q"] = stats.false_discovery_control(hand["p"].to_numpy(), method="bh")

    merged = hand.merge(cells, on=keys, how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), (
        f"the same cells: {merged.loc[merged['_merge'] != 'both', keys + ['_merge']]}"
    )
    assert len(merged) > 100, f"every active city x field x output cell: {len(merged)}"
    for column, mine in (("hand_diff", "diff"), ("low", "diff_ci_low"), ("high", "diff_ci_high")):
        assert np.allclose(merged[column], merged[mine], rtol=1e-9, atol=1e-6), column
    assert np.allclose(merged["p"], merged["p_value"]), "paired t p-values"
    assert np.allclose(merged["q"], merged["p_adjusted"]), "BH over all the cells shown"
    assert (merged["significant"] == (merged["q"] < 0.05)).all(), "significant = q < 0.05"
    assert set(merged["test"]) == {"paired"}, "the fixtures share seeds"

    # the margins: each field over all cities, each city over all fields, BH of their own
    by_field = pd.read_csv(out / FILES["by_field"]).set_index(["field", "output"])
    hand_field = hand.groupby(["field", "output"])["hand_diff"].sum()
    assert np.allclose(by_field.loc[hand_field.index, "diff"], hand_field), "field margins"
    assert np.allclose(
        by_field["p_adjusted"], stats.false_discovery_control(by_field["p_value"], method="bh")
    ), "BH over the field cells"
    by_city = pd.read_csv(out / FILES["by_city"]).set_index(["city", "output"])
    hand_city = hand.groupby(["city", "output"])["hand_diff"].sum()
    assert np.allclose(by_city.loc[hand_city.index, "diff"], hand_city), "city margins"

    headline = pd.read_csv(out / FILES["headline"])
    table = compare([baseline_folder, policy_folder], CELL_OUTPUTS)
    whole = table[(table.period == "all") & (table.scenario == "data_sandbox")]
    mine = headline[headline.scenario == "data_sandbox"].set_index("output")
    assert np.allclose(mine.loc[whole.output, "diff"], whole["diff"]), "headline = compare()"
    assert {"mde", "mde_pct", "halfwidth_pct"} <= set(headline.columns), headline.columns
    path = pd.read_csv(out / FILES["path"])
    assert sorted(path["year"].unique()) == sorted(
        int(p) for p in table["period"].unique() if p != "all"
    ), "the path has every year"
    manifest = json.loads((out / MANIFEST).read_text())
    assert "Benjamini-Hochberg" in manifest["methods"]["multiple_comparisons"]
    assert set(manifest["files"]) == set(FILES.values()), manifest["files"]
    assert [s["replicates"] for s in manifest["scenarios"]] == [3, 3], manifest["scenarios"]


def test_corridor_cells_add_up_to_the_flows(baseline_folder, policy_folder):
    tables = [read_tables("baseline", baseline_folder), read_tables("p", policy_folder)]
    _, corridors = compare_cells(tables, ["papers"])
    flows = pd.read_parquet(Path(policy_folder) / "flows.parquet")
    geo = load_geography()
    cities = list(flowsim.geography.CITIES)
    # the Bay Area's corridors: flows to or from CN and ROW are not corridor cells
    flows = flows[
        flows["origin"].astype(str).isin(cities) & flows["destination"].astype(str).isin(cities)
    ]
    o = flows["origin"].astype(str).map(cities.index).to_numpy()
    d = flows["destination"].astype(str).map(cities.index).to_numpy()
    flows = flows[geo.corridor[o, d] >= 0]
    data = flows[flows["element"].astype(str) == "data"]
    months = json.loads((Path(policy_folder) / "summary.json").read_text())["steps"]
    per_year = data["count"].sum() / 3 / months * 12
    cell = corridors[(corridors.element == "data") & (corridors.measure == "count")]
    assert np.isclose(cell["mean"].sum(), per_year), "data crossings per year, all corridors"
    assert set(corridors["measure"]) == {"count", "volume", "refusals"}
    assert (corridors.loc[corridors.measure == "volume", "element"] == "capital").all(), (
        "volume is only listed where it is not the count (capital's RMB m)"
    )


def one_field_scenario(name: str, **overrides: object) -> flowsim.Scenario:
    """Small and short, but with enough biomedicine projects per city (scale 0.02)."""
    base = flowsim.Scenario(name=name, scale=0.02, steps=12, warmup_steps=12)
    return flowsim.with_overrides(base, overrides)


def test_a_lever_on_one_field_is_found_there_and_nowhere_else():
    """No biomedicine project needs samples: a known effect of -100% in that field only."""
    n = 10  # 8 was on the edge for Shenzhen (p_adjusted 0.03-0.05 by seed): lumpy requests
    base = run_replicates(one_field_scenario("baseline"), n)
    lever = run_replicates(
        one_field_scenario("no-biomedicine-samples", **{"research.samples_need.biomedicine": 0.0}),
        n,
    )
    cells, _ = compare_cells(
        [read_tables("baseline", base), read_tables("lever", lever)], ["samples_requests"]
    )
    bio = cells[cells.field == "biomedicine"]
    assert np.allclose(bio["diff_pct"], -100.0), "the lever removes every biomedicine request"
    found = cells[cells.significant]
    in_field = found[found.field == "biomedicine"]
    elsewhere = found[found.field != "biomedicine"]
    big = bio.nlargest(3, "reference_mean")
    assert big["significant"].all(), (
        f"the three cities with most biomedicine requests show the effect at {n} replicates: "
        f"{big[['city', 'reference_mean', 'p_adjusted']]}"
    )
    assert len(in_field) >= 3, f"significant in biomedicine: {len(in_field)}"
    # BH: among the discoveries, about 5% may be false; with a handful, at most one
    allowed = max(1, int(np.ceil(0.05 * len(found))))
    assert len(elsewhere) <= allowed, (
        f"other fields are untouched by the lever; {len(elsewhere)} of {len(found)} "
        f"discoveries are there (at most {allowed} expected at FDR 5%): {elsewhere}"
    )
    others = cells[cells.field != "biomedicine"]
    assert len(others) > 20, f"the other fields' cells are tested too: {len(others)}"


def test_one_replicate_is_refused_with_exit_2(tmp_path, capsys):
    base = write_run_folder(run_replicates(tiny_scenario("baseline"), 1), tmp_path / "b")
    policy = write_run_folder(
        run_replicates(tiny_scenario("p", **{"policy.corridors.GD-HK.data.approval": 0.9}), 1),
        tmp_path / "p",
    )
    code = cli.main(["compare", str(base), str(policy)])
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert "one replicate only" in captured.err and "--replications 8" in captured.err, captured.err
    assert "nan" not in captured.out.lower(), f"no [+nan, +nan]: {captured.out}"


def test_zero_variance_outputs_are_named():
    from flowsim.comparison import uncomparable

    frame = pd.DataFrame(
        {
            "replicate": [0, 1, 2],
            "seed": [1, 2, 3],
            "year": [2025] * 3,
            "months": [12] * 3,
            "papers": [10.0, 12.0, 11.0],
            "licences": [5.0, 5.0, 5.0],
        }
    )
    table = compare(
        {"a": frame, "b": frame.assign(papers=[11.0, 12.0, 14.0])}, ["papers", "licences"]
    )
    problems = uncomparable(table, ["papers", "licences"])
    assert list(problems) == ["licences"], problems
    assert "same value" in problems["licences"], problems


@pytest.mark.parametrize("option", [["--until", "2%"], ["--until", "x%", "--out", "d"]])
def test_until_needs_a_folder_and_a_number(baseline_folder, policy_folder, option, capsys):
    assert cli.main(["compare", str(baseline_folder), str(policy_folder), *option]) == 2
    err = capsys.readouterr().err
    assert "--until" in err and "Traceback" not in err, err


@pytest.mark.parametrize("kind", ["level", "difference", "overview"])
def test_comparison_figures_state_what_they_rest_on(baseline_folder, policy_folder, kind):
    from flowsim.plots.comparison import plot_comparison

    table = compare([baseline_folder, policy_folder], ["papers", "vc_volume"])
    fig = plot_comparison(table, ["papers", "vc_volume"], kind=kind)
    note = fig._supxlabel.get_text()
    for part in (
        "baseline (reference)",
        "data_sandbox",
        "3 replicates each",
        "paired on seeds",
        "agent scale 0.003",
        "95% CI over replicates",
    ):
        assert part in note, f"{kind}: the figure says {part!r}: {note!r}"
    fig.canvas.draw()
    for ax in fig.axes:
        labels = [t.get_text() for t in [*ax.get_yticklabels(), *ax.get_xticklabels()]]
        assert not any("e+" in t or "e-" in t for t in labels), f"{kind}: plain ticks {labels}"
        offsets = ax.yaxis.get_offset_text().get_text() + ax.xaxis.get_offset_text().get_text()
        assert offsets == "", f"{kind}: no 1e4 offset: {offsets!r}"


def test_an_output_with_no_variation_is_refused_when_asked_for(
    baseline_folder, policy_folder, capsys
):
    """No relocation happens without zone rules: nothing to measure an effect against."""
    argv = ["compare", str(baseline_folder), str(policy_folder), "--no-cells"]
    code = cli.main([*argv, "--outputs", "papers", "relocations_labs"])
    captured = capsys.readouterr()
    assert code == 2, captured.out
    assert "relocations_labs: the same value (0) in every replicate" in captured.err, captured.err
    assert "nan" not in captured.out.lower(), captured.out
