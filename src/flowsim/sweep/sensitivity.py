"""Global sensitivity analysis of a Sobol or Morris sweep (SALib), as a table and a figure.

Each outcome is first averaged over the replicates of each design point (the
replicates share seeds across points, so the noise they add is common to all
points), then analysed in design order:

- **sobol** (:func:`SALib.analyze.sobol.analyze`): first-order ``S1`` and total
  ``ST`` indices with their confidence half-widths ``S1_conf``, ``ST_conf``;
- **morris** (:func:`SALib.analyze.morris.analyze`): ``mu``, ``mu_star`` (mean
  absolute elementary effect), ``mu_star_conf`` and ``sigma``.

Confidence intervals come from SALib's bootstrap, seeded from the sweep's root seed.
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
    levers = set(result.manifest.get("levers", []))
    seed = int(stream(int(result.manifest["root_seed"]), "sensitivity").integers(0, 2**31 - 1))
    rows: list[dict[str, Any]] = []
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
        for j, name in enumerate(problem["names"]):
            row = {
                "outcome": outcome,
                "parameter": name,
                "kind": "lever" if name in levers else "uncertainty",
            }
            row.update({key: float(np.asarray(values)[j]) for key, values in indices.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def _analyze(
    design: str,
    problem: dict[str, Any],
    result: SweepResult,
    y: np.ndarray,
    conf_level: float,
    num_resamples: int,
    seed: int,
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
    """Bar chart of the indices with confidence intervals, a panel an outcome, saved to ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    sobol = "S1" in table.columns
    bars = (
        (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total ST"))
        if sobol
        else (("mu_star", "mu_star_conf", "mu* (mean |effect|)"), ("sigma", None, "sigma"))
    )
    outcomes = list(dict.fromkeys(table["outcome"]))
    # a bare Figure on the Agg canvas: no pyplot state, no change to a notebook's backend
    fig = Figure(figsize=(8, 1.2 + (0.9 + 0.4 * table["parameter"].nunique()) * len(outcomes)))
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(outcomes), 1, squeeze=False)
    for ax, outcome in zip(axes[:, 0], outcomes, strict=True):
        part = table[table["outcome"] == outcome]
        y = np.arange(len(part))
        height = 0.38
        for k, (column, conf, label) in enumerate(bars):
            errors = part[conf].to_numpy() if conf else None
            ax.barh(
                y + (k - 0.5) * height,
                part[column].to_numpy(),
                height,
                xerr=errors,
                capsize=3,
                label=label,
            )
        ax.set_yticks(y, part["parameter"].tolist(), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(outcome, fontsize=10)
        ax.axvline(0.0, color="black", linewidth=0.6)
        ax.legend(fontsize=7, loc="lower right")
    axes[-1, 0].set_xlabel("Sobol index" if sobol else "elementary effect (outcome units)")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    return path


__all__ = ["MORRIS_COLUMNS", "SOBOL_COLUMNS", "sensitivity", "sensitivity_figure"]
