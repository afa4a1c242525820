"""Results folders: their files, reproducibility, the manifest's hash, and safe writing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

import flowsim
import flowsim.results as results_module
from flowsim.outputs import COUNTERS, REPORTED, YEARLY_SHARES
from flowsim.params import Scenario, with_overrides
from flowsim.results import (
    FILES,
    FLOW_COLUMNS,
    IncompleteResultsError,
    ResultsExistError,
    default_out_dir,
    read_run,
    write_run,
)
from flowsim.scenario import load_scenario, scenario_hash
from flowsim.streams import replicate_seeds
from flowsim.tables import annual_mean, corridor_flows

SMALL = Scenario(name="small", scale=0.002, steps=18, warmup_steps=3, seed=11)


@pytest.fixture(scope="module")
def two_replicates() -> list[flowsim.RunResult]:
    return flowsim.run_replicates(SMALL, 2)


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_folder_holds_exactly_the_documented_files(two_replicates, tmp_path: Path) -> None:
    out = write_run(two_replicates, SMALL, tmp_path / "run", command=["flowsim", "run", "x.yaml"])
    assert _listing(out) == sorted(FILES), f"unexpected files: {_listing(out)}"
    assert _listing(tmp_path) == ["run"], (
        f"temporary folders were left behind: {_listing(tmp_path)}"
    )


def test_tables_are_tidy_and_complete(two_replicates, tmp_path: Path) -> None:
    folder = read_run(write_run(two_replicates, SMALL, tmp_path / "run"))
    ts = folder.timeseries
    assert list(ts.columns) == ["replicate", "seed", "step", "year", *REPORTED], (
        "timeseries columns"
    )
    assert len(ts) == 2 * SMALL.steps, f"one row per replicate and month, got {len(ts)}"
    assert ts.groupby("replicate")["seed"].first().tolist() == replicate_seeds(SMALL.seed, 2), (
        "seeds per replicate"
    )
    assert list(folder.flows.columns) == list(FLOW_COLUMNS), (
        f"flows columns: {list(folder.flows.columns)}"
    )
    assert (folder.flows["count"] >= 0).all() and (folder.flows["refusals"] >= 0).all(), (
        "negative flows"
    )
    assert set(folder.flows["element"].astype(str)) <= {"talent", "capital", "data", "samples"}, (
        "unknown element"
    )


def test_summary_has_the_keys_readers_rely_on(two_replicates, tmp_path: Path) -> None:
    summary = read_run(write_run(two_replicates, SMALL, tmp_path / "run")).summary
    for key in (
        "scenario",
        "scale",
        "steps",
        "start_year",
        "replications",
        "seeds",
        "units",
        "yearly",
        "mean_yearly",
        "annual_mean",
    ):
        assert key in summary, f"summary.json lacks {key!r}"
    assert summary["replications"] == 2 and summary["seeds"] == replicate_seeds(SMALL.seed, 2), (
        "seeds in summary"
    )
    assert len(summary["yearly"]) == 2 * 2, "two years (12 + 6 months) per replicate"
    row = summary["yearly"][0]
    for column in (
        "replicate",
        "seed",
        "year",
        "months",
        "papers",
        "cross_border_collaboration_share",
        *YEARLY_SHARES,
    ):
        assert column in row, f"yearly record lacks {column!r}"
    assert [r["year"] for r in summary["mean_yearly"]] == [2025, 2026], "one mean row per year"
    assert summary["mean_yearly"][1]["months"] == 6, (
        "the trailing partial year says how many months it has"
    )


def test_annual_mean_scales_counters_to_twelve_months(two_replicates) -> None:
    expected = sum(r.timeseries["papers"].sum() for r in two_replicates) / (2 * SMALL.steps) * 12
    assert annual_mean(two_replicates)["papers"] == pytest.approx(expected), (
        "papers per year over all months"
    )


def test_corridor_flows_add_up_to_the_cross_border_rows(two_replicates) -> None:
    table = corridor_flows(two_replicates)
    assert len(table) == 12, "3 corridors x 4 elements"
    geo = flowsim.geography.load_geography()
    cities = list(flowsim.geography.CITIES)
    total = 0.0
    for r in two_replicates:
        # the Bay Area's corridors: flows to or from CN and ROW are not in the table
        f = r.flows
        f = f[f["origin"].astype(str).isin(cities) & f["destination"].astype(str).isin(cities)]
        o = f["origin"].astype(str).map(cities.index).to_numpy()
        d = f["destination"].astype(str).map(cities.index).to_numpy()
        total += f["count"][geo.corridor[o, d] >= 0].sum() / (SMALL.steps / 12)
    assert table["count"].sum() == pytest.approx(total / 2), (
        "corridor totals must equal cross-border flows"
    )


def test_replicates_are_reproducible_from_the_seed() -> None:
    first = flowsim.run_replicates(SMALL, 2)
    again = flowsim.run_replicates(SMALL, 3)
    for k in range(2):
        pd.testing.assert_frame_equal(
            first[k].timeseries, again[k].timeseries, obj=f"replicate {k} time series"
        )
        pd.testing.assert_frame_equal(first[k].flows, again[k].flows, obj=f"replicate {k} flows")
    assert not first[0].timeseries.equals(first[1].timeseries), "different replicates must differ"


def test_manifest_records_how_the_run_was_made(two_replicates, tmp_path: Path) -> None:
    manifest = read_run(
        write_run(two_replicates, SMALL, tmp_path / "run", command=["flowsim", "run"])
    ).manifest
    for key in (
        "flowsim",
        "mesa",
        "numpy",
        "pandas",
        "python",
        "platform",
        "git_commit",
        "command",
        "scenario_sha256",
        "root_seed",
        "seeds",
        "scale",
        "steps",
        "started",
        "finished",
        "wall_seconds",
    ):
        assert key in manifest, f"manifest lacks {key!r}"
    assert manifest["scenario_sha256"] == scenario_hash(SMALL), (
        "manifest hash is the scenario's hash"
    )
    assert manifest["root_seed"] == SMALL.seed and manifest["seeds"] == replicate_seeds(
        SMALL.seed, 2
    ), "seeds"
    assert manifest["started"].endswith("Z") and manifest["finished"].endswith("Z"), "times in UTC"


def test_manifest_hash_changes_iff_the_resolved_scenario_changes(
    two_replicates, tmp_path: Path
) -> None:
    a = write_run(two_replicates, SMALL, tmp_path / "a")
    b = write_run(two_replicates, SMALL, tmp_path / "b")
    changed = with_overrides(SMALL, {"policy.corridors.GD-HK.data.approval": 0.31})
    c = write_run(two_replicates, changed, tmp_path / "c")
    hashes = [json.loads((p / "manifest.json").read_text())["scenario_sha256"] for p in (a, b, c)]
    assert hashes[0] == hashes[1], "the same scenario must give the same hash"
    assert hashes[0] != hashes[2], "a changed lever must change the hash"
    reloaded = load_scenario(a / "scenario.resolved.yaml")
    assert scenario_hash(reloaded) == hashes[0], (
        "scenario.resolved.yaml must hash to the manifest's value"
    )


def test_existing_folder_is_not_overwritten_without_force(two_replicates, tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ResultsExistError):
        write_run(two_replicates, SMALL, out)
    assert _listing(out) == ["notes.txt"], "a refused write must leave the folder as it was"
    with pytest.raises(IncompleteResultsError, match="not a flowsim results folder"):
        write_run(two_replicates, SMALL, out, force=True)
    assert _listing(out) == ["notes.txt"], "--force must never replace a folder of other files"
    results = tmp_path / "results-run"
    write_run(two_replicates, SMALL, results)
    write_run(two_replicates, SMALL, results, force=True)
    assert _listing(results) == sorted(FILES), "--force replaces a results folder"
    assert sorted(_listing(tmp_path)) == ["results-run", "run"], (
        f"leftovers after replacing: {_listing(tmp_path)}"
    )


def test_failed_write_leaves_nothing_that_looks_complete(
    two_replicates, tmp_path: Path, monkeypatch
) -> None:
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(results_module, "summary", broken)
    with pytest.raises(OSError, match="disk full"):
        write_run(two_replicates, SMALL, tmp_path / "run")
    assert _listing(tmp_path) == [], f"a failed write left {_listing(tmp_path)}"


def test_failed_forced_write_keeps_the_old_result(
    two_replicates, tmp_path: Path, monkeypatch
) -> None:
    out = write_run(two_replicates, SMALL, tmp_path / "run")
    before = (out / "manifest.json").read_text()
    monkeypatch.setattr(
        results_module, "summary", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full"))
    )
    with pytest.raises(OSError):
        write_run(two_replicates, SMALL, out, force=True)
    assert (out / "manifest.json").read_text() == before, (
        "the old result must survive a failed replacement"
    )
    assert _listing(tmp_path) == ["run"], f"leftovers: {_listing(tmp_path)}"


def test_read_run_refuses_incomplete_or_altered_folders(two_replicates, tmp_path: Path) -> None:
    out = write_run(two_replicates, SMALL, tmp_path / "run")
    (out / "summary.json").write_text("{}")
    with pytest.raises(IncompleteResultsError, match="summary.json changed"):
        read_run(out)
    (out / "manifest.json").unlink()
    with pytest.raises(IncompleteResultsError, match="missing manifest.json"):
        read_run(out)


def test_default_folder_is_named_after_the_scenario_and_never_reused(tmp_path: Path) -> None:
    now = datetime(2025, 9, 4, 7, 55, 0, tzinfo=UTC)
    scenario = with_overrides(SMALL, {"name": "data sandbox/v2"})
    first = default_out_dir(scenario, root=tmp_path, now=now)
    assert first == tmp_path / "data-sandbox-v2-20250904T075500Z", f"bad name {first}"
    first.mkdir()
    second = default_out_dir(scenario, root=tmp_path, now=now)
    assert second == tmp_path / "data-sandbox-v2-20250904T075500Z-2", (
        f"an existing folder was chosen again: {second}"
    )


def test_counters_in_the_summary_match_the_timeseries(two_replicates, tmp_path: Path) -> None:
    folder = read_run(write_run(two_replicates, SMALL, tmp_path / "run"))
    ts = folder.timeseries
    first_year = ts[(ts["replicate"] == 0) & (ts["year"] == 2025)]
    record = folder.summary["yearly"][0]
    for name in ("papers", "vc_deals", "startups"):
        assert name in COUNTERS
        assert record[name] == pytest.approx(first_year[name].sum()), (
            f"yearly {name} must sum the months"
        )


def test_a_run_without_flow_recording_still_writes_a_complete_folder(tmp_path: Path) -> None:
    scenario = with_overrides(SMALL, {"outputs.flows": False, "steps": 6})
    results = flowsim.run_replicates(scenario, 1)
    assert results[0].flows.empty, "no flows are recorded when outputs.flows is false"
    assert results[0].flows["count"].dtype.kind == "f", "the empty flows table keeps its types"
    folder = write_run(results, scenario, tmp_path / "noflows")
    assert (folder / "manifest.json").exists(), "the folder is complete"
    summary = json.loads((folder / "summary.json").read_text())
    assert all(row["count"] == 0 for row in summary["cross_border_flows"]), "no crossings"
