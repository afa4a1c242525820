"""One run of a sweep as a pure, picklable task.

A task carries everything a worker needs — run id, design point, replicate, seed
and parameter overrides — so its result depends on nothing but its arguments: not
on the worker that runs it, nor on the order runs finish in. A *model* is any
picklable callable ``model(overrides, seed) -> (outcomes, timeseries)``;
:class:`ScenarioModel` runs flowsim, and tests plug in analytic functions.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from flowsim.params import Scenario, with_overrides
from flowsim.sweep.outcomes import long_timeseries, summarise

ModelOutput = tuple[dict[str, float], pd.DataFrame | None]
"""Outcomes by name, and a long time series (``step``, ``year``, ``variable``, ``value``) / None."""

Model = Callable[[dict[str, Any], int], ModelOutput]
"""What a sweep runs at each (design point, replicate)."""


@dataclass(frozen=True)
class RunTask:
    """The arguments of one run.

    Attributes:
        run_id: ``point_id * replications + replicate``; unique and stable.
        point_id: the design point.
        replicate: the replicate number; its seed is shared by every design point.
        seed: the run's seed.
        overrides: dotted path -> value for this design point.
    """

    run_id: int
    point_id: int
    replicate: int
    seed: int
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScenarioModel:
    """Runs flowsim: the base scenario with a design point's overrides, at one seed.

    Attributes:
        base: the base scenario (sweep constants and ``--scale``/``--steps`` applied).
        outcomes: outputs to summarise (see :mod:`flowsim.sweep.outcomes`).
        timeseries: ``"outcomes"`` keeps the monthly series of the outcomes, ``"all"``
            every output, ``"none"`` nothing.
        cache: read and write warm-ups in the warm-start cache (:mod:`flowsim.warmstart`,
            where the worker's ``FLOWSIM_CACHE`` says); False runs every warm-up.
    """

    base: Scenario
    outcomes: tuple[str, ...]
    timeseries: str = "outcomes"
    cache: bool = True

    def __call__(self, overrides: dict[str, Any], seed: int) -> ModelOutput:
        """Run once and summarise."""
        from flowsim.run import run

        scenario = with_overrides(self.base, overrides) if overrides else self.base
        result = run(scenario, seed, cache=None if self.cache else False)
        outcomes = summarise(result.timeseries, result.yearly, self.outcomes)
        if self.timeseries == "none":
            return outcomes, None
        names = None if self.timeseries == "all" else self.outcomes
        return outcomes, long_timeseries(result.timeseries, names)


def empty_record(task: RunTask, error: str | None = None) -> dict[str, Any]:
    """A run's record before (or instead of) its results: ids, seed, no outcomes."""
    return {
        "run_id": task.run_id,
        "point_id": task.point_id,
        "replicate": task.replicate,
        "seed": task.seed,
        "outcomes": {},
        "timeseries": None,
        "error": error,
    }


def run_task(task: RunTask, model: Model) -> dict[str, Any]:
    """Run one task; an exception is caught and returned in ``error``, never raised.

    Returns:
        ``run_id``, ``point_id``, ``replicate``, ``seed``, ``outcomes`` (dict, empty on
        error), ``timeseries`` (long DataFrame or None) and ``error`` (None, or the
        exception's type, message and the last lines of its traceback).
    """
    record = empty_record(task)
    try:
        outcomes, timeseries = model(dict(task.overrides), task.seed)
        record["outcomes"] = {k: float(v) for k, v in outcomes.items()}
        record["timeseries"] = timeseries
    except Exception as exc:  # noqa: BLE001 - a failed run is data, the sweep goes on
        tail = "".join(traceback.format_exception(exc)[-3:]).strip()
        record["error"] = f"{type(exc).__name__}: {exc}\n{tail}"
    return record


__all__ = ["Model", "ModelOutput", "RunTask", "ScenarioModel", "empty_record", "run_task"]
