"""Corridor x element heat maps: crossings, their mean delay, and refusals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.colors import Normalize, SymLogNorm
from matplotlib.figure import Figure

from flowsim.geography import CORRIDORS, ELEMENTS
from flowsim.plots.corridors import MEASURES, corridor_element_table
from flowsim.plots.labels import new_figure, number

MEASURE_LABELS: dict[str, str] = {
    "crossings": "approved crossings [count / year]",
    "mean_delay_days": "mean delay of a crossing [days]",
    "refusals": "refused crossings [count / year]",
}
"""Colour-bar label of each measure."""

MEASURE_COLOURS: dict[str, str] = {
    "crossings": "Blues",
    "mean_delay_days": "Oranges",
    "refusals": "Reds",
}


def _norm(values: np.ndarray, logarithmic: bool) -> Normalize:
    """Colour scale of a panel; counts spanning orders of magnitude get a log scale."""
    finite = values[np.isfinite(values)]
    top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
    if logarithmic:
        # Linear below one crossing a year, so that zero cells stay drawable.
        return SymLogNorm(linthresh=1.0, vmin=0.0, vmax=top)
    return Normalize(vmin=0.0, vmax=top)


def plot_corridor_heatmap(flows: pd.DataFrame, months: int, *, title: str | None = None) -> Figure:
    """Three heat maps of corridor (rows) x element (columns): crossings, mean delay, refusals.

    Args:
        flows: a run's flows (rows per replicate, step, element, origin, destination).
        months: recorded months of each replicate (counts are shown per year).
        title: the figure title.

    Returns:
        The figure: one panel per measure, each an image of shape (3 corridors, 4 elements)
        holding the values of :func:`corridor_element_table`, written in the cells too.
        A cell without crossings has no mean delay and is left blank. Counts are coloured on a
        logarithmic scale, since talent crossings outnumber the others by orders of magnitude.
    """
    table = corridor_element_table(flows, months)
    fig = new_figure(15.0, 3.6)
    axes = fig.subplots(1, len(MEASURES))
    for ax, measure in zip(axes, MEASURES, strict=True):
        grid = table.pivot(index="corridor", columns="element", values=measure).loc[
            list(CORRIDORS), list(ELEMENTS)
        ]
        values = grid.to_numpy(dtype=np.float64)
        norm = _norm(values, logarithmic=measure != "mean_delay_days")
        image = ax.imshow(
            np.ma.masked_invalid(values), cmap=MEASURE_COLOURS[measure], norm=norm, aspect="auto"
        )
        for (row, column), value in np.ndenumerate(values):
            dark = np.isfinite(value) and norm(value) > 0.6
            ax.text(
                column,
                row,
                number(value),
                ha="center",
                va="center",
                fontsize="small",
                color="white" if dark else "black",
            )
        ax.set_xticks(range(len(ELEMENTS)), ELEMENTS)
        ax.set_yticks(range(len(CORRIDORS)), CORRIDORS)
        ax.set_xlabel("element")
        ax.set_ylabel("corridor")
        ax.set_title(MEASURE_LABELS[measure].split(" [")[0])
        fig.colorbar(image, ax=ax, label=MEASURE_LABELS[measure], shrink=0.9)
    fig.suptitle(title or "Border crossings by corridor and element (mean over replicates)")
    return fig
