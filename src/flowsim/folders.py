"""Read a results folder for figures and comparisons: a run's or a sweep's.

A *run folder* (written by ``flowsim run``) holds ``timeseries.parquet``,
``flows.parquet``, ``summary.json`` and ``manifest.json``; a *sweep folder*
(written by ``flowsim sweep``) holds ``runs.parquet`` and a ``manifest.json``
with ``"kind": "sweep"``, and ``sensitivity.csv`` once ``flowsim sensitivity``
has analysed it. The kind of a folder is told by the files in it.

Only what figures and comparisons need is read here, with plain pandas and
json, so that this module does not depend on how the folders are written.

This is the one reader of results folders: :func:`flowsim.results.read_run` and
:func:`flowsim.sweep.api.read_sweep` build on it. It refuses a damaged folder —
a file whose sha256 differs from the manifest's, a ``summary.json`` or manifest
that is not a JSON object, a sweep whose run ids are missing or repeated — with a
:class:`FolderError` that names the folder and the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

RUN_FILES: tuple[str, ...] = ("timeseries.parquet", "flows.parquet", "summary.json")
"""Files every run folder has."""

SWEEP_FILES: tuple[str, ...] = ("runs.parquet",)
"""Files every sweep folder has."""

VERIFIED_SWEEP_FILES: tuple[str, ...] = ("runs.parquet", "design.parquet")
"""Files of a sweep folder checked against the manifest's sha256 whenever it is read
(``timeseries.parquet`` is hashed too, but not re-read on every open: it may be large)."""

SWEEP_ID_COLUMNS: tuple[str, ...] = ("run_id", "point_id", "replicate", "seed", "error")
"""Columns of ``runs.parquet`` that are neither a parameter nor an outcome."""


def safe_name(name: str, fallback: str = "unnamed") -> str:
    """``name`` made safe as one folder name inside ``results/`` (for default folders).

    A scenario's or targets file's ``name`` is free text: ``../../x`` or ``/abs/path``
    must not make a default output folder climb out of ``results/``. Every run of
    characters other than letters, digits, ``_``, ``.`` and ``-`` becomes one ``-``
    (so no slash or backslash is left), runs of dots become one dot (so no ``..``), and
    leading and trailing dots and dashes go (no hidden name). At most 80 characters;
    ``fallback`` if nothing is left.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(name))
    safe = re.sub(r"\.{2,}", ".", safe).strip("-.")[:80].strip("-.")
    return safe or fallback


class FolderError(ValueError):
    """A folder is not a readable run or sweep folder; the message says what to do."""


@dataclass
class RunData:
    """What figures need from a run folder.

    Attributes:
        path: the folder.
        name: the scenario's name (``summary["scenario"]``).
        timeseries: one row per replicate and month: ``replicate``, ``seed``, ``step``, ``year``,
            then every reported output (real-world units).
        flows: one row per replicate, month, element, origin and destination with a flow.
        summary: the parsed ``summary.json``.
        manifest: the parsed ``manifest.json`` (empty if the folder has none).
    """

    path: Path
    name: str
    timeseries: pd.DataFrame
    flows: pd.DataFrame
    summary: dict[str, Any]
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def yearly(self) -> pd.DataFrame:
        """One row per replicate and year (``summary["yearly"]``)."""
        return pd.DataFrame.from_records(self.summary.get("yearly", []))

    @property
    def months(self) -> int:
        """Number of recorded months of each replicate."""
        if "steps" in self.summary:
            return int(self.summary["steps"])
        return int(self.timeseries["step"].max()) + 1


@dataclass
class SweepData:
    """What figures need from a sweep folder.

    Attributes:
        path: the folder.
        runs: one row per run (``runs.parquet``).
        manifest: the parsed ``manifest.json`` (empty if the folder has none).
        sensitivity: the tidy ``sensitivity.csv``, or None before ``flowsim sensitivity`` ran.
    """

    path: Path
    runs: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)
    sensitivity: pd.DataFrame | None = None


