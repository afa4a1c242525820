"""Read a results folder for figures and comparisons: a run's or a sweep's.

A *run folder* (written by ``flowsim run``) holds ``timeseries.parquet``,
``flows.parquet``, ``summary.json`` and ``manifest.json``; a *sweep folder*
(written by ``flowsim sweep``) holds ``runs.parquet`` and a ``manifest.json``
with ``"kind": "sweep"``, and ``sensitivity.csv`` once ``flowsim sensitivity``
has analysed it. The kind of a folder is told by the files in it.

Only what figures and comparisons need is read here, with plain pandas and
json, so that this module does not depend on how the folders are written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

RUN_FILES: tuple[str, ...] = ("timeseries.parquet", "flows.parquet", "summary.json")
"""Files every run folder has."""

SWEEP_FILES: tuple[str, ...] = ("runs.parquet",)
"""Files every sweep folder has."""

SWEEP_ID_COLUMNS: tuple[str, ...] = ("run_id", "point_id", "replicate", "seed", "error")
"""Columns of ``runs.parquet`` that are neither a parameter nor an outcome."""


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
        raise FolderError(
            f"{folder}: no such folder; give a folder written by `flowsim run` or `flowsim sweep`"
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


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise FolderError(f"{path}:{err.lineno}:{err.colno}: not valid JSON ({err.msg})") from err


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for damaged files
        raise FolderError(
            f"{path}: cannot be read as Parquet ({err}); write the folder again"
        ) from err


def read_run_folder(path: str | Path) -> RunData:
    """Read a run folder written by ``flowsim run`` (or :func:`flowsim.results.write_run`).

    Raises:
        FolderError: the folder is missing a file or a file cannot be read.
    """
    folder = Path(path)
    if folder_kind(folder) != "run":
        raise FolderError(
            f"{folder}: this is a sweep folder; give a run folder (from `flowsim run`)"
        )
    summary = _read_json(folder / "summary.json")
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
    name = str(summary.get("scenario") or folder.name)
    return RunData(folder, name, timeseries, flows, summary, _read_json(folder / "manifest.json"))


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
    sensitivity_file = folder / "sensitivity.csv"
    sensitivity = pd.read_csv(sensitivity_file) if sensitivity_file.is_file() else None
    return SweepData(
        folder,
        _read_parquet(folder / "runs.parquet"),
        _read_json(folder / "manifest.json"),
        sensitivity,
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
