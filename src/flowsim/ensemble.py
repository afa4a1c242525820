"""Run a scenario across an ensemble of parameter sets, so that effects carry parameter uncertainty.

An *ensemble folder* (written by ``flowsim calibrate``) holds parameter sets
consistent with the calibration targets::

    DIR/ensemble.csv     one row per parameter set: an id column (``member`` or ``set``,
                         integers; the row number if neither), then one column per
                         parameter named by its dotted path (``talent.move_rate``);
                         other columns (``trial``, ``objective``, ...) are ignored
    DIR/ensemble.yaml    the manifest (``format``, ``parameters``: the dotted paths, ...)
      or manifest.json

:func:`read_parameter_sets` is the one place this format is read; everything else
uses :class:`Ensemble`. It refuses (:class:`EnsembleError`, exit 2 on the command line,
naming the file, the line where there is one, and what to do):

- a manifest that is not a mapping, breaks the YAML limits of :mod:`flowsim.yamlio`
  (alias bombs are refused after a few hundred bytes), names another ``format``, or
  whose ``members`` is not the number of rows of the table (a truncated table);
- a table larger than :data:`MAX_TABLE_BYTES` or with more than :data:`MAX_MEMBERS`
  rows, a FIFO or a device, repeated column names, a parameter column the manifest
  does not declare, a value that is not a finite number;
- a parameter that is a run setting (``seed``, ``steps``, ``scale``, ``start_year``,
  ``warmup_steps``, ``outputs.*``) or a label: a parameter set never changes how a
  run is made, only the model's parameters;
- members whose ``within_all`` is false (they miss a calibration target), unless
  ``allow_misfit`` (``--allow-misfit``). Parameter set ``s`` is applied on top of the scenario
with :func:`flowsim.params.with_overrides`.

An *ensemble run* runs every parameter set with the same replicate seeds (common
random numbers across parameter sets, and across scenarios run with the same
root seed and ensemble): replicate ``s * R + k`` is parameter set ``s`` at seed
``k``. Its results folder is an ordinary run folder whose tables have a
``parameter_set`` column and whose manifest has an ``ensemble`` entry (the folder,
a hash of the values, and every set's values), so that :mod:`flowsim.compare` can
pair two scenarios on parameter set and seed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from flowsim.calibration.ensemble import CSV, FORMAT, EnsembleError
from flowsim.params import Scenario, with_overrides
from flowsim.run import RunResult, run
from flowsim.streams import replicate_seeds

MANIFESTS: tuple[str, ...] = ("ensemble.yaml", "manifest.json")
"""Manifest file names an ensemble folder may have (the first found is read)."""

ID_COLUMNS: tuple[str, ...] = ("member", "set")
"""Columns that number the parameter sets (the first present is used)."""

META_COLUMNS: frozenset[str] = frozenset(
    {"member", "set", "trial", "objective", "within_all", "weight", "distance", "accepted"}
)
"""Columns of ``ensemble.csv`` that are never parameters."""

PARAMETER_SET = "parameter_set"
"""Column that says which parameter set a replicate ran with."""

MAX_MEMBERS = 10_000
"""Most parameter sets an ensemble may hold (``search.ensemble`` allows at most 10,000)."""

MAX_TABLE_BYTES = 20_000_000
"""Largest ``ensemble.csv`` read, in bytes (10,000 sets of 50 parameters fit)."""

MAX_MANIFEST_BYTES = 1_000_000
"""Largest manifest read, in bytes (a calibration's is a few kB)."""

RUN_SETTINGS: frozenset[str] = frozenset(
    {"seed", "steps", "scale", "start_year", "warmup_steps", "name", "description", "sources"}
)
"""Top-level scenario fields a parameter set may not set: how a run is made, and labels."""

MISFIT_HINT = (
    "these members miss their calibration targets; recalibrate (a larger --budget, other "
    "free parameters), or pass --allow-misfit to run them anyway"
)


@dataclass(frozen=True)
class Ensemble:
    """Parameter sets read from an ensemble folder.

    Attributes:
        path: the folder.
        ids: each set's id (the ``member``/``set`` column), in the order sets are run.
        sets: each set as ``{dotted path: value}``.
        parameters: the dotted paths, in column order.
        manifest: the folder's manifest as read.
    """

    path: Path
    ids: tuple[int, ...]
    sets: tuple[dict[str, float], ...]
    parameters: tuple[str, ...]
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def sha256(self) -> str:
        """Hash of the parameter values (ids, paths, values): equal for equal ensembles."""
        text = json.dumps(
            [[i, s] for i, s in zip(self.ids, self.sets, strict=True)], sort_keys=True
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def __len__(self) -> int:
        return len(self.sets)

    def table(self) -> pd.DataFrame:
        """One row per set: ``parameter_set`` then the parameters."""
        frame = pd.DataFrame(list(self.sets), columns=list(self.parameters))
        frame.insert(0, PARAMETER_SET, list(self.ids))
        return frame

    def record(self, replications: int) -> dict[str, Any]:
        """What a run's manifest says about the ensemble it used."""
        return {
            "folder": str(self.path),
            "sha256": self.sha256,
            "parameters": list(self.parameters),
            "parameter_sets": len(self.sets),
            "replications_per_set": replications,
            "sets": [{PARAMETER_SET: i, **s} for i, s in zip(self.ids, self.sets, strict=True)],
        }


def _config_text(err: Exception) -> str:
    """The first problem of a :class:`~flowsim.yamlio.ConfigError`, without the file name."""
    from flowsim.yamlio import ConfigError

    if isinstance(err, ConfigError) and err.problems:
        return str(err.problems[0])
    return str(err)


def _read_manifest(folder: Path) -> dict[str, Any]:
    from flowsim.yamlio import ConfigError, load_yaml_text, read_text_bounded

    for name in MANIFESTS:
        path = folder / name
        if not path.exists():
            continue
        redo = "write the ensemble again with `flowsim calibrate`"
        try:
            text = read_text_bounded(path, MAX_MANIFEST_BYTES)
            if name.endswith(".json"):
                try:
                    data = json.loads(text)
                except (json.JSONDecodeError, RecursionError) as err:
                    raise EnsembleError(f"{path}: not valid JSON ({err}); {redo}") from None
            else:
                data = load_yaml_text(text, str(path)).data
        except ConfigError as err:
            raise EnsembleError(f"{_config_text(err)}\n    hint: {redo}") from None
        if not isinstance(data, dict) or not data:
            raise EnsembleError(
                f"{path}: expected a mapping of manifest fields (format, parameters, members), "
                f"not {'an empty file' if not data else type(data).__name__}; {redo}"
            )
        _check_manifest(path, data)
        return data
    raise EnsembleError(
        f"{folder}: not an ensemble folder (no {' or '.join(MANIFESTS)}); give the --out folder "
        f"of `flowsim calibrate`, which holds {CSV} and its manifest"
    )


def _check_manifest(path: Path, data: dict[str, Any]) -> None:
    """Refuse manifest fields of the wrong kind (the format, parameters, members)."""
    fmt = data.get("format")
    if fmt is not None and fmt != FORMAT:
        raise EnsembleError(
            f"{path}: format {fmt!r} is not {FORMAT!r}, the one this flowsim reads; write the "
            "ensemble again with this version's `flowsim calibrate`"
        )
    declared = data.get("parameters")
    if declared is not None and (
        not isinstance(declared, list) or not all(isinstance(p, str) for p in declared)
    ):
        raise EnsembleError(
            f"{path}: `parameters:` must be a list of dotted parameter paths, not "
            f"{type(declared).__name__}"
        )
    if declared is not None and len(set(declared)) != len(declared):
        raise EnsembleError(f"{path}: `parameters:` names a parameter twice")
    members = data.get("members")
    if members is not None and (
        isinstance(members, bool) or not isinstance(members, int) or not 0 <= members
    ):
        raise EnsembleError(
            f"{path}: `members:` must be the number of rows of {CSV} (a whole number >= 0), "
            f"not {members!r}"
        )
    if isinstance(members, int) and members > MAX_MEMBERS:
        raise EnsembleError(
            f"{path}: {members:,} members; an ensemble may hold at most {MAX_MEMBERS:,} "
            "parameter sets"
        )


def _read_table(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """``ensemble.csv`` within the limits: the frame (text cells) and its header."""
    from flowsim.yamlio import ConfigError, read_text_bounded

    try:
        text = read_text_bounded(path, MAX_TABLE_BYTES)
    except ConfigError as err:
        message = _config_text(err).replace("not a YAML file", "not a CSV table")
        raise EnsembleError(
            f"{message}\n    hint: an ensemble table is at most {MAX_TABLE_BYTES:,} bytes and "
            f"{MAX_MEMBERS:,} rows; give the --out folder of `flowsim calibrate`"
        ) from None
    if "\x00" in text:
        raise EnsembleError(f"{path}: holds NUL bytes; it is not a CSV table")
    rows = text.count("\n") - (0 if text.endswith("\n") else -1) - 1
    if rows > MAX_MEMBERS:
        raise EnsembleError(
            f"{path}: {rows:,} rows; an ensemble may hold at most {MAX_MEMBERS:,} parameter sets"
        )
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as err:
        raise EnsembleError(f"{path}: line 1: not a CSV header ({err})") from None
    header = [h.strip() for h in header]
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise EnsembleError(
            f"{path}: line 1: the columns {repeated} are named twice; keep one of each"
        )
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as err:
        raise EnsembleError(
            f"{path}: not a readable CSV table ({str(err).strip()}); write the ensemble again "
            "with `flowsim calibrate`"
        ) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, header


def _refuse_run_settings(path: Path, parameters: list[str]) -> None:
    for parameter in parameters:
        head = parameter.split(".")[0]
        if head in RUN_SETTINGS or head == "outputs":
            raise EnsembleError(
                f"{path}: line 1: column {parameter!r} is a run setting, not a model parameter; a "
                "parameter set never changes how a run is made (set it on the command line "
                "or in the scenario, e.g. --steps, --scale, --seed); remove the column"
            )


def _misfits(path: Path, frame: pd.DataFrame) -> list[int]:
    """Row numbers (0-based) whose ``within_all`` is false; refuses values not a boolean."""
    if "within_all" not in frame.columns:
        return []
    text = frame["within_all"].astype(str).str.strip().str.lower()
    odd = ~text.isin(["true", "false", "1", "0"])
    if odd.any():
        row = int(odd.to_numpy().nonzero()[0][0])
        raise EnsembleError(
            f"{path}: line {row + 2}, column 'within_all': "
            f"{frame['within_all'].iloc[row]!r} is not true or false"
        )
    return [int(i) for i in (text.isin(["false", "0"])).to_numpy().nonzero()[0]]


def read_parameter_sets(folder: str | Path, *, allow_misfit: bool = False) -> Ensemble:
    """Read an ensemble folder: the one place its format is read (see the module doc).

    Args:
        folder: the ensemble folder.
        allow_misfit: accept members whose ``within_all`` is false (they miss a
            calibration target); refused by default.

    Raises:
        EnsembleError: the folder, its manifest or its table is missing, unreadable, too
            large, has no parameter sets or another number than the manifest's
            ``members``, repeats a set id, has empty, non-numeric or infinite values,
            sets a run setting, names a parameter that the manifest and the table disagree
            on, or has members that miss their targets.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "no such folder"
        raise EnsembleError(
            f"{folder}: {what}; give an ensemble folder (the --out of `flowsim calibrate`)"
        )
    manifest = _read_manifest(folder)
    path = folder / CSV
    if not path.exists():
        raise EnsembleError(
            f"{folder}: {CSV} is missing (the manifest is there); write the ensemble again "
            "with `flowsim calibrate`"
        )
    frame, header = _read_table(path)
    declared = manifest.get("parameters")
    if declared:
        parameters = [str(p) for p in declared]
        missing = [p for p in parameters if p not in frame.columns]
        if missing:
            raise EnsembleError(
                f"{path}: line 1: the manifest's parameters {missing} have no column; "
                f"columns are {list(frame.columns)}"
            )
        extra = [c for c in header if c not in META_COLUMNS and c not in parameters and "." in c]
        if extra:
            raise EnsembleError(
                f"{path}: line 1: the columns {extra} are not among the manifest's "
                f"`parameters:` {parameters}; declare them there or remove them"
            )
    else:
        parameters = [c for c in frame.columns if c not in META_COLUMNS and "." in c]
        parameters += [c for c in frame.columns if c in RUN_SETTINGS]
    if not parameters:
        raise EnsembleError(
            f"{path}: no parameter columns (a parameter column is named by its dotted path, "
            "e.g. talent.move_rate)"
        )
    _refuse_run_settings(path, parameters)
    if frame.empty:
        raise EnsembleError(f"{path}: the ensemble has no parameter sets (no rows)")
    members = manifest.get("members")
    if isinstance(members, int) and members != len(frame):
        manifest_name = next(n for n in MANIFESTS if (folder / n).exists())
        raise EnsembleError(
            f"{path}: {len(frame)} rows, but {folder / manifest_name} says `members: "
            f"{members}`; the table is "
            + ("truncated" if len(frame) < members else "longer than written")
            + ": write the ensemble again with `flowsim calibrate FILE --report --out DIR`"
        )
    values = frame[parameters].apply(lambda c: pd.to_numeric(c.str.strip(), errors="coerce"))
    bad = pd.DataFrame(~np.isfinite(values.to_numpy(dtype=float)))
    if bad.any().any():
        row, column = next((r, c) for r, c in zip(*bad.to_numpy().nonzero(), strict=True))
        raise EnsembleError(
            f"{path}: line {row + 2}, column {parameters[column]!r}: "
            f"{frame[parameters[column]].iloc[row]!r} is not a finite number"
        )
    misfits = _misfits(path, frame)
    if misfits and not allow_misfit:
        rows = ", ".join(str(r + 2) for r in misfits[:5]) + (", ..." if len(misfits) > 5 else "")
        raise EnsembleError(
            f"{path}: {len(misfits)} of {len(frame)} members have within_all false (lines "
            f"{rows}): {MISFIT_HINT}"
        )
    id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    if id_column is None:
        ids = list(range(len(frame)))
    else:
        numbers = pd.to_numeric(frame[id_column].str.strip(), errors="coerce")
        if numbers.isna().any() or (numbers % 1 != 0).any():
            raise EnsembleError(f"{path}: column {id_column!r} must hold whole numbers")
        ids = [int(v) for v in numbers]
        if len(set(ids)) != len(ids):
            raise EnsembleError(f"{path}: column {id_column!r} repeats a parameter set id")
    order = sorted(range(len(ids)), key=ids.__getitem__)
    sets = tuple({p: float(values[p].iloc[i]) for p in parameters} for i in order)
    return Ensemble(folder, tuple(ids[i] for i in order), sets, tuple(parameters), manifest)


def load_ensemble(folder: str | Path, *, allow_misfit: bool = False) -> list[dict[str, float]]:
    """The parameter sets of an ensemble folder, in order: ``[{dotted path: value}]``."""
    return list(read_parameter_sets(folder, allow_misfit=allow_misfit).sets)


def _value_at(scenario: Scenario, path: str) -> Any:
    node: Any = scenario.model_dump(by_alias=True, mode="json")
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def fitted_scenario(ensemble: Ensemble) -> Scenario | None:
    """The scenario the ensemble was fitted on (its manifest's ``scenario``), if it can be found.

    The path is tried as written, then relative to the ensemble folder.
    """
    from flowsim.scenario import load_scenario
    from flowsim.yamlio import ConfigError

    given = ensemble.manifest.get("scenario")
    if not given:
        return None
    for candidate in (Path(str(given)), ensemble.path / str(given)):
        if candidate.is_file():
            try:
                return load_scenario(candidate)
            except ConfigError:
                return None
    return None


def lost_changes(ensemble: Ensemble, scenario: Scenario) -> list[str]:
    """Parameters the scenario changes from the fitted scenario that every set overrides.

    A policy that changes a parameter the ensemble also sets would lose its change in
    every run; these are ``"path: fitted -> scenario"`` descriptions of such parameters.
    """
    fitted = fitted_scenario(ensemble)
    if fitted is None:
        return []
    out = []
    for path in ensemble.parameters:
        before, after = _value_at(fitted, path), _value_at(scenario, path)
        if before != after:
            out.append(f"{path}: {before!r} -> {after!r}")
    return out


def lost_changes_warning(ensemble: Ensemble, scenario: Scenario) -> str | None:
    """A warning for :func:`lost_changes`, or None if the scenario loses nothing."""
    lost = lost_changes(ensemble, scenario)
    if not lost:
        return None
    return (
        f"warning: scenario {scenario.name!r} changes {'; '.join(lost)} from the scenario "
        f"the ensemble {ensemble.path} was fitted on, but every parameter set sets these "
        "parameters itself: that change is not in the runs (unless this scenario is a "
        "recalibrated baseline, compare scenarios that differ in other parameters)"
    )


def check_ensemble(ensemble: Ensemble, scenario: Scenario) -> list[Scenario]:
    """Each parameter set applied to ``scenario``; refuses unknown paths and invalid values.

    Raises:
        EnsembleError: a parameter path is not a scenario parameter, or a set gives a value
            the scenario does not allow.
    """
    from flowsim.sweep.paths import check_parameter_path

    where = ensemble.path / CSV
    for parameter in ensemble.parameters:
        message, hint = check_parameter_path(parameter)
        if message:
            raise EnsembleError(f"{where}: column {message}" + (f"; hint: {hint}" if hint else ""))
    scenarios = []
    for set_id, values in zip(ensemble.ids, ensemble.sets, strict=True):
        try:
            scenarios.append(with_overrides(scenario, values))
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            path = ".".join(str(p) for p in first["loc"])
            raise EnsembleError(
                f"{where}: parameter set {set_id}: {path}: {first['msg']}"
            ) from None
    return scenarios


def run_ensemble(
    scenario: Scenario,
    ensemble: Ensemble,
    replications: int = 1,
    root_seed: int | None = None,
    progress: Callable[[int], None] | None = None,
    on_replicate: Callable[[int, int], None] | None = None,
) -> list[RunResult]:
    """Run every parameter set with the same ``replications`` seeds.

    Args:
        scenario: the scenario (a policy, or the baseline); each set is applied on top.
        ensemble: the parameter sets.
        replications: replicates per set; replicate k uses the k-th seed spawned from the
            root seed in every set (common random numbers).
        root_seed: defaults to ``scenario.seed``.
        progress: called with 1 after each month of each run.
        on_replicate: called with (parameter set id, replicate) before each run.

    Returns:
        ``len(ensemble) * replications`` results, set by set; each has
        ``extra["parameter_set"]`` set to its set's id.
    """
    seeds = replicate_seeds(scenario.seed if root_seed is None else root_seed, replications)
    results = []
    for set_id, member in zip(ensemble.ids, check_ensemble(ensemble, scenario), strict=True):
        for replicate, seed in enumerate(seeds):
            if on_replicate is not None:
                on_replicate(set_id, replicate)
            result = run(member, seed, progress=progress)
            result.extra[PARAMETER_SET] = set_id
            results.append(result)
    return results


__all__ = [
    "CSV",
    "MANIFESTS",
    "MAX_MANIFEST_BYTES",
    "MAX_MEMBERS",
    "MAX_TABLE_BYTES",
    "RUN_SETTINGS",
    "PARAMETER_SET",
    "Ensemble",
    "EnsembleError",
    "check_ensemble",
    "lost_changes",
    "lost_changes_warning",
    "load_ensemble",
    "read_parameter_sets",
    "run_ensemble",
]
