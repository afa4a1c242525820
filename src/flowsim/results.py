"""Results on disk: one folder per run, written atomically, with a manifest.

A results folder holds:

- ``timeseries.parquet`` — one row per replicate and month: ``replicate``, ``seed``,
  ``step``, ``year``, then every output of :data:`flowsim.outputs.REPORTED` in
  real-world units;
- ``flows.parquet`` — one row per replicate, month, element, channel, origin and
  destination city with any flow: ``count``, ``volume``, ``mean_delay_days``,
  ``refusals``;
- ``by_city.parquet`` — one row per replicate, year, city, field and output (the
  outputs of :data:`flowsim.tally.BY_CITY_OUTPUTS`): ``value`` in real-world units,
  counters summed over the year, stocks at its end; papers by whole counting;
- ``links.parquet`` — one row per replicate, year, link kind, origin city,
  destination city and field with any link: ``count`` and ``volume``
  (:data:`flowsim.tally.LINK_KINDS`);
- ``summary.json`` — yearly outputs per replicate, averaged over replicates, and
  their annual means, cross-border flows per corridor and element, and the by-city
  outputs averaged over replicates (``by_city``, non-zero values only). It is strict
  JSON: a value that is not a finite number is written ``null`` (undefined), never
  ``NaN`` or ``Infinity`` (:func:`flowsim.diskio.strict_json`);
- ``scenario.resolved.yaml`` — the whole scenario that ran (after ``extends``,
  defaults and command-line overrides);
- ``manifest.json`` — how the results were made: versions, git commit, command,
  scenario hash, seeds, times, and the sha256 of every other file. It is written
  last; a folder without it is not a complete result;
- ``agents.parquet`` (only with ``flowsim run --agents``) — one row per replicate, firm
  and lab: its name if it is a named anchor, city, field, founding and closing month,
  and its own patents, PCT applications, papers and VC raised
  (:data:`flowsim.agents.AGENT_COLUMNS`).

An *ensemble run* (``flowsim run --ensemble DIR``, :mod:`flowsim.ensemble`) writes
the same files; its tables have a ``parameter_set`` column after ``seed``, and its
manifest an ``ensemble`` entry (the ensemble folder, the hash of its values,
replicates per set and every set's values) and ``parameter_sets`` (the set of each
replicate). ``scenario.resolved.yaml`` is the scenario the sets were applied to.

:func:`write_run` writes into a hidden sibling folder and renames it into place
only when every file is written, so a failed or interrupted run never leaves a
folder that looks complete, and an existing folder is replaced only when asked.
"""

from __future__ import annotations

import json
import platform
import re
import shutil
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from flowsim.diskio import (
    WriterLock,
    foreign_entries,
    hidden_sibling,
    replace_folder,
    strict_json,
)
from flowsim.folders import FolderError, read_run_folder, sha256_file
from flowsim.outputs import REPORTED, UNITS
from flowsim.params import Scenario
from flowsim.provenance import git_commit, package_version
from flowsim.run import BY_CITY_COLUMNS as RUN_BY_CITY_COLUMNS
from flowsim.run import FLOW_COLUMNS as RUN_FLOW_COLUMNS
from flowsim.run import LINK_COLUMNS as RUN_LINK_COLUMNS
from flowsim.run import RunResult, stack_replicates
from flowsim.scenario import dump_scenario, load_scenario, scenario_hash
from flowsim.tables import annual_mean, corridor_flows, mean_yearly, yearly_records

TIMESERIES = "timeseries.parquet"
FLOWS = "flows.parquet"
BY_CITY = "by_city.parquet"
LINKS = "links.parquet"
SUMMARY = "summary.json"
SCENARIO = "scenario.resolved.yaml"
MANIFEST = "manifest.json"
FILES: tuple[str, ...] = (TIMESERIES, FLOWS, BY_CITY, LINKS, SUMMARY, SCENARIO, MANIFEST)
"""Every file of a complete results folder; the manifest is written last."""
AGENTS = "agents.parquet"
OPTIONAL_FILES: tuple[str, ...] = (AGENTS,)
"""Files a results folder holds when asked for (``flowsim run --agents``); the manifest
lists them with the others."""

FLOW_COLUMNS: tuple[str, ...] = ("replicate", "seed", *RUN_FLOW_COLUMNS)
"""Columns of ``flows.parquet`` (an ensemble run has ``parameter_set`` after ``seed``)."""

PARAMETER_SET = "parameter_set"
"""Column of an ensemble run's tables: the parameter set a replicate ran with."""

BY_CITY_COLUMNS: tuple[str, ...] = ("replicate", "seed", *RUN_BY_CITY_COLUMNS)
"""Columns of ``by_city.parquet``."""

LINK_COLUMNS: tuple[str, ...] = ("replicate", "seed", *RUN_LINK_COLUMNS)
"""Columns of ``links.parquet``."""

