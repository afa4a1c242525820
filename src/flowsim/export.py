"""Results for R and spreadsheet users: CSV files, an Excel workbook, an RO-Crate.

A run folder keeps its tables in Parquet (``timeseries``, ``flows``, ``by_city``,
``links``) and its yearly tables inside ``summary.json`` (``yearly``,
``mean_yearly``, ``cross_border_flows``); a sweep folder keeps ``runs`` and
``design`` (and ``sensitivity`` once computed). :func:`results_tables` reads them
all, each as a tidy table; :func:`export_csv` writes them as one CSV file each in a
folder, :func:`export_xlsx` as one workbook with a sheet each (and a ``manifest``
sheet). Nothing that exists is replaced without ``force``, and ``force`` replaces
only what an earlier export wrote.

:func:`write_ro_crate` describes a results folder in ``ro-crate-metadata.json``
(RO-Crate 1.1, JSON-LD): every file in it, the scenario that ran, the seeds, the
software and versions that made it (all read from ``manifest.json``), so that
repositories and workflow tools that read RO-Crates can index and cite the results.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.diskio import atomic_path, output_lock, strict_json, write_text_atomic
from flowsim.folders import FolderError, folder_kind, read_run_folder, read_sweep_folder

FORMATS: tuple[str, ...] = ("csv", "xlsx")
"""Formats of ``flowsim export``."""

RUN_TABLES: tuple[str, ...] = ("timeseries", "flows", "by_city", "links")
"""Parquet tables of a run folder, in the order they are exported."""

SUMMARY_TABLES: tuple[str, ...] = ("yearly", "mean_yearly", "cross_border_flows")
"""Tables kept in a run folder's ``summary.json`` (lists of records)."""

SWEEP_TABLES: tuple[str, ...] = ("runs", "design")
"""Parquet tables of a sweep folder."""

EXCEL_ROWS = 1_048_576
"""Rows of an Excel sheet, the header included (Excel's own limit)."""

CRATE = "ro-crate-metadata.json"
"""The RO-Crate metadata file's name (fixed by the RO-Crate 1.1 specification)."""

CRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
CRATE_SPEC = "https://w3id.org/ro/crate/1.1"
SOFTWARE_ID = "#flowsim"
"""The crate entity of flowsim itself; a crate holding it is one flowsim wrote."""

FORMAT_TYPES: dict[str, str] = {
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
    ".md": "text/markdown",
}

MISSING_OPENPYXL = (
    "flowsim export --format xlsx needs openpyxl: install the export extra, "
    "pip install 'flowsim[export]' (from a clone: pip install -e '.[export]'), "
    "or use --format csv"
)


class ExportError(ValueError):
    """An export cannot be written as asked; the message says what to do."""


