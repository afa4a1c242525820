"""A sweep, planned: the validated spec, the resolved base scenario, the design and the tasks.

:func:`plan_sweep` does everything before the first run, so that a sweep with a
bad file, path or value fails at once with a clear error, and ``--dry-run`` can
count the runs without starting any.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from flowsim.ensemble import (
    Ensemble,
    EnsembleError,
    check_ensemble,
    lost_changes_warning,
    read_parameter_sets,
)
from flowsim.params import Scenario, with_overrides
from flowsim.scenario import load_scenario
from flowsim.streams import replicate_seeds
from flowsim.sweep.design import Design, build_design, count_points, with_ensemble
from flowsim.sweep.manifest import sha256_bytes, sha256_json
from flowsim.sweep.spec import SweepSpec, base_path, check_for_scenario, load_spec, parse_spec
from flowsim.sweep.tasks import Model, RunTask, ScenarioModel
from flowsim.yamlio import ConfigError, LoadedYaml, Problem, missing_reason

MAX_RUNS = 100_000
"""Largest sweep (design points x replications) run without ``--yes`` (``yes=True``)."""

HARD_MAX_RUNS = 10_000_000
"""Largest sweep planned at all: its design table alone would fill gigabytes beyond this."""


@dataclass(frozen=True)
class SweepCount:
    """A sweep's size, counted without building its design (``flowsim sweep --dry-run``).

    Attributes:
        spec: the validated spec.
        n_points: design points (with an ensemble: the design's points x parameter sets).
        n_runs: design points x replications.
        base: the base scenario with constants and overrides applied (None: custom model).
        base_file: the base scenario's file, if any.
        ensemble: the ensemble crossed with the design, if any.
    """

    spec: SweepSpec
    n_points: int
    n_runs: int
    base: Scenario | None
    base_file: Path | None
    ensemble: Ensemble | None = None


def size_problem(n_runs: int, yes: bool, file: str) -> Problem | None:
    """Why a sweep of ``n_runs`` runs is refused (None if it is not)."""
    if n_runs > HARD_MAX_RUNS:
        return Problem(
            file,
            None,
            None,
            "",
            f"the design has {n_runs:,} runs, more than the {HARD_MAX_RUNS:,} a sweep may have",
            hint="use fewer levels, factors or samples (a Latin hypercube covers many factors "
            "with few runs)",
        )
    if n_runs > MAX_RUNS and not yes:
        return Problem(
            file,
            None,
            None,
            "",
            f"the design has {n_runs:,} runs, more than {MAX_RUNS:,}; check it with --dry-run "
            "and confirm with --yes",
            hint="or use fewer levels, factors or samples",
        )
    return None


def count_sweep(
    source: SweepSpec | dict[str, Any] | str | Path,
    *,
    scale: float | None = None,
    steps: int | None = None,
    samples: int | None = None,
    replications: int | None = None,
    ensemble: str | Path | Ensemble | None = None,
) -> SweepCount:
    """Validate a sweep's file and base scenario and count its runs, building no design.

    ``samples`` and ``replications`` override the file's, as ``--samples`` and
    ``--replications`` do; ``ensemble`` (as in :func:`plan_sweep`) is read and checked,
    and multiplies the design points by its parameter sets.

    Raises:
        ConfigError: anything wrong in the sweep file, its base scenario or the ensemble.
    """
    spec, loaded, spec_file, spec_sha = _spec_from(source)
    spec, _ = _override_spec(spec, spec_sha, samples=samples, replications=replications)
    base_overrides = {k: v for k, v in (("scale", scale), ("steps", steps)) if v is not None}
    members = _read_ensemble(ensemble, spec)
    n_points = count_points(spec) * (len(members) if members is not None else 1)
    try:
        base, base_file = _base_scenario(spec, loaded, spec_file, base_overrides)
    except ValidationError as err:
        raise _override_error(err) from None
    if members is not None:
        _check_ensemble(members, base)
    return SweepCount(spec, n_points, n_points * spec.replications, base, base_file, members)


def _override_error(err: ValidationError) -> ConfigError:
    return ConfigError(
        [
            Problem("command line", None, None, str(e["loc"][0]) if e["loc"] else "", e["msg"])
            for e in err.errors(include_url=False)
        ]
    )


@dataclass(frozen=True)
class SweepPlan:
    """Everything a sweep needs before its first run.

    Attributes:
        spec: the validated sweep spec.
        spec_file: the sweep file (None for a spec built in Python).
        spec_sha256: hash of the sweep file's bytes (or of the spec's JSON).
        base: the base scenario with the sweep's constants and ``scale``/``steps`` applied
            (None with a custom model).
        base_file: the base scenario's file, if any.
        design: the design points.
        seeds: replicate seeds; replicate k uses ``seeds[k]`` at every design point.
        model: what each run calls.
        base_overrides: the ``scale``/``steps`` overrides given on the command line.
        ensemble: the ensemble whose parameter sets every design point is run with, if any.
    """

    spec: SweepSpec
    spec_file: Path | None
    spec_sha256: str
    base: Scenario | None
    base_file: Path | None
    design: Design
    seeds: list[int]
    model: Model
    base_overrides: dict[str, Any]
    ensemble: Ensemble | None = None

    @property
    def ensemble_sha256(self) -> str | None:
        """Hash of the ensemble's parameter values (None without an ensemble)."""
        return self.ensemble.sha256 if self.ensemble is not None else None

    @property
    def n_points(self) -> int:
        """Design points."""
        return len(self.design.points)

    @property
    def n_runs(self) -> int:
        """Design points times replications."""
        return self.n_points * self.spec.replications

    @property
    def base_sha256(self) -> str | None:
        """Hash of the resolved base scenario (what every run starts from)."""
        return (
            sha256_json(self.base.model_dump(by_alias=True, mode="json"))
            if self.base is not None
            else None
        )

    def run_id(self, point_id: int, replicate: int) -> int:
        """The stable id of a run."""
        return point_id * self.spec.replications + replicate

    def tasks(self, skip: set[int] | frozenset[int] = frozenset()) -> Iterator[RunTask]:
        """Every run not in ``skip``, in run-id order."""
        extra = {} if isinstance(self.model, ScenarioModel) else dict(self.spec.constants)
        for point_id in range(self.n_points):
            overrides = None
            for replicate, seed in enumerate(self.seeds):
                run_id = self.run_id(point_id, replicate)
                if run_id in skip:
                    continue
                if overrides is None:
                    overrides = {**extra, **self.design.overrides(point_id)}
                yield RunTask(run_id, point_id, replicate, seed, overrides)