DEFAULT_ROOT = Path("results")
"""Where ``flowsim run`` puts a results folder when no ``--out`` is given."""


class ResultsExistError(FileExistsError):
    """The results folder exists and replacing it was not asked for."""

    def __init__(self, path: Path):
        self.path = path
        super().__init__(
            f"{path}: a results folder already exists here; nothing was written.\n"
            "    hint: give --force to replace it, or --out to choose another folder"
        )


class IncompleteResultsError(FolderError):
    """A folder is not a complete, intact results folder."""


@dataclass
class RunFolder:
    """A results folder read back from disk (see :func:`read_run`)."""

    path: Path
    timeseries: pd.DataFrame
    flows: pd.DataFrame
    summary: dict[str, Any]
    scenario: Scenario
    manifest: dict[str, Any]
    by_city: pd.DataFrame
    links: pd.DataFrame


# ------------------------------------------------------------------ tables


def timeseries_table(results: list[RunResult]) -> pd.DataFrame:
    """All replicates' monthly outputs in one tidy table."""
    table = stack_replicates(results, "timeseries")
    ids = [c for c in ("replicate", "seed", PARAMETER_SET) if c in table.columns]
    table = table[[*ids, "step", "year", *REPORTED]]
    return table.astype({"replicate": "int32", "seed": "int64", "step": "int32", "year": "int32"})


def flows_table(results: list[RunResult]) -> pd.DataFrame:
    """All replicates' flows in one tidy table (columns :data:`FLOW_COLUMNS`)."""
    table = stack_replicates(results, "flows")
    return table.astype({"replicate": "int32", "seed": "int64", "step": "int32"})[
        _with_set(table, FLOW_COLUMNS)
    ]


def _with_set(table: pd.DataFrame, columns: tuple[str, ...]) -> list[str]:
    """``columns``, with ``parameter_set`` after ``seed`` for an ensemble run's table."""
    out = list(columns)
    if PARAMETER_SET in table.columns:
        out.insert(out.index("seed") + 1, PARAMETER_SET)
    return out


def by_city_table(results: list[RunResult]) -> pd.DataFrame:
    """All replicates' by-city outputs in one tidy table (columns :data:`BY_CITY_COLUMNS`)."""
    table = stack_replicates(results, "by_city")
    return table.astype({"replicate": "int32", "seed": "int64", "year": "int32"})[
        _with_set(table, BY_CITY_COLUMNS)
    ]


def links_table(results: list[RunResult]) -> pd.DataFrame:
    """All replicates' links in one tidy table (columns :data:`LINK_COLUMNS`)."""
    table = stack_replicates(results, "links")
    return table.astype({"replicate": "int32", "seed": "int64", "year": "int32"})[
        _with_set(table, LINK_COLUMNS)
    ]


def mean_by_city(results: list[RunResult]) -> pd.DataFrame:
    """By-city outputs averaged over replicates: one row per (year, city, field, output)."""
    table = by_city_table(results)
    means = (
        table.groupby(["year", "city", "field", "output"], observed=True)["value"]
        .sum()
        .div(len(results))
        .reset_index()
    )
    for column in ("city", "field", "output"):
        means[column] = means[column].astype(str)
    return means


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", double_precision=15))


def summary(results: list[RunResult], scenario: Scenario) -> dict[str, Any]:
    """The content of ``summary.json``: yearly outputs in real-world units."""
    return {
        "scenario": scenario.name,
        "scale": scenario.scale,
        "steps": scenario.steps,
        "start_year": scenario.start_year,
        "replications": len(results),
        "seeds": [r.seed for r in results],
        "units": dict(UNITS),
        "yearly": _records(yearly_records(results)),
        "mean_yearly": _records(mean_yearly(results)),
        "annual_mean": annual_mean(results),
        "cross_border_flows": _records(corridor_flows(results)),
        "by_city": _records(by_city[by_city["value"] != 0])
        if len(by_city := mean_by_city(results))
        else [],
    }


