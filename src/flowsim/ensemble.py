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
uses :class:`Ensemble`. Parameter set ``s`` is applied on top of the scenario
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

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import ValidationError

from flowsim.calibration.ensemble import CSV, EnsembleError
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


def _read_manifest(folder: Path) -> dict[str, Any]:
    for name in MANIFESTS:
        path = folder / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if name.endswith(".json") else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as err:
            raise EnsembleError(
                f"{path}: cannot be read ({type(err).__name__}: {err}); write the ensemble again "
                "with `flowsim calibrate`"
            ) from None
        if not isinstance(data, dict):
            raise EnsembleError(f"{path}: expected a mapping of manifest fields")
        return data
    raise EnsembleError(
        f"{folder}: not an ensemble folder (no {' or '.join(MANIFESTS)}); give the --out folder "
        f"of `flowsim calibrate`, which holds {CSV} and its manifest"
    )


def read_parameter_sets(folder: str | Path) -> Ensemble:
    """Read an ensemble folder: the one place its format is read.

    Raises:
        EnsembleError: the folder, its manifest or its table is missing, unreadable, has no
            parameter sets, repeats a set id, has empty or non-numeric values, or names a
            parameter that the manifest and the table disagree on.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise EnsembleError(
            f"{folder}: no such folder; give an ensemble folder (the --out of `flowsim calibrate`)"
        )
    manifest = _read_manifest(folder)
    path = folder / CSV
    if not path.is_file():
        raise EnsembleError(f"{folder}: {CSV} is missing (the manifest is there)")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise EnsembleError(f"{path}: not a readable CSV table ({err})") from None
    declared = manifest.get("parameters")
    if declared:
        parameters = [str(p) for p in declared]
        missing = [p for p in parameters if p not in frame.columns]
        if missing:
            raise EnsembleError(
                f"{path}: the manifest's parameters {missing} have no column; "
                f"columns are {list(frame.columns)}"
            )
    else:
        parameters = [c for c in frame.columns if c not in META_COLUMNS and "." in c]
    if not parameters:
        raise EnsembleError(
            f"{path}: no parameter columns (a parameter column is named by its dotted path, "
            "e.g. talent.move_rate)"
        )
    if frame.empty:
        raise EnsembleError(f"{path}: the ensemble has no parameter sets (no rows)")
    values = frame[parameters].apply(pd.to_numeric, errors="coerce")
    bad = values.isna()
    if bad.any().any():
        row, column = next((r, c) for r, c in zip(*bad.to_numpy().nonzero(), strict=True))
        raise EnsembleError(
            f"{path}: line {row + 2}, column {parameters[column]!r}: "
            f"{frame[parameters[column]].iloc[row]!r} is not a number"
        )
    id_column = next((c for c in ID_COLUMNS if c in frame.columns), None)
    if id_column is None:
        ids = list(range(len(frame)))
    else:
        numbers = pd.to_numeric(frame[id_column], errors="coerce")
        if numbers.isna().any() or (numbers % 1 != 0).any():
            raise EnsembleError(f"{path}: column {id_column!r} must hold whole numbers")
        ids = [int(v) for v in numbers]
        if len(set(ids)) != len(ids):
            raise EnsembleError(f"{path}: column {id_column!r} repeats a parameter set id")
    order = sorted(range(len(ids)), key=ids.__getitem__)
    sets = tuple({p: float(values[p].iloc[i]) for p in parameters} for i in order)
    return Ensemble(folder, tuple(ids[i] for i in order), sets, tuple(parameters), manifest)


def load_ensemble(folder: str | Path) -> list[dict[str, float]]:
    """The parameter sets of an ensemble folder, in order: ``[{dotted path: value}]``."""
    return list(read_parameter_sets(folder).sets)


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