def folder_kind(path: str | Path) -> Literal["run", "sweep"]:
    """Whether ``path`` is a run folder or a sweep folder, told by the files in it.

    Raises:
        FolderError: ``path`` is not a folder, or has the files of neither kind.
    """
    folder = Path(path)
    if not folder.is_dir():
        from flowsim.yamlio import missing_reason

        reason = missing_reason(folder, "folder") if not folder.exists() else "not a folder"
        raise FolderError(
            f"{folder}: {reason}; give a folder written by `flowsim run` or `flowsim sweep`"
        )
    if all((folder / name).is_file() for name in SWEEP_FILES):
        return "sweep"
    if all((folder / name).is_file() for name in RUN_FILES):
        return "run"
    present = sorted(p.name for p in folder.iterdir())
    raise FolderError(
        f"{folder}: neither a run folder (needs {', '.join(RUN_FILES)}) nor a sweep folder "
        f"(needs {', '.join(SWEEP_FILES)}); it holds {present or 'nothing'}. "
        "Give a folder written by `flowsim run` or `flowsim sweep`."
    )


def _read_json(path: Path, required: bool = False) -> dict[str, Any]:
    """A JSON object from ``path`` ({} if the file is absent and not ``required``)."""
    if not path.is_file():
        if required:
            raise FolderError(
                f"{path.parent}: not a complete results folder (missing {path.name}); "
                "write the folder again"
            )
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise FolderError(
            f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg}); the folder is damaged, "
            "write it again"
        ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise FolderError(f"{path}: cannot be read ({err}); write the folder again") from None
    if not isinstance(data, dict):
        raise FolderError(
            f"{path}: holds {type(data).__name__ if data is not None else 'null'}, not a JSON "
            "object; the folder is damaged, write it again"
        )
    return data


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_files(
    folder: Path,
    manifest: dict[str, Any],
    names: tuple[str, ...] | None = None,
    what: str = "run",
) -> None:
    """Check the files the manifest lists (only ``names``, if given) against their sha256.

    Raises:
        FolderError: a listed file is missing or changed since the folder was written.
    """
    files = manifest.get("files")
    if isinstance(files, dict) and names is not None:
        files = {k: v for k, v in files.items() if k in names}
    if not isinstance(files, dict):
        raise FolderError(
            f"{folder / 'manifest.json'}: lists no file hashes (`files`); the folder is "
            "damaged or not written by flowsim, write it again"
        )
    missing = [name for name in files if not (folder / str(name)).is_file()]
    if missing:
        raise FolderError(f"{folder}: not a complete results folder (missing {', '.join(missing)})")
    changed = [name for name, digest in files.items() if sha256_file(folder / name) != digest]
    if changed:
        raise FolderError(
            f"{folder}: {', '.join(changed)} changed since the {what} was written (sha256 differs "
            "from manifest.json); write the folder again"
        )


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for damaged files
        raise FolderError(
            f"{path}: cannot be read as Parquet ({err}); write the folder again"
        ) from err