# ------------------------------------------------------------------ provenance


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def manifest(
    results: list[RunResult],
    scenario: Scenario,
    started: datetime,
    finished: datetime,
    command: list[str] | None,
    file_hashes: dict[str, str],
    scenario_file: str | None = None,
    ensemble: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The content of ``manifest.json`` (``ensemble``: :meth:`flowsim.ensemble.Ensemble.record`)."""
    commit, dirty = git_commit()
    extra: dict[str, Any] = {}
    if ensemble is not None:
        extra = {
            "ensemble": ensemble,
            "parameter_sets": [int(r.extra.get(PARAMETER_SET, -1)) for r in results],
        }
    return {
        "flowsim": package_version("flowsim"),
        "mesa": package_version("mesa"),
        "numpy": package_version("numpy"),
        "pandas": package_version("pandas"),
        "pyarrow": package_version("pyarrow"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_commit": commit,
        "git_dirty": dirty,
        "command": command,
        "scenario": scenario.name,
        "scenario_file": scenario_file,
        "scenario_sha256": scenario_hash(scenario),
        "root_seed": scenario.seed,
        "seeds": [r.seed for r in results],
        "replications": len(results),
        "scale": scenario.scale,
        "steps": scenario.steps,
        "warmup_steps": scenario.warmup_steps,
        "policy_timing": _timing_label(scenario),
        "started": _iso(started),
        "finished": _iso(finished),
        "wall_seconds": round((finished - started).total_seconds(), 3),
        **extra,
        "files": file_hashes,
    }


# ------------------------------------------------------------------ folders


def default_out_dir(
    scenario: Scenario, root: Path = DEFAULT_ROOT, now: datetime | None = None
) -> Path:
    """``results/<scenario name>-<UTC time>``, with a numeric suffix if that exists already."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario.name).strip("-.") or "scenario"
    candidate = root / f"{safe}-{stamp}"
    n = 2
    while candidate.exists():
        candidate = root / f"{safe}-{stamp}-{n}"
        n += 1
    return candidate


def is_results_folder(path: Path) -> bool:
    """Whether ``path`` is a folder written by :func:`write_run` (its manifest says so)."""
    try:
        record = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(record, dict)
        and isinstance(record.get("files"), dict)
        and "scenario_sha256" in record
        and all(name in FILES or name in OPTIONAL_FILES for name in record["files"])
    )


def user_entries(out_dir: Path) -> list[str]:
    """What a user added to a results folder (not one of :data:`FILES`): kept by ``--force``."""
    return foreign_entries(Path(out_dir), lambda name: name in FILES or name in OPTIONAL_FILES)


def _contains_cwd(path: Path) -> bool:
    try:
        here = Path.cwd().resolve()
    except OSError:
        return False
    target = path.resolve()
    return here == target or target in here.parents


def check_out_dir(out_dir: Path, force: bool) -> None:
    """Refuse before any work when ``out_dir`` cannot be written.

    ``--force`` replaces only a results folder written by flowsim (its
    ``manifest.json`` says so); any other folder, a file, or the current folder
    (or one that holds it) is never replaced. Within a results folder it replaces
    only flowsim's files (:data:`FILES`): what the user added (notes, ``figures/``, a
    notebook) is moved into the new folder unchanged (:func:`user_entries`).

    Raises:
        ResultsExistError: it exists and ``force`` is false.
        IncompleteResultsError: it exists and cannot be replaced (never replaced).
    """
    if out_dir.name in ("", ".", "..") or _contains_cwd(out_dir):
        raise IncompleteResultsError(
            f"{out_dir}: is the current folder or holds it; give --out a new folder's name "
            "(e.g. --out results/my-run)"
        )
    if out_dir.exists() or out_dir.is_symlink():
        if not out_dir.is_dir() or out_dir.is_symlink():
            raise IncompleteResultsError(
                f"{out_dir}: exists and is not a results folder; nothing was written. "
                "Choose another --out"
            )
        if not force:
            raise ResultsExistError(out_dir)
        if not is_results_folder(out_dir):
            raise IncompleteResultsError(
                f"{out_dir}: exists and is not a flowsim results folder (no flowsim "
                "manifest.json), so --force will not replace it; nothing was written. "
                "Choose another --out"
            )


def check_writable(folder: Path) -> None:
    """Refuse before any work when no folder can be created in ``folder``'s parent.

    Raises:
        IncompleteResultsError: the parent cannot be created or written (read-only,
            /proc, no permission, a file in the way).
    """
    parent = folder.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        probe = parent / f".flowsim-probe-{uuid.uuid4().hex[:8]}"
        probe.mkdir()
        probe.rmdir()
    except OSError as err:
        reason = err.strerror or str(err)
        raise IncompleteResultsError(
            f"{folder}: cannot write results in {parent} ({reason}); nothing was written. "
            "Choose another --out"
        ) from None


def _timing_label(scenario: Scenario) -> str:
    """When the policy was in force, in words (a steady state says so)."""
    from flowsim.timing import label

    return label(scenario)