def results_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Every results table of a run or sweep folder, by name (the files are verified first).

    Raises:
        FolderError: not a results folder, or a file is missing, damaged or edited.
    """
    folder = Path(folder)
    if folder_kind(folder) == "sweep":
        sweep = read_sweep_folder(folder)
        tables = {"runs": sweep.runs}
        if (folder / "design.parquet").is_file():
            tables["design"] = pd.read_parquet(folder / "design.parquet")
        if sweep.sensitivity is not None:
            tables["sensitivity"] = sweep.sensitivity
        return tables
    data = read_run_folder(folder)
    tables = {"timeseries": data.timeseries, "flows": data.flows}
    for name in RUN_TABLES[2:]:
        if (folder / f"{name}.parquet").is_file():
            tables[name] = pd.read_parquet(folder / f"{name}.parquet")
    for name in SUMMARY_TABLES:
        records = data.summary.get(name)
        if isinstance(records, list) and records:
            tables[name] = pd.DataFrame.from_records(records)
    return tables


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories as their text, so every reader sees plain values."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(str)
    return out


def _refuse_existing(out: Path, force: bool, ours: bool, what: str) -> None:
    if not out.exists() and not out.is_symlink():
        return
    if not force:
        raise ExportError(
            f"{out}: exists already; give another --out, or --force to replace it "
            "(only an earlier export is replaced). Nothing was written."
        )
    if not ours or out.is_symlink():
        raise ExportError(
            f"{out}: exists and is not {what} written by flowsim export, so --force will not "
            "replace it; give another --out. Nothing was written."
        )


def _is_csv_export(folder: Path) -> bool:
    """Whether ``folder`` holds only what :func:`export_csv` writes (CSV files)."""
    if not folder.is_dir():
        return False
    names = [p.name for p in folder.iterdir()]
    return all(n.endswith(".csv") and (folder / n).is_file() for n in names)


def default_out(folder: str | Path, fmt: str) -> Path:
    """``FOLDER/csv/`` for CSV files, ``FOLDER/NAME.xlsx`` for a workbook."""
    folder = Path(os.path.abspath(folder))
    return folder / "csv" if fmt == "csv" else folder / f"{folder.name}.xlsx"


def export_csv(
    folder: str | Path, out: str | Path | None = None, force: bool = False
) -> list[Path]:
    """Write every results table of ``folder`` as ``OUT/NAME.csv``; return the files.

    The folder is written under a hidden name beside ``out`` and renamed into place
    complete. With ``force`` an earlier CSV export at ``out`` is replaced; anything
    else at ``out`` is refused.

    Raises:
        FolderError: ``folder`` is not a readable results folder.
        ExportError: ``out`` exists (without ``force``, or is not an earlier export).
        OSError: the files cannot be written (a full disk, a read-only folder).
    """
    out = Path(os.path.abspath(out)) if out is not None else default_out(folder, "csv")
    tables = results_tables(folder)
    _refuse_existing(out, force, _is_csv_export(out), "a CSV folder")
    with output_lock(out, what="export folder"):
        partial = out.with_name(f".{out.name}.partial-{uuid.uuid4().hex[:8]}")
        partial.mkdir(parents=True)
        try:
            for name, frame in tables.items():
                _plain(frame).to_csv(partial / f"{name}.csv", index=False)
            if out.exists():
                old = out.with_name(f".{out.name}.replaced-{uuid.uuid4().hex[:8]}")
                os.rename(out, old)
                os.rename(partial, out)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(partial, out)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return [out / f"{name}.csv" for name in tables]


def _manifest_rows(manifest: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for key, value in manifest.items():
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        rows.append({"key": key, "value": "" if value is None else str(value)})
    return pd.DataFrame(rows, columns=["key", "value"])


def export_xlsx(folder: str | Path, out: str | Path | None = None, force: bool = False) -> Path:
    """Write every results table of ``folder`` as a sheet of one ``.xlsx`` workbook.

    A ``manifest`` sheet holds the manifest's keys and values (lists and objects as
    JSON). With ``force`` an earlier workbook at ``out`` is replaced.

    Raises:
        FolderError: ``folder`` is not a readable results folder.
        ExportError: openpyxl is missing, ``out`` does not end in .xlsx or exists, or a
            table has more rows than an Excel sheet holds.
        OSError: the file cannot be written.
    """
    try:
        import openpyxl  # noqa: F401 - the writer of .xlsx (the export extra)
    except ImportError:
        raise ExportError(MISSING_OPENPYXL) from None
    out = Path(os.path.abspath(out)) if out is not None else default_out(folder, "xlsx")
    if out.suffix.lower() != ".xlsx":
        raise ExportError(f"{out}: a workbook's name must end in .xlsx; give --out NAME.xlsx")
    tables = results_tables(folder)
    big = {name: len(frame) for name, frame in tables.items() if len(frame) >= EXCEL_ROWS}
    if big:
        listed = ", ".join(f"{name} ({rows:,} rows)" for name, rows in big.items())
        raise ExportError(
            f"{folder}: {listed} exceed what an Excel sheet holds ({EXCEL_ROWS - 1:,} rows "
            "under the header); use --format csv. Nothing was written."
        )
    _refuse_existing(out, force, out.is_file(), "a workbook")
    manifest_file = Path(folder) / "manifest.json"
    manifest = (
        json.loads(manifest_file.read_text(encoding="utf-8")) if manifest_file.is_file() else {}
    )
    import openpyxl

    # openpyxl's write-only mode streams rows; pandas' to_excel builds every cell object
    # first (a 160,000-row run folder: 30 s and 710 MB that way, 21 s and 250 MB this way)
    book = openpyxl.Workbook(write_only=True)
    for name, frame in [*tables.items(), ("manifest", _manifest_rows(manifest))]:
        sheet = book.create_sheet(title=name[:31])
        sheet.append([str(column) for column in frame.columns])
        cells = _plain(frame).astype(object)
        for row in cells.where(cells.notna(), None).itertuples(index=False, name=None):
            sheet.append(row)
    with atomic_path(out) as tmp:
        book.save(tmp)
    return out


# ------------------------------------------------------------------ RO-Crate


def _files(folder: Path) -> list[Path]:
    """The files of ``folder`` and its sub-folders a crate lists (not hidden, not the crate)."""
    found = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(root) / name
            if name.startswith(".") or path.is_symlink() or path == folder / CRATE:
                continue
            found.append(path)
    return found


def _file_entity(path: Path, folder: Path, hashes: dict[str, str]) -> dict[str, Any]:
    relative = path.relative_to(folder).as_posix()
    entity: dict[str, Any] = {
        "@id": relative,
        "@type": "File",
        "name": path.name,
        "contentSize": str(path.stat().st_size),
    }
    kind = FORMAT_TYPES.get(path.suffix.lower())
    if kind:
        entity["encodingFormat"] = kind
    if relative in hashes:
        entity["sha256"] = hashes[relative]
    description = FILE_DESCRIPTIONS.get(relative) or FILE_DESCRIPTIONS.get(path.suffix.lower())
    if description:
        entity["description"] = description
    return entity


FILE_DESCRIPTIONS: dict[str, str] = {
    "timeseries.parquet": "one row per replicate and month: every reported output",
    "flows.parquet": "one row per replicate, month, element, channel, origin and destination",
    "by_city.parquet": "one row per replicate, year, city, field and output",
    "links.parquet": "one row per replicate, year, link kind, origin, destination and field",
    "summary.json": "yearly outputs per replicate and averaged over replicates",
    "scenario.resolved.yaml": "the whole scenario that ran (after extends and --set)",
    "manifest.json": "how the results were made: versions, git commit, command, seeds, hashes",
    "runs.parquet": "one row per run of the sweep: its levers, seed and outcomes",
    "design.parquet": "the sweep's design: one row per point",
    ".csv": "a results table exported as CSV (flowsim export)",
    ".xlsx": "the results tables exported as an Excel workbook (flowsim export)",
}

SOFTWARE_KEYS: tuple[str, ...] = ("mesa", "numpy", "pandas", "pyarrow", "python")
"""Versions in a manifest besides flowsim's own."""