def read_run_folder(path: str | Path, verify: bool = True) -> RunData:
    """Read a run folder written by ``flowsim run`` (or :func:`flowsim.results.write_run`).

    Args:
        path: the folder.
        verify: require ``manifest.json`` and check every file against its sha256.

    Raises:
        FolderError: the folder is missing a file, a file cannot be read, or (``verify``)
            a file differs from the manifest.
    """
    folder = Path(path)
    if folder_kind(folder) != "run":
        raise FolderError(
            f"{folder}: this is a sweep folder; give a run folder (from `flowsim run`)"
        )
    manifest = _read_json(folder / "manifest.json", required=verify)
    if verify:
        verify_files(folder, manifest)
    summary = _read_json(folder / "summary.json", required=True)
    timeseries = _read_parquet(folder / "timeseries.parquet")
    flows = _read_parquet(folder / "flows.parquet")
    for name, frame, needed in (
        ("timeseries.parquet", timeseries, ("step", "year")),
        ("flows.parquet", flows, ("step", "element", "origin", "destination", "count", "volume")),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise FolderError(
                f"{folder / name}: lacks columns {missing}; write the folder again (`flowsim run`)"
            )
    if "replicate" not in timeseries.columns:
        timeseries.insert(0, "replicate", 0)
    if "replicate" not in flows.columns:
        flows.insert(0, "replicate", 0)
    from flowsim.yamlio import printable

    name = printable(summary.get("scenario") or folder.name)
    return RunData(folder, name, timeseries, flows, summary, manifest)


def read_sweep_folder(path: str | Path) -> SweepData:
    """Read a sweep folder written by ``flowsim sweep`` (and ``flowsim sensitivity``, if run).

    Raises:
        FolderError: the folder is not a sweep folder or a file cannot be read.
    """
    folder = Path(path)
    if folder_kind(folder) != "sweep":
        raise FolderError(
            f"{folder}: this is a run folder; give a sweep folder (from `flowsim sweep`)"
        )
    manifest = _read_json(folder / "manifest.json")
    if manifest and manifest.get("status") not in (None, "complete"):
        raise FolderError(
            f"{folder}: the sweep is unfinished; complete it with `flowsim sweep FILE --resume "
            f"--out {folder}`"
        )
    runs = _read_parquet(folder / "runs.parquet")
    check_run_ids(folder, runs, manifest)
    if "files" in manifest:  # sweeps written before flowsim recorded hashes have none
        verify_files(folder, manifest, VERIFIED_SWEEP_FILES, what="sweep")
    sensitivity_file = folder / "sensitivity.csv"
    try:
        sensitivity = pd.read_csv(sensitivity_file) if sensitivity_file.is_file() else None
    except (ValueError, OSError) as err:
        raise FolderError(
            f"{sensitivity_file}: cannot be read ({err}); run `flowsim sensitivity` again"
        ) from None
    return SweepData(folder, runs, manifest, sensitivity)


def check_run_ids(folder: Path, runs: pd.DataFrame, manifest: dict[str, Any]) -> None:
    """Refuse a sweep whose ``runs.parquet`` lacks run ids or repeats them.

    The manifest's ``runs`` (the number of runs of the design) says which ids must be
    there: ``0 .. runs - 1``, each once.

    Raises:
        FolderError: naming the missing and repeated ids.
    """
    if "run_id" not in runs.columns:
        raise FolderError(f"{folder / 'runs.parquet'}: has no run_id column; run the sweep again")
    ids = pd.to_numeric(runs["run_id"], errors="coerce")
    repeated = sorted({int(i) for i in ids[ids.duplicated()].dropna()})
    expected = manifest.get("runs")
    missing: list[int] = []
    if isinstance(expected, int) and not isinstance(expected, bool):
        present = {int(i) for i in ids.dropna()}
        missing = [i for i in range(expected) if i not in present]
        extra = sorted(present - set(range(expected)))
    else:
        extra = []
    if repeated or missing or extra:
        parts = []
        for label, values in (("missing", missing), ("repeated", repeated), ("unknown", extra)):
            if values:
                shown = ", ".join(map(str, values[:10])) + (" ..." if len(values) > 10 else "")
                parts.append(f"{len(values)} run ids {label} ({shown})")
        raise FolderError(
            f"{folder}: runs.parquet is damaged: {'; '.join(parts)} "
            f"(the design has {expected} runs). It may have been written by two processes at "
            "once; run the sweep again with --force"
        )


def sweep_columns(
    runs: pd.DataFrame, manifest: dict[str, Any] | None = None
) -> tuple[list[str], list[str]]:
    """The varied parameters (levers and uncertainties) and the outcomes of a sweep, in order.

    The manifest's ``factors`` (or ``levers`` and ``uncertainties``) and ``outcomes`` name
    them; without a manifest, numeric columns that are reported outputs are outcomes and
    every other numeric column that is not an identifier is a parameter. Parameters with
    text values (e.g. a choice among named options) are left out: they cannot be an x axis.
    """
    from flowsim.outputs import REPORTED, YEARLY_SHARES

    manifest = manifest or {}
    columns = [c for c in runs.columns if c not in SWEEP_ID_COLUMNS]
    declared = _names(manifest.get("outcomes"))
    if declared:
        outcomes = [c for c in declared if c in columns]
    else:
        known = set(REPORTED) | set(YEARLY_SHARES)
        outcomes = [c for c in columns if c in known]
    factors = _names(manifest.get("factors")) or _names(manifest.get("levers")) + _names(
        manifest.get("uncertainties")
    )
    candidates = (
        [c for c in factors if c in columns]
        if factors
        else [c for c in columns if c not in outcomes]
    )
    parameters = [c for c in candidates if pd.api.types.is_numeric_dtype(runs[c])]
    return parameters, outcomes


def _names(declared: Any) -> list[str]:
    """Names from a manifest entry that is a list of names or a mapping keyed by name."""
    if isinstance(declared, dict):
        return [str(k) for k in declared]
    if isinstance(declared, (list, tuple)):
        return [str(k) for k in declared]
    return []
