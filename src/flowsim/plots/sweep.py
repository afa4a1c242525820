"""Sweep figures: each outcome against each lever, and sensitivity indices with their confidence."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

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


PAGE_INCHES: tuple[float, float] = (8.27, 11.69)
"""An A4 page, portrait: the sensitivity figure never exceeds it."""


def plot_sensitivity(
    table: pd.DataFrame, *, outcomes: Sequence[str] | None = None, title: str | None = None
) -> Figure:
    """Sensitivity indices as horizontal bars with their confidence intervals as error bars.

    The figure fits an A4 page (:data:`PAGE_INCHES`) whatever the number of outcomes and
    parameters: panels in two columns sharing the parameter names, text shrinking with
    the number of bars. Doubtful indices are flagged: a panel whose outcome has a warning
    (column ``warning`` of :func:`flowsim.sensitivity`) has its title marked "(!)" and
    hatched bars, and the warnings are written under the panels.

    Args:
        table: a tidy sensitivity table (``outcome``, ``parameter``, then ``S1``, ``S1_conf``,
            ``ST``, ``ST_conf`` for Sobol or ``mu_star``, ``mu_star_conf``, ``sigma`` for
            Morris; ``warning`` if present).
        outcomes: the outcomes to draw, one panel each (default: all, in table order).
        title: the figure title.

    Returns:
        The figure: per outcome, two bars per parameter (S1 and ST, or mu* and sigma); the
        error bar of an index is its ``_conf`` half-width.
    """
    method = sensitivity_method(table)
    outcomes = list(outcomes) if outcomes is not None else list(dict.fromkeys(table["outcome"]))
    parameters = list(dict.fromkeys(table["parameter"]))
    warned = _warnings_by_outcome(table, outcomes)
    lines = _note_lines(warned, len(outcomes))
    columns = min(2, len(outcomes))
    rows = math.ceil(len(outcomes) / columns)
    # room for every bar at a readable size, shrunk (text too) to fit the page
    notes_in = 0.14 * (len(lines) + 0.5) if lines else 0.0
    panel_in = 0.3 * len(parameters) + 1.0
    wanted = panel_in * rows + 0.8 + notes_in
    height = min(PAGE_INCHES[1], wanted)
    shrink = height / wanted
    font = max(4.5, 8.0 * shrink)
    fig = new_figure(PAGE_INCHES[0], height)
    grid = fig.add_gridspec(
        rows + (1 if lines else 0),
        columns,
        height_ratios=[panel_in] * rows + ([notes_in] if lines else []),
    )
    axes = [fig.add_subplot(grid[k // columns, k % columns]) for k in range(len(outcomes))]
    bar_height = 0.38
    position = np.arange(len(parameters), dtype=np.float64)
    for k, (ax, outcome) in enumerate(zip(axes, outcomes, strict=True)):
        rows_of = table[table["outcome"] == outcome].set_index("parameter").reindex(parameters)
        doubtful = bool(warned.get(outcome))
        for j, (index, conf, label) in enumerate(INDEX_BARS[method]):
            error = rows_of[conf].to_numpy(dtype=np.float64) if conf else None
            ax.barh(
                position + (j - 0.5) * bar_height,
                rows_of[index].to_numpy(dtype=np.float64),
                bar_height,
                xerr=error,
                capsize=2,
                color=f"C{j}",
                hatch="///" if doubtful else None,
                edgecolor="white" if doubtful else None,
                error_kw={"elinewidth": 0.8},
                label=label,
            )
        if k % columns == 0:
            ax.set_yticks(position, [pretty(p) for p in parameters], fontsize=font)
        else:
            ax.set_yticks(position, [""] * len(parameters))
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=font)
        ax.axvline(0.0, color="black", linewidth=0.8)
        if method == "sobol":
            ax.axvline(1.0, color="grey", linewidth=0.6, linestyle=":")
        ax.set_xlabel(
            "sensitivity index [share of variance]"
            if method == "sobol"
            else "elementary effect [outcome units]",
            fontsize=font,
        )
        mark = " (!)" if doubtful else ""
        ax.set_title(output_label(outcome, per="year") + mark, fontsize=font + 1)
        ax.grid(axis="x", alpha=0.3)
    axes[0].legend(fontsize=font - 1)
    if lines:
        ax = fig.add_subplot(grid[rows, :])
        ax.axis("off")
        # from the figure's left edge, not the panel grid's (which leaves room for names)
        where = blended_transform_factory(fig.transFigure, ax.transAxes)
        ax.text(0.02, 1.0, "\n".join(lines), va="top", ha="left", fontsize=font, transform=where)
    fig.suptitle(
        title or f"{method.capitalize()} sensitivity of each outcome to each parameter (95% CI)",
        fontsize=font + 2,
    )
    return fig


MAX_NOTE_LINES = 14
"""Most warning lines written on the sensitivity figure (the CSV has them all)."""


def _note_lines(warned: dict[str, list[str]], total: int) -> list[str]:
    """The warnings as lines, each text once with the outcomes it applies to."""
    if not warned:
        return []
    by_text: dict[str, list[str]] = {}
    for outcome, items in warned.items():
        for item in items:
            by_text.setdefault(item, []).append(pretty(outcome))
    lines = ["(!) read with care:"]
    for text, where in by_text.items():
        who = "every outcome" if len(where) == total > 1 else ", ".join(where)
        lines.append(f"- {who}: {text}")
    if len(lines) > MAX_NOTE_LINES:
        more = len(lines) - MAX_NOTE_LINES + 1
        lines = [*lines[: MAX_NOTE_LINES - 1], f"... and {more} more: see the `warning` column"]
    return [textwrap.shorten(line, 150, placeholder=" ...") for line in lines]


def _warnings_by_outcome(table: pd.DataFrame, outcomes: Sequence[str]) -> dict[str, list[str]]:
    """Each outcome's distinct warnings (``warning`` column, ``;``-separated), in order."""
    if "warning" not in table.columns:
        return {}
    out: dict[str, list[str]] = {}
    for outcome in outcomes:
        texts = table.loc[table["outcome"] == outcome, "warning"].fillna("").astype(str)
        items = [w.strip() for text in texts for w in text.split(";") if w.strip()]
        if items:
            out[outcome] = list(dict.fromkeys(items))
    return out
