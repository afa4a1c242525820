"""Experimental designs: from a :class:`~flowsim.sweep.spec.SweepSpec` to a table of design points.

Every factor is sampled in a *raw* space that SALib understands (bounds ``[lo, hi]``)
and then mapped to the value a run uses:

- a range: raw = value (``log``: raw = ln value; ``integer``: raw in ``[low, high + 1)``,
  value = floor(raw), so every whole number is equally likely);
- a list of values: raw in ``[0, n)``, value = values[floor(raw)].

Latin hypercube (:mod:`scipy.stats.qmc`) and Monte Carlo draws come from a numpy
Generator derived from the sweep's root seed; Sobol (Saltelli) and Morris samples
come from SALib, seeded from it too. The same spec therefore always gives the same design.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from flowsim.streams import stream
from flowsim.sweep.spec import Factor, SweepSpec

RAW_PREFIX = "raw:"
"""Prefix of the raw-sample columns kept for sensitivity analysis."""


@dataclass(frozen=True)
class Design:
    """Design points of a sweep.

    Attributes:
        points: one row per design point: ``point_id`` then one column per factor
            (named by its dotted path) with the value the run uses, and for
            sobol/morris the raw samples (``raw:<path>``) that SALib analyses.
        problem: the SALib problem (names and raw bounds) of every factor.
        ensemble_parameters: parameters an ensemble sets at each point (dotted paths; see
            :func:`with_ensemble`), after the spec's factors.
        labels: columns stored with each run that are not parameters (``parameter_set``).
    """

    points: pd.DataFrame
    problem: dict[str, Any]
    ensemble_parameters: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def factor_names(self) -> list[str]:
        """Dotted paths of the factors, in spec order, then the ensemble's parameters."""
        return [*self.problem["names"], *self.ensemble_parameters]

    @property
    def stored_columns(self) -> list[str]:
        """The columns of a design point stored with each run: factors, then labels."""
        return [*self.factor_names, *self.labels]

    def overrides(self, point_id: int) -> dict[str, Any]:
        """The parameter values of one design point, as plain Python values."""
        row = self.points.iloc[point_id]
        return {name: _plain(row[name]) for name in self.factor_names}

    def stored(self, point_id: int) -> dict[str, Any]:
        """The values stored with each run of a design point: :meth:`overrides` and labels."""
        row = self.points.iloc[point_id]
        return {name: _plain(row[name]) for name in self.stored_columns}


def with_ensemble(
    design: Design, sets: list[dict[str, float]], ids: list[int], label: str = "parameter_set"
) -> Design:
    """Every design point crossed with every parameter set of an ensemble.

    Point ``p * S + s`` is design point ``p`` with parameter set ``s`` (of S); its row
    keeps the factors' values and adds ``design_point`` (``p``), one column per ensemble
    parameter and ``label`` (the set's id); the last two are stored with each run.
    """
    parameters = list(sets[0]) if sets else []
    n_sets = len(sets)
    base = design.points.loc[design.points.index.repeat(n_sets)].reset_index(drop=True)
    base.insert(1, "design_point", base.pop("point_id").to_numpy())
    base.insert(0, "point_id", np.arange(len(base), dtype=np.int64))
    for name in parameters:
        base[name] = np.tile(
            np.array([s[name] for s in sets], dtype=np.float64), len(design.points)
        )
    base[label] = np.tile(np.asarray(ids, dtype=np.int64), len(design.points))
    return Design(base, design.problem, tuple(parameters), ("design_point", label))


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def raw_bounds(factor: Factor) -> tuple[float, float]:
    """The interval a factor is sampled in (see the module docstring)."""
    if factor.values is not None:
        return 0.0, float(len(factor.values))
    assert factor.low is not None and factor.high is not None
    if factor.log:
        return math.log(factor.low), math.log(factor.high)
    if factor.integer:
        return factor.low, factor.high + 1.0
    return factor.low, factor.high


def to_values(factor: Factor, raw: np.ndarray) -> pd.Series:
    """Map raw samples of one factor to the values runs use."""
    lo, hi = raw_bounds(factor)
    if factor.values is not None:
        index = np.clip(np.floor(raw).astype(np.int64), 0, len(factor.values) - 1)
        return _series([factor.values[i] for i in index], factor)
    if factor.log:
        values = np.exp(raw)
        return pd.Series(np.clip(values, factor.low, factor.high))
    if factor.integer:
        return pd.Series(np.clip(np.floor(raw), lo, hi - 1.0).astype(np.int64))
    return pd.Series(np.asarray(raw, dtype=np.float64))


