"""Axis labels with units, titles, and the figure object every plot starts from.

Figures are built on :class:`matplotlib.figure.Figure` directly, never through
``pyplot``: nothing global (the backend, open-figure registry) is touched, so
importing or calling the plots has no side effect and works without a display.
The canvas is Agg; ``fig.savefig`` writes PNG or SVG.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowsim.outputs import COUNTERS, unit_of

ELEMENT_UNITS: dict[str, str] = {
    "talent": "persons",
    "capital": "RMB m",
    "data": "datasets",
    "samples": "shipments",
}
"""Unit of a flow's ``volume`` for each element (a talent crossing is one person)."""

ACRONYMS: dict[str, str] = {
    "vc": "VC",
    "pct": "PCT",
    "gii": "GII",
    "gd": "GD",
    "hk": "HK",
    "mo": "MO",
}
"""Words written in capitals in labels."""

FORMATS: tuple[str, ...] = ("png", "svg")
"""File formats figures can be saved in."""


def new_figure(width: float, height: float) -> Figure:
    """A blank figure of ``width`` x ``height`` inches with an Agg canvas attached."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def output_label(output: str, per: str | None = "month") -> str:
    """Axis label of an output with its unit; counted outputs are a rate ``per`` month or year.

    >>> output_label("vc_volume")
    'VC volume [RMB m / month]'
    >>> output_label("researchers")
    'researchers [count]'
    """
    if output in COUNTERS and per:
        return f"{pretty(output)} [{unit_of(output)} / {per}]"
    return f"{pretty(output)} [{unit_of(output)}]"


def pretty(name: str) -> str:
    """A readable name of an output (``vc_deals`` -> ``VC deals``); dotted paths stay as is."""
    if "." in name:
        return name
    words = [ACRONYMS.get(word, word) for word in name.split("_")]
    return " ".join(words)


def number(value: float) -> str:
    """A value as people read it: 12,345 above 100, three significant digits below, - for none."""
    if value != value or value in (float("inf"), float("-inf")):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def save(fig: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write a figure to ``path``; the suffix (``.png`` or ``.svg``) chooses the format."""
    path = Path(path)
    suffix = path.suffix.lstrip(".").lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{path}: cannot write a figure as {suffix!r}; use one of {', '.join(FORMATS)}"
        )
    from flowsim.diskio import atomic_path

    with atomic_path(path) as tmp:  # a full disk leaves no empty or half-written figure
        fig.savefig(tmp, dpi=dpi, format=suffix)
    return path
