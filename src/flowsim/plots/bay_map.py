"""A map of the Bay Area: cities at their coordinates, arrows for cross-border flows.

No coastline is drawn (that would need map data downloads); cities sit at their
latitude and longitude on an equal-distance projection around the bay, so
distances and directions read true.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch

from flowsim.geography import CITIES, ELEMENTS, JURISDICTIONS, load_geography
from flowsim.plots.corridors import city_measure, city_pair_volumes
from flowsim.plots.labels import ELEMENT_UNITS, new_figure, number

JURISDICTION_MARKERS: dict[str, str] = {"GD": "o", "HK": "s", "MO": "D"}
"""Marker of each jurisdiction's cities."""

LABEL_OFFSETS: dict[str, tuple[float, float]] = {
    "Macao": (-8, -12),
    "Zhuhai": (6, 2),
    "Hong Kong": (8, -4),
    "Foshan": (-4, -13),
}
"""Where a city's name sits, in points from its marker, where the default would collide."""

COLOUR_LABELS: dict[str, str] = {
    "cross_border_inflow": "cross-border inflow",
    "cross_border_outflow": "cross-border outflow",
    "inflow": "inflow, domestic included",
    "outflow": "outflow, domestic included",
    "net_inflow": "net inflow, domestic included",
    "refusals": "refusals at destination",
}
"""What the colour bar says each ``color_by`` measure is."""

MAX_ARROW_WIDTH = 7.0
"""Line width (points) of the largest flow in a panel; the others scale with their volume."""


def _city_values(
    flows: pd.DataFrame, months: int, element: str, color_by: str | Mapping[str, float]
) -> tuple[np.ndarray, str]:
    if isinstance(color_by, str):
        unit = ELEMENT_UNITS[element] if color_by != "refusals" else "refused flows"
        what = COLOUR_LABELS.get(color_by, color_by.replace("_", " "))
        return city_measure(flows, months, element, color_by), f"{element} {what} [{unit} / year]"
    unknown = sorted(set(color_by) - set(CITIES))
    if unknown:
        raise ValueError(f"unknown cities {unknown} in color_by; cities are {', '.join(CITIES)}")
    return np.array([float(color_by.get(city, np.nan)) for city in CITIES]), "value"


def _short(color_by: str | Mapping[str, float]) -> str:
    """The colour measure, for a panel title."""
    if not isinstance(color_by, str):
        return "the given values"
    return COLOUR_LABELS.get(color_by, color_by.replace("_", " "))


def _draw_arrows(
    ax: Axes, pairs: pd.DataFrame, xy: dict[str, tuple[float, float]], unit: str
) -> list[Line2D]:
    """One curved arrow per ordered city pair (A->B, B->A bend apart); width legend."""
    if pairs.empty:
        ax.text(
            0.5,
            0.04,
            "no cross-border flows",
            transform=ax.transAxes,
            ha="center",
            fontsize="small",
        )
        return []
    largest = float(pairs["volume"].max())
    for row in pairs.itertuples():
        width = 0.4 + (MAX_ARROW_WIDTH - 0.4) * row.volume / largest
        ax.add_patch(
            FancyArrowPatch(
                xy[row.origin],
                xy[row.destination],
                arrowstyle="-|>",
                mutation_scale=7 + width,
                linewidth=width,
                connectionstyle="arc3,rad=0.18",
                color="tab:red",
                alpha=0.55,
                shrinkA=6,
                shrinkB=6,
                zorder=2,
                gid=f"flow:{row.origin}->{row.destination}",
            )
        )
    # What the thickest arrow and one a quarter as wide mean.
    return [
        Line2D(
            [],
            [],
            color="tab:red",
            alpha=0.55,
            linewidth=0.4 + (MAX_ARROW_WIDTH - 0.4) * share,
            label=f"{number(largest * share)} {unit} / year",
        )
        for share in (1.0, 0.25)
    ]