def write_run(
    results: list[RunResult],
    scenario: Scenario,
    out_dir: str | Path,
    force: bool = False,
    started: datetime | None = None,
    finished: datetime | None = None,
    command: list[str] | None = None,
    scenario_file: str | None = None,
    ensemble: dict[str, Any] | None = None,
) -> Path:
    """Write a complete results folder atomically and return its path.

    The files are written into a hidden sibling ``.NAME.partial-<token>`` (locked by
    a :class:`~flowsim.diskio.WriterLock` while it is written) and put in place by
    :func:`~flowsim.diskio.replace_folder`: at every instant ``out_dir`` holds the old
    complete folder or the new one. A kill leaves the partial folder, which the next
    run in the same parent folder removes (:func:`~flowsim.diskio.clean_stale`).

    Args:
        results: one :class:`~flowsim.run.RunResult` per replicate, in replicate order.
        scenario: the scenario that ran (after overrides); its root seed is ``scenario.seed``.
        out_dir: the folder to create.
        force: replace ``out_dir`` if it is a flowsim results folder (only once the new
            folder is complete); entries flowsim did not write are kept in it.
        started: when the run began (default: ``finished``).
        finished: when the run ended (default: now).
        command: the command line that made the run, for the manifest.
        scenario_file: the scenario file the run was loaded from, for the manifest.
        ensemble: for an ensemble run, :meth:`flowsim.ensemble.Ensemble.record` (manifest).

    Raises:
        ResultsExistError: ``out_dir`` exists and ``force`` is false.
        IncompleteResultsError: ``out_dir`` exists and is not a results folder.
    """
    if not results:
        raise ValueError("write_run needs at least one replicate")
    out_dir = Path(out_dir)
    check_out_dir(out_dir, force)
    finished = finished or datetime.now(UTC)
    started = started or finished
    token = uuid.uuid4().hex[:8]
    partial = hidden_sibling(out_dir, "partial", token)
    lock = WriterLock(partial, what="results folder")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
        partial.mkdir()
        timeseries_table(results).to_parquet(partial / TIMESERIES, index=False)
        flows_table(results).to_parquet(partial / FLOWS, index=False)
        by_city_table(results).to_parquet(partial / BY_CITY, index=False)
        links_table(results).to_parquet(partial / LINKS, index=False)
        written = [name for name in FILES if name != MANIFEST]
        if any(r.agents is not None for r in results):
            stack_replicates(results, "agents").to_parquet(partial / AGENTS, index=False)
            written.append(AGENTS)
        (partial / SUMMARY).write_text(
            strict_json(summary(results, scenario), indent=1) + "\n", encoding="utf-8"
        )
        (partial / SCENARIO).write_text(dump_scenario(scenario), encoding="utf-8")
        hashes = {name: sha256_file(partial / name) for name in written}
        record = manifest(
            results, scenario, started, finished, command, hashes, scenario_file, ensemble
        )
        (partial / MANIFEST).write_text(strict_json(record, indent=1) + "\n", encoding="utf-8")
        check_out_dir(out_dir, force)  # again: another run may have written it meanwhile
        keep = user_entries(out_dir) if out_dir.is_dir() else []
        replace_folder(partial, out_dir, token, keep=keep)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        lock.release()
    return out_dir


def read_run(path: str | Path, verify: bool = True) -> RunFolder:
    """Read a results folder written by :func:`write_run`.

    Built on the one folder reader, :func:`flowsim.folders.read_run_folder`.

    Args:
        path: the folder.
        verify: check every file against the sha256 in the manifest and the
            scenario against its hash.

    Raises:
        IncompleteResultsError: a file is missing or does not match the manifest.
        flowsim.yamlio.ConfigError: ``scenario.resolved.yaml`` is not a valid scenario.
    """
    path = Path(path)
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        raise IncompleteResultsError(
            f"{path}: not a complete results folder (missing {', '.join(missing)})"
        )
    try:
        data = read_run_folder(path, verify=verify)
    except FolderError as err:
        raise IncompleteResultsError(str(err)) from None
    scenario = load_scenario(path / SCENARIO)
    if verify and scenario_hash(scenario) != data.manifest.get("scenario_sha256"):
        raise IncompleteResultsError(
            f"{path}: {SCENARIO} does not match the manifest's scenario_sha256"
        )
    return RunFolder(
        path=path,
        timeseries=data.timeseries,
        flows=data.flows,
        summary=data.summary,
        scenario=scenario,
        manifest=data.manifest,
        by_city=pd.read_parquet(path / BY_CITY),
        links=pd.read_parquet(path / LINKS),
    )


def command_line() -> list[str]:
    """This process's command line, as recorded in a manifest."""
    return [Path(sys.argv[0]).name, *sys.argv[1:]]


__all__ = [
    "BY_CITY_COLUMNS",
    "DEFAULT_ROOT",
    "AGENTS",
    "FILES",
    "OPTIONAL_FILES",
    "LINK_COLUMNS",
    "FLOW_COLUMNS",
    "IncompleteResultsError",
    "ResultsExistError",
    "RunFolder",
    "check_out_dir",
    "by_city_table",
    "default_out_dir",
    "links_table",
    "mean_by_city",
    "flows_table",
    "git_commit",
    "read_run",
    "summary",
    "timeseries_table",
    "user_entries",
    "write_run",
]