def _series(values: list[Any], factor: Factor) -> pd.Series:
    """A column with one dtype per factor, so that every Parquet part has the same schema."""
    kinds = {type(v) for v in factor.values or [] if v is not None}
    has_none = any(v is None for v in factor.values or [])
    if kinds <= {bool} and not has_none:
        return pd.Series(values, dtype=bool)
    if kinds <= {int} and not has_none:
        return pd.Series(values, dtype=np.int64)
    if kinds <= {int, float}:
        return pd.Series([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    return pd.Series(values, dtype=object)


def factorial_levels(factor: Factor, num_levels: int) -> list[Any]:
    """The levels of one factor in a full factorial design."""
    if factor.values is not None:
        return list(factor.values)
    assert factor.low is not None and factor.high is not None
    if factor.log:
        levels = np.geomspace(factor.low, factor.high, num_levels)
    else:
        levels = np.linspace(factor.low, factor.high, num_levels)
    if factor.integer:
        return sorted({int(round(v)) for v in levels})
    return [float(v) for v in levels]


def salib_problem(spec: SweepSpec) -> dict[str, Any]:
    """The SALib problem dictionary (names and raw bounds) of a spec's factors."""
    names = list(spec.factors)
    return {
        "num_vars": len(names),
        "names": names,
        "bounds": [list(raw_bounds(f)) for f in spec.factors.values()],
    }


def _salib_seed(root_seed: int) -> int:
    """A 32-bit seed for SALib derived from the root seed (SALib and scipy want small ints)."""
    return int(stream(root_seed, "design").integers(0, 2**31 - 1))


def factorial(spec: SweepSpec) -> pd.DataFrame:
    """Every combination of every factor's levels (the last factor varies fastest)."""
    levels = [factorial_levels(f, spec.num_levels) for f in spec.factors.values()]
    rows = list(itertools.product(*levels))
    frame = pd.DataFrame({"point_id": np.arange(len(rows), dtype=np.int64)})
    for j, (name, factor) in enumerate(spec.factors.items()):
        column = [row[j] for row in rows]
        frame[name] = (
            _series(column, factor) if factor.values is not None else _range_series(column, factor)
        )
    return frame


def _range_series(column: list[Any], factor: Factor) -> pd.Series:
    return pd.Series(column, dtype=np.int64 if factor.integer else np.float64)


def latin_hypercube(spec: SweepSpec) -> np.ndarray:
    """Unit-cube Latin hypercube (:class:`scipy.stats.qmc.LatinHypercube`).

    Each range is cut into ``samples`` strata with one point in each, at a random
    place within it; the generator is the sweep's ``design`` stream.
    """
    from scipy.stats import qmc

    n, d = int(spec.samples or 0), len(spec.factors)
    rng = stream(spec.seed, "design")
    try:
        sampler = qmc.LatinHypercube(d, rng=rng)
    except TypeError:  # SciPy < 1.15 calls it seed
        sampler = qmc.LatinHypercube(d, seed=rng)
    return sampler.random(n)


def monte_carlo(spec: SweepSpec) -> np.ndarray:
    """Unit-cube simple random sample of ``samples`` points."""
    return stream(spec.seed, "design").random((int(spec.samples or 0), len(spec.factors)))


def sobol(spec: SweepSpec) -> np.ndarray:
    """Saltelli's extension of the Sobol sequence (SALib), raw space.

    N (D + 2) points, N (2D + 2) with second-order indices.
    """
    from SALib.sample import sobol as salib_sobol

    return salib_sobol.sample(
        salib_problem(spec),
        int(spec.samples or 0),
        calc_second_order=spec.calc_second_order,
        seed=_salib_seed(spec.seed),
    )


def morris(spec: SweepSpec) -> np.ndarray:
    """Morris elementary-effects trajectories (SALib), raw space: N (D + 1) points."""
    from SALib.sample import morris as salib_morris

    return salib_morris.sample(
        salib_problem(spec),
        int(spec.samples or 0),
        num_levels=spec.num_levels,
        seed=_salib_seed(spec.seed),
    )


def build_design(spec: SweepSpec) -> Design:
    """The design points of a spec (deterministic given the spec)."""
    problem = salib_problem(spec)
    if spec.design == "factorial":
        return Design(factorial(spec), problem)
    if spec.design in ("lhs", "monte_carlo"):
        unit = latin_hypercube(spec) if spec.design == "lhs" else monte_carlo(spec)
        bounds = np.asarray(problem["bounds"], dtype=np.float64)
        raw = bounds[:, 0] + unit * (bounds[:, 1] - bounds[:, 0])
        keep_raw = False
    else:
        raw = sobol(spec) if spec.design == "sobol" else morris(spec)
        keep_raw = True
    frame = pd.DataFrame({"point_id": np.arange(len(raw), dtype=np.int64)})
    for j, (name, factor) in enumerate(spec.factors.items()):
        frame[name] = to_values(factor, raw[:, j]).to_numpy()
    if keep_raw:
        for j, name in enumerate(spec.factors):
            frame[RAW_PREFIX + name] = raw[:, j]
    return Design(frame, problem)


def count_points(spec: SweepSpec) -> int:
    """Number of design points, without sampling."""
    d = len(spec.factors)
    n = int(spec.samples or 0)
    if spec.design == "factorial":
        return math.prod(len(factorial_levels(f, spec.num_levels)) for f in spec.factors.values())
    if spec.design == "sobol":
        return n * (2 * d + 2 if spec.calc_second_order else d + 2)
    if spec.design == "morris":
        return n * (d + 1)
    return n


__all__ = [
    "RAW_PREFIX",
    "Design",
    "build_design",
    "with_ensemble",
    "count_points",
    "factorial_levels",
    "salib_problem",
]
