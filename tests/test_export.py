"""flowsim export: every results table as CSV or one workbook; an RO-Crate of the folder."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

from flowsim.cli import main
from flowsim.export import CRATE, MISSING_OPENPYXL, RUN_TABLES, SUMMARY_TABLES, ro_crate

RUN_TABLE_NAMES = (*RUN_TABLES, *SUMMARY_TABLES)


@pytest.fixture
def run_folder(baseline_folder: Path, tmp_path: Path) -> Path:
    """A private copy of the shared tiny baseline run folder (3 replicates)."""
    return Path(shutil.copytree(baseline_folder, tmp_path / "baseline"))


def test_csv_export_holds_every_table_and_opens_in_pandas(run_folder, capsys):
    assert main(["export", str(run_folder), "--format", "csv"]) == 0
    out = run_folder / "csv"
    assert sorted(p.stem for p in out.iterdir()) == sorted(RUN_TABLE_NAMES)
    for name in RUN_TABLES:
        original = pd.read_parquet(run_folder / f"{name}.parquet")
        exported = pd.read_csv(out / f"{name}.csv")
        assert list(exported.columns) == list(original.columns), name
        assert len(exported) == len(original) > 0, name
    flows = pd.read_parquet(run_folder / "flows.parquet")
    exported = pd.read_csv(out / "flows.csv")
    assert exported["volume"].sum() == pytest.approx(flows["volume"].sum(), rel=1e-12)
    assert set(exported["origin"]) == set(flows["origin"].astype(str)), "categories as text"
    summary = json.loads((run_folder / "summary.json").read_text())
    yearly = pd.read_csv(out / "yearly.csv")
    assert len(yearly) == len(summary["yearly"]) and "papers" in yearly.columns
    printed = capsys.readouterr().out.split()
    assert str(out / "timeseries.csv") in printed and str(run_folder / CRATE) in printed


def test_xlsx_export_has_a_sheet_per_table_and_the_manifest(run_folder):
    openpyxl = pytest.importorskip("openpyxl")
    book = run_folder / "out.xlsx"
    assert main(["export", str(run_folder), "--format", "xlsx", "--out", str(book)]) == 0
    workbook = openpyxl.load_workbook(book, read_only=True)
    assert workbook.sheetnames == [*RUN_TABLE_NAMES, "manifest"]
    workbook.close()
    flows = pd.read_parquet(run_folder / "flows.parquet")
    sheet = pd.read_excel(book, sheet_name="flows", engine="openpyxl")
    assert len(sheet) == len(flows) and sheet["count"].sum() == pytest.approx(flows["count"].sum())
    manifest = pd.read_excel(book, sheet_name="manifest", engine="openpyxl", dtype=str)
    seeds = json.loads(manifest.set_index("key").loc["seeds", "value"])
    assert seeds == json.loads((run_folder / "manifest.json").read_text())["seeds"]


def test_xlsx_without_openpyxl_names_the_extra(run_folder, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    assert main(["export", str(run_folder), "--format", "xlsx"]) == 2
    err = capsys.readouterr().err
    assert MISSING_OPENPYXL in err and "flowsim[export]" in err, err
    assert not (run_folder / f"{run_folder.name}.xlsx").exists()


def test_nothing_is_overwritten_without_force_and_force_replaces_only_an_export(
    run_folder, tmp_path, capsys
):
    out = tmp_path / "tables"
    assert main(["export", str(run_folder), "--format", "csv", "--out", str(out)]) == 0
    (out / "flows.csv").write_text("edited\n")
    assert main(["export", str(run_folder), "--format", "csv", "--out", str(out)]) == 2
    assert "exists already" in capsys.readouterr().err
    assert (out / "flows.csv").read_text() == "edited\n", "the earlier export was changed"
    assert main(["export", str(run_folder), "--format", "csv", "--out", str(out), "--force"]) == 0
    assert (out / "flows.csv").read_text() != "edited\n", "--force must replace an earlier export"
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's notes")
    assert main(["export", str(run_folder), "--format", "csv", "--out", str(mine), "--force"]) == 2
    assert "is not a CSV folder written by flowsim export" in capsys.readouterr().err
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    text = tmp_path / "t.txt"
    assert main(["export", str(run_folder), "--format", "xlsx", "--out", str(text)]) == 2
    err = capsys.readouterr().err
    assert "must end in .xlsx" in err or "flowsim[export]" in err, err


def test_an_edited_or_missing_folder_is_refused_with_exit_2(run_folder, tmp_path, capsys):
    assert main(["export", str(tmp_path / "missing"), "--format", "csv"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    pd.read_parquet(run_folder / "flows.parquet").head(3).to_parquet(run_folder / "flows.parquet")
    assert main(["export", str(run_folder), "--format", "csv"]) == 2
    assert "changed since the run was written" in capsys.readouterr().err
    assert not (run_folder / "csv").exists()


def test_a_sweep_folder_exports_runs_and_sensitivity(sweep_folder, tmp_path):
    folder = Path(shutil.copytree(sweep_folder, tmp_path / "sweep"))
    assert main(["export", str(folder), "--format", "csv", "--out", str(tmp_path / "o")]) == 0
    runs = pd.read_csv(tmp_path / "o" / "runs.csv")
    assert len(runs) == len(pd.read_parquet(folder / "runs.parquet"))
    assert (tmp_path / "o" / "sensitivity.csv").is_file()


def _ids(value) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [item["@id"] for item in items]


def test_ro_crate_describes_the_folder_its_files_seeds_and_software(run_folder):
    assert main(["export", str(run_folder), "--format", "csv"]) == 0
    crate = json.loads((run_folder / CRATE).read_text())
    manifest = json.loads((run_folder / "manifest.json").read_text())
    assert crate["@context"] == "https://w3id.org/ro/crate/1.1/context"
    graph = {entity["@id"]: entity for entity in crate["@graph"]}
    assert len(graph) == len(crate["@graph"]), "every @id once"
    descriptor = graph[CRATE]
    assert descriptor["conformsTo"] == {"@id": "https://w3id.org/ro/crate/1.1"}
    assert descriptor["about"] == {"@id": "./"}
    root = graph["./"]
    assert root["@type"] == "Dataset" and root["name"] and root["datePublished"]
    listed = set()
    pending = _ids(root["hasPart"])
    while pending:
        part = pending.pop()
        listed.add(part)
        pending += _ids(graph[part].get("hasPart", []))
    on_disk = {
        p.relative_to(run_folder).as_posix()
        for p in run_folder.rglob("*")
        if p.is_file() and p.name != CRATE and not p.name.startswith(".")
    }
    assert on_disk <= listed, f"files the crate omits: {on_disk - listed}"
    assert "csv/" in listed and graph["csv/"]["@type"] == "Dataset"
    for name, digest in manifest["files"].items():
        assert graph[name]["@type"] == "File" and graph[name]["sha256"] == digest, name
    assert graph["timeseries.parquet"]["encodingFormat"] == "application/vnd.apache.parquet"
    action = graph["#flowsim-run"]
    assert action["@type"] == "CreateAction" and action["instrument"] == {"@id": "#flowsim"}
    parameters = {
        graph[i]["name"]: graph[i]["value"] for i in _ids(action["object"]) if i[0] == "#"
    }
    assert json.loads(parameters["seeds"]) == manifest["seeds"]
    assert parameters["root_seed"] == manifest["root_seed"]
    assert "scenario.resolved.yaml" in _ids(action["object"])
    assert graph["#flowsim"]["version"] == manifest["flowsim"]
    assert graph["#mesa"]["version"] == manifest["mesa"]
    referenced = {
        ref["@id"]
        for entity in crate["@graph"]
        for value in entity.values()
        for ref in (value if isinstance(value, list) else [value])
        if isinstance(ref, dict) and "@id" in ref and not ref["@id"].startswith("http")
    }
    assert referenced <= set(graph), f"dangling references: {referenced - set(graph)}"


def test_a_crate_flowsim_did_not_write_is_kept_without_force(run_folder, capsys):
    (run_folder / CRATE).write_text('{"@graph": []}')
    assert main(["export", str(run_folder), "--format", "csv"]) == 2
    assert "was not written by flowsim" in capsys.readouterr().err
    assert (run_folder / CRATE).read_text() == '{"@graph": []}'
    assert not (run_folder / "csv").exists(), "refused, yet the tables were exported"
    assert ro_crate(run_folder)["@graph"][1]["@id"] == "./"