PARAMETER_KEYS: tuple[str, ...] = (
    "scenario",
    "root_seed",
    "seeds",
    "replications",
    "scale",
    "steps",
    "warmup_steps",
    "git_commit",
    "git_dirty",
    "scenario_sha256",
)
"""Manifest entries recorded as the run's parameters (``PropertyValue`` entities)."""


def _value(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return value


def ro_crate(folder: str | Path, now: datetime | None = None) -> dict[str, Any]:
    """The RO-Crate 1.1 metadata (a JSON-LD object) of a results folder.

    The root dataset ``./`` lists every file (not hidden) in ``hasPart``, sub-folders
    as datasets of their own; a ``CreateAction`` says flowsim made them from the
    scenario file with the manifest's seeds and settings; the software entities carry
    the versions the manifest recorded.
    """
    folder = Path(os.path.abspath(folder))
    manifest_file = folder / "manifest.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    manifest = manifest if isinstance(manifest, dict) else {}
    hashes = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    files = _files(folder)
    entities: list[dict[str, Any]] = []
    datasets: dict[str, dict[str, Any]] = {}
    top: list[dict[str, str]] = []
    for path in files:
        entity = _file_entity(path, folder, hashes)
        entities.append(entity)
        parent = path.parent.relative_to(folder).as_posix()
        if parent == ".":
            top.append({"@id": entity["@id"]})
            continue
        parts = parent.split("/")
        for depth in range(1, len(parts) + 1):  # every folder on the way, once
            name = "/".join(parts[:depth]) + "/"
            if name not in datasets:
                datasets[name] = {"@id": name, "@type": "Dataset", "name": parts[depth - 1]}
                datasets[name]["hasPart"] = []
                holder = "/".join(parts[: depth - 1]) + "/" if depth > 1 else None
                (datasets[holder]["hasPart"] if holder else top).append({"@id": name})
        datasets[parent + "/"]["hasPart"].append({"@id": entity["@id"]})
    kind = "sweep" if (folder / "runs.parquet").is_file() else "run"
    scenario = manifest.get("scenario") or manifest.get("name") or folder.name
    when = manifest.get("finished") or (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    software = {
        "@id": SOFTWARE_ID,
        "@type": "SoftwareApplication",
        "name": "flowsim",
        "description": "Agent-based simulator of cross-border innovation flows in the "
        "Guangdong-Hong Kong-Macao Greater Bay Area",
    }
    if manifest.get("flowsim"):
        software["version"] = str(manifest["flowsim"])
    requirements = []
    for key in SOFTWARE_KEYS:
        if manifest.get(key):
            requirements.append(
                {
                    "@id": f"#{key}",
                    "@type": "SoftwareApplication",
                    "name": "Python" if key == "python" else key,
                    "version": str(manifest[key]),
                }
            )
    if requirements:
        software["softwareRequirements"] = [{"@id": r["@id"]} for r in requirements]
    parameters = [
        {
            "@id": f"#parameter-{key}",
            "@type": "PropertyValue",
            "name": key,
            "value": _value(manifest[key]),
        }
        for key in PARAMETER_KEYS
        if key in manifest and manifest[key] is not None
    ]
    action: dict[str, Any] = {
        "@id": "#flowsim-run",
        "@type": "CreateAction",
        "name": f"flowsim {kind} {scenario}",
        "instrument": {"@id": SOFTWARE_ID},
        "result": [{"@id": "./"}],
        "object": [{"@id": p["@id"]} for p in parameters],
    }
    if (folder / "scenario.resolved.yaml").is_file():
        action["object"].insert(0, {"@id": "scenario.resolved.yaml"})
    if manifest.get("started"):
        action["startTime"] = manifest["started"]
    if manifest.get("finished"):
        action["endTime"] = manifest["finished"]
    if isinstance(manifest.get("command"), list):
        action["description"] = " ".join(str(part) for part in manifest["command"])
    root = {
        "@id": "./",
        "@type": "Dataset",
        "name": f"flowsim {kind} results: {scenario}",
        "description": f"Results of a flowsim {kind} of the scenario {scenario!s} "
        "(tables in Parquet and JSON; see manifest.json for how they were made).",
        "datePublished": when,
        "hasPart": top,
        "mentions": {"@id": "#flowsim-run"},
    }
    if (folder / "scenario.resolved.yaml").is_file():
        root["about"] = {"@id": "scenario.resolved.yaml"}
    graph = [
        {
            "@id": CRATE,
            "@type": "CreativeWork",
            "conformsTo": {"@id": CRATE_SPEC},
            "about": {"@id": "./"},
        },
        root,
        *datasets.values(),
        *entities,
        action,
        software,
        *requirements,
        *parameters,
    ]
    return {"@context": CRATE_CONTEXT, "@graph": graph}


def _is_our_crate(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    graph = data.get("@graph") if isinstance(data, dict) else None
    return isinstance(graph, list) and any(
        isinstance(e, dict) and e.get("@id") == SOFTWARE_ID for e in graph
    )


def _check_crate(folder: str | Path, force: bool) -> Path:
    path = Path(folder) / CRATE
    if path.exists() and not force and not _is_our_crate(path):
        raise ExportError(
            f"{path}: exists and was not written by flowsim; give --force to replace it. "
            "Nothing was written."
        )
    return path


def write_ro_crate(folder: str | Path, force: bool = False) -> Path:
    """Write (or refresh) ``FOLDER/ro-crate-metadata.json``; return its path.

    A crate flowsim wrote earlier is refreshed (the folder may hold new files); one
    written by anything else is replaced only with ``force``.

    Raises:
        ExportError: a crate that flowsim did not write is there and ``force`` is false.
        OSError: the file cannot be written.
    """
    path = _check_crate(folder, force)
    write_text_atomic(path, strict_json(ro_crate(folder), indent=1) + "\n")
    return path


def export(
    folder: str | Path, fmt: str, out: str | Path | None = None, force: bool = False
) -> list[Path]:
    """Export ``folder``'s tables in ``fmt`` (see :data:`FORMATS`), then describe the folder.

    Returns:
        The files written: the CSV files or the workbook, then ``ro-crate-metadata.json``.
    """
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt}: not a format; give one of {', '.join(FORMATS)}")
    if Path(folder).is_dir():
        _check_crate(folder, force)
    written = export_csv(folder, out, force) if fmt == "csv" else [export_xlsx(folder, out, force)]
    return [*written, write_ro_crate(folder, force=force)]


__all__ = [
    "CRATE",
    "ExportError",
    "FolderError",
    "export",
    "export_csv",
    "export_xlsx",
    "results_tables",
    "ro_crate",
    "write_ro_crate",
]