def plot_map(
    flows: pd.DataFrame,
    months: int,
    *,
    elements: Sequence[str] = ELEMENTS,
    color_by: str | Mapping[str, float] = "cross_border_inflow",
    title: str | None = None,
) -> Figure:
    """Map of the 11 cities coloured by a measure, arrows for cross-border flows, per element.

    Args:
        flows: a run's flows (rows per replicate, step, element, origin, destination).
        months: recorded months of each replicate (flows are shown per year).
        elements: the elements to draw, one panel each.
        color_by: how to colour cities, per year, for the panel's element:
            ``cross_border_inflow`` (default: what arrives across a border, as the arrows),
            ``cross_border_outflow``, or every flow, domestic included: ``inflow``,
            ``outflow``, ``net_inflow``; or ``refusals``; or a mapping city -> value used in
            every panel. The colour bar says which.
        title: the figure title.

    Returns:
        The figure. Each panel has one marker per city (one scatter per jurisdiction) and one
        ``FancyArrowPatch`` per ordered pair of cities in different jurisdictions with volume > 0;
        an arrow's width is proportional to the pair's volume.
    """
    unknown = [e for e in elements if e not in ELEMENTS]
    if unknown:
        raise ValueError(f"unknown elements {unknown}; elements are {', '.join(ELEMENTS)}")
    geo = load_geography()
    # Equirectangular projection at the bay's latitude: x, y in km from the centre.
    lat0, lon0 = float(np.mean(geo.lat)), float(np.mean(geo.lon))
    x = (np.asarray(geo.lon) - lon0) * 111.32 * np.cos(np.radians(lat0))
    y = (np.asarray(geo.lat) - lat0) * 110.57
    xy = {city: (float(x[i]), float(y[i])) for i, city in enumerate(CITIES)}
    columns = 2 if len(elements) > 1 else 1
    rows = -(-len(elements) // columns)
    fig = new_figure(6.6 * columns, 4.3 * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(elements) :]:
        ax.set_visible(False)
    for ax, element in zip(axes, elements, strict=False):
        values, label = _city_values(flows, months, element, color_by)
        norm = Normalize(vmin=float(np.nanmin(values)), vmax=float(np.nanmax(values)) or 1.0)
        for j, jurisdiction in enumerate(JURISDICTIONS):
            mine = np.asarray(geo.city_jurisdiction) == j
            scatter = ax.scatter(
                x[mine],
                y[mine],
                c=values[mine],
                cmap="viridis",
                norm=norm,
                s=130,
                marker=JURISDICTION_MARKERS[jurisdiction],
                edgecolors="black",
                linewidths=0.8,
                zorder=3,
            )
        for i, city in enumerate(CITIES):
            ax.annotate(
                city,
                (x[i], y[i]),
                xytext=LABEL_OFFSETS.get(city, (5, 5)),
                textcoords="offset points",
                fontsize="x-small",
                zorder=4,
                ha="right" if LABEL_OFFSETS.get(city, (5,))[0] < 0 else "left",
            )
        width_handles = _draw_arrows(
            ax, city_pair_volumes(flows, months, element), xy, ELEMENT_UNITS[element]
        )
        marker_handles = [
            Line2D(
                [],
                [],
                linestyle="none",
                marker=JURISDICTION_MARKERS[j],
                markerfacecolor="white",
                markeredgecolor="black",
                label=j,
            )
            for j in JURISDICTIONS
        ]
        ax.legend(
            handles=marker_handles + width_handles,
            loc="upper center",
            bbox_to_anchor=(0.5, -0.2),
            ncol=5,
            fontsize="x-small",
            columnspacing=1.0,
            handlelength=1.5,
        )
        fig.colorbar(scatter, ax=ax, label=label, shrink=0.75, aspect=15)
        ax.set_title(
            f"{element}: cross-border flows (arrows);\ncities coloured by {_short(color_by)}",
            fontsize="medium",
        )
        ax.set_xlabel("east of bay centre [km]")
        ax.set_ylabel("north of bay centre [km]")
        ax.set_aspect("equal")
        ax.margins(0.12)
        ax.grid(alpha=0.2)
    fig.suptitle(title or "Cross-border flows between the Greater Bay Area's cities")
    return fig


def plot_difference_map(
    values: Mapping[str, float],
    significant: Mapping[str, bool],
    *,
    label: str,
    title: str,
    ax: Axes | None = None,
) -> Figure:
    """Map of the 11 cities coloured by a difference (policy - reference), significance marked.

    Args:
        values: city -> difference (cities left out are drawn grey: no cell, no activity).
        significant: city -> whether the difference is significant (BH-adjusted); a
            significant city gets a thick black ring and an asterisk after its name.
        label: what the colour bar says (the difference and its unit).
        title: the panel's title.
        ax: draw into this axes (its figure is returned); default: a new figure.

    Returns:
        The figure. The colour scale is diverging and centred on zero (red: loss, blue:
        gain), symmetric so that equal gains and losses have equal strength.
    """
    unknown = sorted(set(values) - set(CITIES))
    if unknown:
        raise ValueError(f"unknown cities {unknown}; cities are {', '.join(CITIES)}")
    geo = load_geography()
    lat0, lon0 = float(np.mean(geo.lat)), float(np.mean(geo.lon))
    x = (np.asarray(geo.lon) - lon0) * 111.32 * np.cos(np.radians(lat0))
    y = (np.asarray(geo.lat) - lat0) * 110.57
    if ax is None:
        fig = new_figure(5.6, 4.4)
        ax = fig.subplots()
    else:
        fig = ax.figure
    data = np.array([float(values.get(city, np.nan)) for city in CITIES])
    marked = np.array([bool(significant.get(city, False)) for city in CITIES])
    finite = data[np.isfinite(data)]
    top = float(np.max(np.abs(finite))) if finite.size else 1.0
    norm = Normalize(vmin=-(top or 1.0), vmax=top or 1.0)
    scatter = None
    for j, jurisdiction in enumerate(JURISDICTIONS):
        mine = np.asarray(geo.city_jurisdiction) == j
        have = mine & np.isfinite(data)
        none = mine & ~np.isfinite(data)
        if none.any():
            ax.scatter(
                x[none],
                y[none],
                c="lightgrey",
                s=150,
                marker=JURISDICTION_MARKERS[jurisdiction],
                edgecolors="grey",
                zorder=3,
            )
        if have.any():
            scatter = ax.scatter(
                x[have],
                y[have],
                c=data[have],
                cmap="RdBu",
                norm=norm,
                s=150,
                marker=JURISDICTION_MARKERS[jurisdiction],
                edgecolors=np.where(marked[have], "black", "grey"),
                linewidths=np.where(marked[have], 2.6, 0.6),
                zorder=3,
            )
    for i, city in enumerate(CITIES):
        offset = LABEL_OFFSETS.get(city, (5, 5))
        ax.annotate(
            f"{city}{' *' if marked[i] else ''}",
            (x[i], y[i]),
            xytext=offset,
            textcoords="offset points",
            fontsize="x-small",
            zorder=4,
            fontweight="bold" if marked[i] else "normal",
            ha="right" if offset[0] < 0 else "left",
        )
    if scatter is not None:
        fig.colorbar(scatter, ax=ax, label=label, shrink=0.6, aspect=14)
    ax.set_title(title, fontsize="medium")
    ax.set_xlabel("east of bay centre [km]")
    ax.set_ylabel("north of bay centre [km]")
    ax.set_aspect("equal")
    ax.margins(0.15)
    ax.grid(alpha=0.2)
    return fig


def plot_difference_maps(
    by_city: pd.DataFrame, outputs: Sequence[str], *, foot: str = "", columns: int = 2
) -> Figure | None:
    """One difference map per output from a by-city comparison table (``compare_by_city``).

    ``by_city`` has ``city``, ``output``, ``diff_pct`` and ``significant`` (one scenario);
    each panel colours the cities by the effect in % of the city's reference value and
    marks the significant ones (:func:`plot_difference_map`). None if no output has cells.
    """
    from flowsim.plots.labels import pretty

    shown = [o for o in outputs if o in set(by_city["output"])]
    if not shown:
        return None
    columns = min(columns, len(shown))
    rows = -(-len(shown) // columns)
    fig = new_figure(4.2 * columns, 3.6 * rows + 0.4)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    for ax, output in zip(axes, shown, strict=False):
        part = by_city[by_city["output"] == output]
        plot_difference_map(
            dict(zip(part["city"], part["diff_pct"].astype(float), strict=True)),
            dict(zip(part["city"], part["significant"].astype(bool), strict=True)),
            label="effect [% of reference]",
            title=f"{pretty(output)} (* significant)",
            ax=ax,
        )
    if foot:
        fig.supxlabel(foot, fontsize="x-small")
    return fig
