"""Global sensitivity analysis of a Sobol or Morris sweep (SALib), as a table and a figure.

Each outcome is first averaged over the replicates of each design point (the
replicates share seeds across points, but the factors decorrelate later draws, so
run-to-run noise remains; averaging R replicates divides its variance by R), then
analysed in design order:

- **sobol** (:func:`SALib.analyze.sobol.analyze`): first-order ``S1`` and total
  ``ST`` indices with their confidence half-widths ``S1_conf``, ``ST_conf``;
- **morris** (:func:`SALib.analyze.morris.analyze`): ``mu``, ``mu_star`` (mean
  absolute elementary effect), ``mu_star_conf`` and ``sigma``.

Confidence intervals come from SALib's bootstrap, seeded from the sweep's root seed.

Indices from a small or noisy sample can be anything — a Sobol index is a share of
variance, yet estimates below 0 or above 1 are common when the sample is small. So
every table also says how far to trust it (columns :data:`CHECK_COLUMNS`):

- ``*_width``: the full width of each bootstrap interval (2 x ``*_conf``);
- ``*_half_change``: a convergence check — how much each index moves between the
  analysis of the first half of the base samples (N/2; Saltelli blocks and Morris
  trajectories stay whole) and of all N; :data:`CONVERGED` bounds it;
- ``warning``: empty, or why this row should not be read as it stands: an index
  outside [0, 1] by more than its interval, a sample smaller than :data:`MIN_SAMPLES`,
  intervals wider than :data:`MAX_WIDTH`, no convergence, a single replicate per point.

The same warnings are in ``table.attrs["warnings"]`` (per outcome), printed by
``flowsim sensitivity`` and written on the figure.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.streams import stream
from flowsim.sweep.api import SweepError, SweepResult, read_sweep
from flowsim.sweep.design import RAW_PREFIX

SOBOL_COLUMNS: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf")
MORRIS_COLUMNS: tuple[str, ...] = ("mu", "mu_star", "mu_star_conf", "sigma")

CHECKED: dict[str, tuple[tuple[str, str], ...]] = {
    "sobol": (("S1", "S1_conf"), ("ST", "ST_conf")),
    "morris": (("mu_star", "mu_star_conf"),),
}
"""Per method, the (index, half-width) pairs whose width and convergence are checked."""

CHECK_COLUMNS: dict[str, tuple[str, ...]] = {
    "sobol": ("S1_width", "ST_width", "S1_half_change", "ST_half_change", "warning"),
    "morris": ("mu_star_width", "mu_star_half_change", "warning"),
}
"""Per method, the columns that say how far to trust the indices."""

MIN_SAMPLES: dict[str, int] = {"sobol": 256, "morris": 10}
"""Smallest base sample (Sobol's N, Morris trajectories) analysed without a warning.

Sobol: Saltelli et al. (2010) and SALib's documentation use N of several hundred to
thousands; the shipped sweep's N = 256 is the smallest we accept. Morris: Campolongo
et al. (2007) use r = 10-20 trajectories.
"""

MAX_WIDTH = 0.2
"""Widest Sobol bootstrap interval (share of variance) accepted without a warning."""

CONVERGED = 0.05
"""Sobol: largest change of an index between N/2 and N accepted as converged (absolute).

Morris: the same bound relative to the largest ``mu_star`` of the outcome.
"""


def _mean_by_point(result: SweepResult, outcome: str, n_points: int) -> np.ndarray:
    runs = result.runs
    means = runs.groupby("point_id")[outcome].mean()
    missing = sorted(set(range(n_points)) - set(means.dropna().index))
    if missing:
        raise SweepError(
            f"{result.path}: outcome {outcome!r} has no successful run at {len(missing)} design "
            f"points (e.g. {missing[:5]}); the analysis needs every point — see `failures`"
        )
    return means.reindex(range(n_points)).to_numpy(dtype=np.float64)


def _problem(result: SweepResult) -> dict[str, Any]:
    problem = dict(result.manifest["salib_problem"])
    problem["bounds"] = [list(b) for b in problem["bounds"]]
    return problem


def sensitivity(
    sweep: SweepResult | str | Path,
    outcomes: list[str] | None = None,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 200,
) -> pd.DataFrame:
    """Sensitivity indices of every factor for each outcome of a Sobol or Morris sweep.

    Args:
        sweep: a finished sweep (its folder or :class:`~flowsim.sweep.api.SweepResult`).
        outcomes: outcomes to analyse; default all of the sweep's.
        conf_level: level of the bootstrap confidence intervals.
        num_resamples: bootstrap resamples.

    Returns:
        A tidy table: ``outcome``, ``parameter``, ``kind`` (lever or uncertainty), then
        ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` (sobol) or ``mu``, ``mu_star``,
        ``mu_star_conf``, ``sigma`` (morris).

    Raises:
        SweepError: the sweep is not Sobol or Morris, or a design point has no successful run.
    """
    result = sweep if isinstance(sweep, SweepResult) else read_sweep(sweep)
    design = result.manifest["design"]
    if design not in ("sobol", "morris"):
        raise SweepError(
            f"{result.path}: sensitivity needs a sobol or morris sweep, this one is {design!r}; "
            "set `design: sobol` (or morris) in the sweep file"
        )
    problem = _problem(result)
    n_points = int(result.manifest["design_points"])
    n_base = int(result.manifest.get("samples") or 0) or _base_samples(result, n_points)
    replications = int(result.manifest.get("replications") or 1)
    levers = set(result.manifest.get("levers", []))
    seed = int(stream(int(result.manifest["root_seed"]), "sensitivity").integers(0, 2**31 - 1))
    rows: list[dict[str, Any]] = []
    notes: dict[str, list[str]] = {}
    for outcome in outcomes or result.outcomes:
        if outcome not in result.outcomes:
            raise SweepError(
                f"{outcome!r} is not an outcome of this sweep; it has {result.outcomes}"
            )
        y = _mean_by_point(result, outcome, n_points)
        with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
            warnings.simplefilter(
                "ignore"
            )  # a constant outcome gives 0/0 indices: NaN in the table says it
            indices = _analyze(design, problem, result, y, conf_level, num_resamples, seed)
            half = _half_sample(design, problem, result, y, n_base, conf_level, seed)
        part = []
        for j, name in enumerate(problem["names"]):
            row = {
                "outcome": outcome,
                "parameter": name,
                "kind": "lever" if name in levers else "uncertainty",
            }
            row.update({key: float(np.asarray(values)[j]) for key, values in indices.items()})
            for index, conf in CHECKED[design]:
                row[f"{index}_width"] = 2.0 * row[conf]
                row[f"{index}_half_change"] = (
                    abs(row[index] - float(np.asarray(half[index])[j]))
                    if half is not None
                    else float("nan")
                )
            part.append(row)
        notes[outcome] = _outcome_warnings(design, part, n_base, replications, conf_level)
        for row in part:
            row["warning"] = "; ".join([*_row_warnings(design, row), *notes[outcome]])
        rows.extend(part)
    table = pd.DataFrame(rows)
    table.attrs["warnings"] = {
        outcome: list(
            dict.fromkeys(
                item
                for text in table.loc[table["outcome"] == outcome, "warning"]
                for item in text.split("; ")
                if item
            )
        )
        for outcome in notes
    }
    table.attrs["method"] = design
    return table


def _base_samples(result: SweepResult, n_points: int) -> int:
    """Sobol's N or Morris's trajectories, from the number of design points (older manifests)."""
    d = len(result.manifest["salib_problem"]["names"])
    if result.manifest["design"] == "morris":
        return n_points // (d + 1)
    second = bool(result.manifest["spec"].get("calc_second_order", False))
    return n_points // (2 * d + 2 if second else d + 2)


def _half_sample(
    design: str,
    problem: dict[str, Any],
    result: SweepResult,
    y: np.ndarray,
    n_base: int,
    conf_level: float,
    seed: int,
) -> dict[str, Any] | None:
    """The indices from the first half of the base samples (whole Saltelli blocks or trajectories).

    None when the sample has fewer than 4 base samples (no meaningful half).
    """
    if n_base < 4 or y.size % n_base:
        return None
    rows = (n_base // 2) * (y.size // n_base)
    return _analyze(design, problem, result, y[:rows], conf_level, 2, seed, rows=rows)


def _outcome_warnings(
    design: str, rows: list[dict[str, Any]], n_base: int, replications: int, conf_level: float
) -> list[str]:
    """What makes all of an outcome's indices doubtful: small sample, wide, unconverged, 1 rep."""
    out = []
    what = "N" if design == "sobol" else "trajectories"
    if n_base < MIN_SAMPLES[design]:
        out.append(f"sample too small ({what} = {n_base}, fewer than {MIN_SAMPLES[design]})")
    values = pd.DataFrame(rows)
    if design == "sobol":
        widest = float(values[["S1_width", "ST_width"]].max().max())
        if widest > MAX_WIDTH:
            out.append(
                f"{conf_level:.0%} intervals up to {widest:.2f} wide (more than {MAX_WIDTH})"
            )
        change = float(values[["S1_half_change", "ST_half_change"]].max().max())
        bound, scale = CONVERGED, "absolute"
    else:
        change = float(values["mu_star_half_change"].max())
        bound = CONVERGED * float(values["mu_star"].abs().max() or 1.0)
        scale = "of the largest mu*"
    if np.isfinite(change) and change > bound:
        out.append(
            f"not converged: an index moved by {change:.3g} between {what}/2 and {what} "
            f"(more than {CONVERGED} {scale})"
        )
    elif not np.isfinite(change):
        out.append(f"convergence not checked ({what} = {n_base} has no half to compare)")
    if replications == 1:
        out.append("one replicate per design point: run-to-run noise is part of the indices")
    return out


def _row_warnings(design: str, row: dict[str, Any]) -> list[str]:
    """An index outside [0, 1] by more than its interval (Sobol only: shares of variance)."""
    if design != "sobol":
        return []
    out = []
    for index, conf in CHECKED[design]:
        value, half = row[index], row[conf]
        if value + half < 0.0:
            out.append(f"{row['parameter']} {index} = {value:.2f} is below 0 beyond its interval")
        elif value - half > 1.0:
            out.append(f"{row['parameter']} {index} = {value:.2f} is above 1 beyond its interval")
    return out


def _analyze(
    design: str,
    problem: dict[str, Any],
    result: SweepResult,
    y: np.ndarray,
    conf_level: float,
    num_resamples: int,
    seed: int,
    rows: int | None = None,
) -> dict[str, Any]:
    if design == "sobol":
        from SALib.analyze import sobol

        second = bool(result.manifest["spec"].get("calc_second_order", False))
        out = sobol.analyze(
            problem,
            y,
            calc_second_order=second,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
        )
        return {key: out[key] for key in SOBOL_COLUMNS}
    from SALib.analyze import morris

    x = result.design.sort_values("point_id")[[RAW_PREFIX + n for n in problem["names"]]].to_numpy()
    if rows is not None:
        x = x[:rows]
    out = morris.analyze(
        problem,
        x,
        y,
        num_resamples=num_resamples,
        conf_level=conf_level,
        num_levels=int(result.manifest["spec"].get("num_levels", 4)),
        seed=seed,
    )
    return {key: out[key] for key in MORRIS_COLUMNS}


def sensitivity_figure(table: pd.DataFrame, path: str | Path) -> Path:
    """The figure of :func:`flowsim.plots.plot_sensitivity` (fits a page), saved to ``path``."""
    from flowsim.plots.sweep import plot_sensitivity

    path = Path(path)
    plot_sensitivity(table).savefig(path, dpi=150)
    return path


__all__ = [
    "CHECK_COLUMNS",
    "MORRIS_COLUMNS",
    "SOBOL_COLUMNS",
    "sensitivity",
    "sensitivity_figure",
]
