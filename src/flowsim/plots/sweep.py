"""Sweep figures: each outcome against each lever, and sensitivity indices with their confidence."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flowsim.folders import sweep_columns
from flowsim.plots.labels import new_figure, output_label, pretty

INDEX_BARS: dict[str, tuple[tuple[str, str | None, str], ...]] = {
    "sobol": (("S1", "S1_conf", "first order S1"), ("ST", "ST_conf", "total order ST")),
    "morris": (
        ("mu_star", "mu_star_conf", "mu* (mean |elementary effect|)"),
        ("sigma", None, "sigma (spread)"),
    ),
}
"""For each method, the bars drawn per parameter: (index column, confidence column, legend)."""


def successful_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs that finished: ``error`` empty or missing."""
    if "error" not in runs.columns:
        return runs
    error = runs["error"]
    return runs[error.isna() | (error.astype(str).str.len() == 0)]


def binned_means(x: pd.Series, y: pd.Series, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``y`` per bin of ``x``: per distinct value when few, else per quantile bin."""
    frame = pd.DataFrame(
        {"x": x.to_numpy(dtype=np.float64), "y": y.to_numpy(dtype=np.float64)}
    ).dropna()
    if frame["x"].nunique() <= bins:
        grouped = frame.groupby("x")["y"].mean()
        return grouped.index.to_numpy(), grouped.to_numpy()
    bin_of = pd.qcut(frame["x"], bins, duplicates="drop")
    grouped = frame.groupby(bin_of, observed=True).mean()
    return grouped["x"].to_numpy(), grouped["y"].to_numpy()


def plot_sweep_outcomes(
    runs: pd.DataFrame,
    parameters: Sequence[str] | None = None,
    outcomes: Sequence[str] | None = None,
    *,
    bins: int = 6,
    title: str | None = None,
) -> Figure:
    """Each outcome (rows) against each varied parameter (columns): every run, and the binned mean.

    Args:
        runs: a sweep's ``runs`` (one row per run); failed runs (``error`` set) are left out.
        parameters: the varied parameters (dotted paths); default: every numeric column that
            is neither an identifier nor an outcome.
        outcomes: the outcomes; default: the reported outputs among the columns.
        bins: quantile bins of a parameter for the mean line (a parameter with at most
            ``bins`` distinct values, as in a factorial design, gets a mean per value).
        title: the figure title.

    Returns:
        The figure: a grid of panels, each a scatter of runs and a line of binned means.
    """
    if outcomes is None or parameters is None:
        found_parameters, found_outcomes = sweep_columns(runs)
        parameters = list(parameters) if parameters is not None else found_parameters
        outcomes = list(outcomes) if outcomes is not None else found_outcomes
    missing = [c for c in [*parameters, *outcomes] if c not in runs.columns]
    if missing or not parameters or not outcomes:
        raise ValueError(
            f"cannot plot the sweep: missing columns {missing}"
            if missing
            else "the sweep has no parameters or outcomes"
        )
    done = successful_runs(runs)
    fig = new_figure(3.6 * len(parameters) + 0.6, 2.8 * len(outcomes) + 0.6)
    axes = fig.subplots(len(outcomes), len(parameters), squeeze=False)
    for row, outcome in enumerate(outcomes):
        for column, parameter in enumerate(parameters):
            ax = axes[row, column]
            ax.scatter(done[parameter], done[outcome], s=10, alpha=0.45, color="C0", label="run")
            x_mean, y_mean = binned_means(done[parameter], done[outcome], bins)
            ax.plot(
                x_mean,
                y_mean,
                color="C3",
                marker="o",
                markersize=3,
                linewidth=1.8,
                label="binned mean",
            )
            ax.set_xlabel(pretty(parameter), fontsize="small")
            ax.set_ylabel(output_label(outcome, per="year"), fontsize="small")
            ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize="x-small")
    failed = len(runs) - len(done)
    note = f" ({failed} failed run{'s' if failed != 1 else ''} left out)" if failed else ""
    fig.suptitle(title or f"Sweep outcomes against levers: {len(done)} runs{note}")
    return fig


def sensitivity_method(table: pd.DataFrame) -> str:
    """``sobol`` or ``morris``, told by the columns of a sensitivity table."""
    for method, bars in INDEX_BARS.items():
        if bars[0][0] in table.columns:
            return method
    raise ValueError(
        f"not a sensitivity table: it has columns {list(table.columns)}; "
        "expected S1/ST (sobol) or mu_star (morris)"
    )


def plot_sensitivity(
    table: pd.DataFrame, *, outcomes: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Sensitivity indices as horizontal bars with their confidence intervals as error bars.

    Args:
        table: a tidy sensitivity table (``outcome``, ``parameter``, then ``S1``, ``S1_conf``,
            ``ST``, ``ST_conf`` for Sobol or ``mu_star``, ``mu_star_conf``, ``sigma`` for Morris).
        outcomes: the outcomes to draw, one panel each (default: all, in table order).
        title: the figure title.

    Returns:
        The figure: per outcome, two bars per parameter (S1 and ST, or mu* and sigma); the
        error bar of an index is its ``_conf`` half-width.
    """
    method = sensitivity_method(table)
    outcomes = list(outcomes) if outcomes is not None else list(dict.fromkeys(table["outcome"]))
    parameters = list(dict.fromkeys(table["parameter"]))
    columns = min(2, len(outcomes))
    rows = math.ceil(len(outcomes) / columns)
    fig = new_figure(6.5 * columns, (0.45 * len(parameters) + 1.6) * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(outcomes) :]:
        ax.set_visible(False)
    height = 0.38
    position = np.arange(len(parameters), dtype=np.float64)
    for ax, outcome in zip(axes, outcomes, strict=False):
        rows_of = table[table["outcome"] == outcome].set_index("parameter").reindex(parameters)
        for k, (index, conf, label) in enumerate(INDEX_BARS[method]):
            error = rows_of[conf].to_numpy(dtype=np.float64) if conf else None
            ax.barh(
                position + (k - 0.5) * height,
                rows_of[index].to_numpy(dtype=np.float64),
                height,
                xerr=error,
                capsize=3,
                color=f"C{k}",
                label=label,
            )
        ax.set_yticks(position, [pretty(p) for p in parameters], fontsize="small")
        ax.invert_yaxis()
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(
            "sensitivity index [share of variance]"
            if method == "sobol"
            else "elementary effect [outcome units]"
        )
        ax.set_title(output_label(outcome, per="year"))
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize="x-small")
    fig.suptitle(
        title or f"{method.capitalize()} sensitivity of each outcome to each parameter (95% CI)"
    )
    return fig