def _spec_from(
    source: SweepSpec | dict[str, Any] | str | Path,
) -> tuple[SweepSpec, LoadedYaml, Path | None, str]:
    if isinstance(source, SweepSpec):
        data = source.model_dump(mode="json")
        return source, LoadedYaml("<sweep spec>", data, {}), None, sha256_json(data)
    if isinstance(source, dict):
        loaded = LoadedYaml("<sweep spec>", source, {})
        return parse_spec(loaded), loaded, None, sha256_json(source)
    path = Path(source)
    spec, loaded = load_spec(path)
    return spec, loaded, path, sha256_bytes(path.read_bytes())


def _override_spec(
    spec: SweepSpec, spec_sha: str, **overrides: int | None
) -> tuple[SweepSpec, str]:
    """The spec with ``--samples``/``--replications`` applied, validated as in a file.

    The hash then covers the overrides too, so that ``--resume`` refuses to continue a
    sweep with other overrides than it started with.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    if not given:
        return spec, spec_sha
    try:
        changed = SweepSpec.model_validate({**spec.model_dump(), **given})
    except ValidationError as err:
        raise ConfigError(
            [
                Problem(
                    "command line",
                    None,
                    None,
                    "--" + ".".join(str(p) for p in e["loc"]) if e["loc"] else "--samples",
                    e["msg"].removeprefix("Value error, "),
                )
                for e in err.errors(include_url=False)
            ]
        ) from None
    return changed, sha256_json({"sweep_file_sha256": spec_sha, "command_line": given})


def _base_scenario(
    spec: SweepSpec, loaded: LoadedYaml, spec_file: Path | None, base_overrides: dict[str, Any]
) -> tuple[Scenario, Path | None]:
    file = base_path(spec, spec_file)
    if file is not None and not file.exists():
        line, column = loaded.mark(("base",))
        raise ConfigError(
            [
                Problem(
                    loaded.file,
                    line,
                    column,
                    "base",
                    f"base scenario {str(file)!r} {missing_reason(file)}".replace(
                        "no such file", "not found"
                    ),
                    hint="`base:` is relative to the sweep file's folder",
                )
            ]
        )
    base = (
        load_scenario(file, referenced_by=f"{loaded.file} (`base:`)")
        if file is not None
        else Scenario()
    )
    check_for_scenario(spec, loaded, base)
    return with_overrides(base, {**spec.constants, **base_overrides}, strict=True), file


def _check_points(base: Scenario, design: Design, loaded: LoadedYaml) -> None:
    """Build the scenario of every design point and report those that do not validate."""
    bad: list[str] = []
    for point_id in range(len(design.points)):
        overrides = design.overrides(point_id)
        try:
            with_overrides(base, overrides, strict=True)
        except ValidationError as err:
            first = err.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            bad.append(f"point {point_id} {overrides}: {where}: {first['msg']}")
    if bad:
        shown = "; ".join(bad[:5]) + (f"; ... and {len(bad) - 5} more" if len(bad) > 5 else "")
        raise ConfigError(
            [
                Problem(
                    loaded.file,
                    None,
                    None,
                    "",
                    f"{len(bad)} design points are invalid: {shown}",
                    hint="narrow the factors' ranges or values",
                )
            ]
        )


def plan_sweep(
    source: SweepSpec | dict[str, Any] | str | Path,
    *,
    scale: float | None = None,
    steps: int | None = None,
    model: Model | None = None,
    samples: int | None = None,
    replications: int | None = None,
    yes: bool = False,
    ensemble: str | Path | Ensemble | None = None,
    cache: bool = True,
) -> SweepPlan:
    """Validate a sweep and lay out its runs.

    Args:
        source: a sweep file, a spec, or a spec as a dictionary (whose ``base`` is then
            relative to the current folder).
        scale: override the base scenario's agent scale (quick trials).
        steps: override the base scenario's number of months.
        model: a custom model ``model(overrides, seed) -> (outcomes, timeseries)``
            instead of flowsim (factor paths and outcomes are then not checked
            against the scenario).
        samples: override the spec's ``samples`` (``--samples``).
        replications: override the spec's ``replications`` (``--replications``).
        yes: plan a sweep of more than :data:`MAX_RUNS` runs (never more than
            :data:`HARD_MAX_RUNS`).
        ensemble: an ensemble folder (``flowsim calibrate``) or a read one: every design
            point is run with every parameter set (point ``p * S + s``), with the same
            replicate seeds; runs record the set's parameters and ``parameter_set``.
            Not with sobol or morris designs, whose samples SALib must analyse as drawn.
        cache: share warm-ups through the warm-start cache (:mod:`flowsim.warmstart`): the
            warm-up does not depend on the policy, so N policy points x R replicates pay R
            warm-ups; False runs every one (results are bit-identical either way).

    Raises:
        ConfigError: anything wrong in the sweep file, its base scenario, its design points
            or the ensemble.
    """
    spec, loaded, spec_file, spec_sha = _spec_from(source)
    spec, spec_sha = _override_spec(spec, spec_sha, samples=samples, replications=replications)
    base_overrides = {k: v for k, v in (("scale", scale), ("steps", steps)) if v is not None}
    members = _read_ensemble(ensemble, spec)
    sets = len(members) if members is not None else 1
    too_big = size_problem(count_points(spec) * sets * spec.replications, yes, loaded.file)
    if too_big is not None:
        raise ConfigError([too_big])
    design = build_design(spec)
    seeds = replicate_seeds(spec.seed, spec.replications)
    if members is not None:
        design = with_ensemble(design, list(members.sets), list(members.ids))
    if model is not None:
        return SweepPlan(
            spec, spec_file, spec_sha, None, None, design, seeds, model, base_overrides, members
        )
    try:
        base, base_file = _base_scenario(spec, loaded, spec_file, base_overrides)
    except ValidationError as err:  # --scale / --steps out of range
        raise _override_error(err) from None
    if members is not None:
        _check_ensemble(members, base)
    _check_points(base, design, loaded)
    scenario_model = ScenarioModel(base, tuple(spec.outcomes), spec.timeseries, cache)
    return SweepPlan(
        spec,
        spec_file,
        spec_sha,
        base,
        base_file,
        design,
        seeds,
        scenario_model,
        base_overrides,
        members,
    )


def _ensemble_problem(message: str, hint: str | None = None) -> Problem:
    return Problem("command line", None, None, "--ensemble", message, hint=hint)


def _check_ensemble(members: Ensemble, base: Scenario) -> None:
    """Every parameter set applies to the base scenario; warn about changes it overrides."""
    try:
        check_ensemble(members, base)
    except EnsembleError as err:
        raise ConfigError([_ensemble_problem(str(err))]) from None
    warning = lost_changes_warning(members, base)
    if warning:
        warnings.warn(warning, UserWarning, stacklevel=3)


def _read_ensemble(ensemble: str | Path | Ensemble | None, spec: SweepSpec) -> Ensemble | None:
    """The ensemble of a sweep, checked against its design and factors."""
    if ensemble is None:
        return None
    try:
        members = ensemble if isinstance(ensemble, Ensemble) else read_parameter_sets(ensemble)
    except EnsembleError as err:
        raise ConfigError([_ensemble_problem(str(err))]) from None
    if spec.design in ("sobol", "morris"):
        raise ConfigError(
            [
                _ensemble_problem(
                    f"a {spec.design} design cannot be crossed with an ensemble: SALib must "
                    "analyse its sample as drawn",
                    hint="use a factorial, lhs or monte_carlo design, or list the parameters "
                    "under `uncertainties:` instead",
                )
            ]
        )
    both = sorted(set(spec.factors) & set(members.parameters))
    if both:
        raise ConfigError(
            [
                _ensemble_problem(
                    f"{both} are both factors of the sweep and parameters of the ensemble "
                    f"{members.path}",
                    hint="drop them from the sweep's levers/uncertainties or use another ensemble",
                )
            ]
        )
    return members


__all__ = [
    "HARD_MAX_RUNS",
    "MAX_RUNS",
    "SweepCount",
    "SweepPlan",
    "count_sweep",
    "plan_sweep",
    "size_problem",
]
