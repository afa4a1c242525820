"""Outputs over time: the median across replicates and the 5-95% band around it.

A 5-95% band needs replicates beyond both quantiles to mean anything: with fewer
than :data:`MIN_BAND_REPLICATES` the figure draws every replicate as a thin line
instead, and says so in the legend.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.dates import ConciseDateFormatter
from matplotlib.figure import Figure

from flowsim.plots.labels import new_figure, output_label, pretty

DEFAULT_OUTPUTS: tuple[str, ...] = (
    "papers",
    "invention_patents",
    "pct_applications",
    "startups",
    "vc_volume",
    "commercialized",
)
"""Outputs drawn when none are asked for: research, patents, firms, capital, products."""

BAND = (0.05, 0.95)
"""Quantiles across replicates that bound the shaded band."""

MIN_BAND_REPLICATES = 10
"""Fewest replicates drawn as a 5-95% band; with fewer, each replicate is drawn as a line.

With n replicates the empirical 5% and 95% quantiles interpolate between the two
lowest (highest) values until n >= 10; with 2 or 3 the "band" is nearly the range of
the values, not a 90% interval.
"""


def replicate_quantiles(timeseries: pd.DataFrame, output: str) -> pd.DataFrame:
    """Median and 5-95% quantiles of ``output`` across replicates, one row per step.

    Args:
        timeseries: rows per (replicate, step); a frame without ``replicate`` is one replicate.
        output: the column to summarise.

    Returns:
        Columns ``step``, ``median``, ``low``, ``high`` and ``replicates``.
    """
    by_step = timeseries.groupby("step")[output]
    out = pd.DataFrame(
        {
            "median": by_step.median(),
            "low": by_step.quantile(BAND[0]),
            "high": by_step.quantile(BAND[1]),
            "replicates": by_step.size(),
        }
    )
    return out.reset_index()


def month_dates(start_year: int, steps: np.ndarray) -> np.ndarray:
    """The first day of each step's month (step 0 is January of ``start_year``)."""
    months = np.datetime64(f"{int(start_year):04d}-01", "M") + np.asarray(steps, dtype=np.int64)
    return months.astype("datetime64[D]")


def _as_scenarios(timeseries: pd.DataFrame | Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    if isinstance(timeseries, pd.DataFrame):
        return {"": timeseries}
    if not timeseries:
        raise ValueError(
            "no time series to plot: give a DataFrame or a mapping of scenario name -> DataFrame"
        )
    return dict(timeseries)


def _draw_replicates(
    ax: Axes,
    frame: pd.DataFrame,
    output: str,
    first_year: int,
    colour: str,
    prefix: str,
    n: int,
) -> None:
    """Each replicate as a thin line: too few replicates for a band (see MIN_BAND_REPLICATES)."""
    groups = frame.groupby("replicate") if "replicate" in frame.columns else [(0, frame)]
    for k, (_, replicate) in enumerate(groups):
        replicate = replicate.sort_values("step")
        ax.plot(
            month_dates(first_year, replicate["step"].to_numpy()),
            replicate[output].to_numpy(dtype=np.float64),
            color=colour,
            linewidth=0.7,
            alpha=0.45,
            gid="replicate",
            label=(
                f"{prefix}each of {n} replicate{'s' if n != 1 else ''} (too few for a 5-95% band)"
                if k == 0
                else None
            ),
        )


def plot_timeseries(
    timeseries: pd.DataFrame | Mapping[str, pd.DataFrame],
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
    *,
    start_year: int | None = None,
    title: str | None = None,
    columns: int = 2,
) -> Figure:
    """Monthly outputs over time: a median line and a 5-95% band (or the replicates) around it.

    One panel per output; the x axis is the calendar month. Give a
    mapping of scenario name -> time series to overlay several scenarios.

    Args:
        timeseries: a run's ``timeseries`` (rows per replicate and step, real-world units),
            or a mapping of scenario name to such a frame.
        outputs: the outputs to draw, one panel each.
        start_year: calendar year of step 0; read from the ``year`` column when omitted.
        title: the figure title; defaults to the scenario name(s).
        columns: panels per row.

    Returns:
        The figure: per scenario in each panel, a median line (gid ``median``) and either a
        5-95% band (a ``PolyCollection``, from :data:`MIN_BAND_REPLICATES` replicates on) or
        one thin line per replicate (gid ``replicate``).
    """
    scenarios = _as_scenarios(timeseries)
    outputs = list(outputs)
    for name, frame in scenarios.items():
        missing = [o for o in outputs if o not in frame.columns]
        if missing:
            raise ValueError(
                f"time series {name!r} has no column(s) {missing}; see flowsim.outputs.REPORTED"
            )
    columns = max(1, min(columns, len(outputs)))
    rows = math.ceil(len(outputs) / columns)
    fig = new_figure(5.0 * columns, 3.0 * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(outputs) :]:
        ax.set_visible(False)
    for ax, output in zip(axes, outputs, strict=False):
        for index, (name, frame) in enumerate(scenarios.items()):
            colour = f"C{index}"
            first_year = start_year if start_year is not None else int(frame["year"].min())
            q = replicate_quantiles(frame, output)
            when = month_dates(first_year, q["step"].to_numpy())
            n = int(q["replicates"].max())
            prefix = f"{name}: " if name else ""
            if n >= MIN_BAND_REPLICATES:
                ax.fill_between(
                    when,
                    q["low"],
                    q["high"],
                    color=colour,
                    alpha=0.25,
                    linewidth=0,
                    label=f"{prefix}5-95% of {n} replicates",
                )
            else:
                _draw_replicates(ax, frame, output, first_year, colour, prefix, n)
            ax.plot(
                when,
                q["median"],
                color=colour,
                linewidth=1.6,
                label=f"{prefix}median",
                gid="median",
            )
        ax.set_title(pretty(output))
        ax.set_xlabel("month")
        ax.xaxis.set_major_formatter(ConciseDateFormatter(ax.xaxis.get_major_locator()))
        ax.set_ylabel(output_label(output, per="month"))
        ax.set_ylim(bottom=min(0.0, float(np.nanmin(ax.get_ylim()))))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small", loc="best")
    names = [n for n in scenarios if n]
    fig.suptitle(
        title or (f"Outputs over time: {', '.join(names)}" if names else "Outputs over time")
    )
    return fig
