"""Scenario comparison: yearly outputs against the reference, with 95% confidence intervals."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from flowsim.compare import ALL_YEARS, DEFAULT_OUTPUTS, SHARE_OUTPUTS, Source, compare
from flowsim.numbers import format_number
from flowsim.plots.labels import new_figure, output_label, pretty

Kind = Literal["level", "difference", "overview"]

SHOWN_OUTPUTS: tuple[str, ...] = (
    "papers",
    "pct_applications",
    "startups",
    "vc_volume",
    "commercialized",
    "cross_border_collaboration_share",
)
"""Outputs drawn when none are asked for."""


def _table(
    comparison: pd.DataFrame | Sequence[Source] | Mapping[str, Source], outputs: Sequence[str]
) -> pd.DataFrame:
    if isinstance(comparison, pd.DataFrame) and "diff" in comparison.columns:
        table = comparison
    else:
        table = compare(comparison, outputs=list(dict.fromkeys([*outputs, *DEFAULT_OUTPUTS])))
    if "parameter_set" in table.columns:  # an ensemble's per-set rows are not drawn
        table = table[table["parameter_set"].isna()]
    return table


def basis_note(table: pd.DataFrame, interval: str) -> str:
    """What a comparison figure rests on: scenarios, replicates, scale, interval kind.

    For example ``baseline (reference) vs data_sandbox; 8 replicates each, paired on
    seeds; agent scale 0.1; error bars: 95% CI over replicates``.
    """
    replicates = (
        table[table["period"] == ALL_YEARS].groupby("scenario", sort=False)["replicates"].first()
    )
    names = list(replicates.index)
    counts = {int(n) for n in replicates}
    each = (
        f"{counts.pop()} replicates each"
        if len(counts) == 1
        else ", ".join(f"{name} {int(n)} replicates" for name, n in replicates.items())
    )
    tests = set(table["test"].dropna()) if "test" in table.columns else set()
    how = "paired on seeds" if tests & {"paired", "paired-ensemble"} else "unpaired (Welch)"
    scales = set(table.attrs.get("scales", {}).values())
    scale = ", ".join(f"{s:g}" for s in sorted(scales)) if scales else "not recorded"
    compared = " vs ".join([f"{names[0]} (reference)", *names[1:]])
    return f"{compared}; {each}, {how}; agent scale {scale}; error bars: {interval}"


def _plain_ticks(ax, axis: str = "y", share: bool = False) -> None:
    """Tick labels in plain notation (no 1e4 offset), by the one number formatter."""
    from matplotlib.ticker import FuncFormatter

    factor = 100.0 if share else 1.0
    formatter = FuncFormatter(lambda value, _: format_number(factor * value))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _interval(table: pd.DataFrame) -> tuple[str, str, str]:
    """The difference interval's columns and its name: across parameter sets for ensembles."""
    if "test" in table.columns and (table["test"] == "paired-ensemble").any():
        return "diff_ui_low", "diff_ui_high", "95% uncertainty interval across parameter sets"
    return "diff_ci_low", "diff_ci_high", "95% CI over replicates"


def plot_comparison(
    comparison: pd.DataFrame | Sequence[Source] | Mapping[str, Source],
    outputs: Sequence[str] = SHOWN_OUTPUTS,
    *,
    kind: Kind = "level",
    title: str | None = None,
    columns: int = 2,
) -> Figure:
    """Each scenario's yearly outputs against the reference (the first scenario), with 95% CIs.

    Args:
        comparison: a table from :func:`flowsim.compare.compare`, or what it takes (run
            folders, or a mapping of scenario name -> results).
        outputs: the outputs to draw, one panel each (``overview``: one bar group each).
        kind: ``level`` draws each scenario's yearly mean with its confidence interval;
            ``difference`` draws each scenario's yearly difference from the reference with
            its confidence interval (paired or Welch, see
            :func:`flowsim.compare.compare`; the reference is the zero line); ``overview``
            draws one panel of whole-run differences in percent of the reference. For
            ensemble runs, differences carry the uncertainty interval across parameter
            sets (``diff_ui_low``, ``diff_ui_high``) instead.
        title: the figure title.
        columns: panels per row.

    Returns:
        The figure. In ``level`` panels every scenario is one error-bar series; in
        ``difference`` and ``overview`` every scenario but the reference is one.
    """
    table = _table(comparison, outputs)
    scenarios = list(dict.fromkeys(table["scenario"]))
    reference = scenarios[0]
    unknown = [o for o in outputs if o not in set(table["output"])]
    if unknown:
        raise ValueError(f"the comparison has no output(s) {unknown}; compare them first")
    if kind == "overview":
        return _overview(table, list(outputs), scenarios, title)
    if kind not in ("level", "difference"):
        raise ValueError(f"unknown kind {kind!r}; use level, difference or overview")
    diff_low, diff_high, interval = _interval(table)
    yearly = table[table["period"] != ALL_YEARS].assign(year=lambda t: t["period"].astype(int))
    drawn = scenarios if kind == "level" else scenarios[1:]
    columns = max(1, min(columns, len(outputs)))
    rows = math.ceil(len(outputs) / columns)
    fig = new_figure(5.2 * columns, 3.2 * rows + 0.5)
    axes = fig.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(outputs) :]:
        ax.set_visible(False)
    # Scenarios side by side within a year so that their intervals do not hide each other.
    offsets = np.linspace(-0.2, 0.2, len(drawn)) if len(drawn) > 1 else np.zeros(1)
    for ax, output in zip(axes, outputs, strict=False):
        rows_of = yearly[yearly["output"] == output]
        for index, scenario in enumerate(drawn):
            mine = rows_of[rows_of["scenario"] == scenario].sort_values("year")
            value, low, high = (
                ("mean", "ci_low", "ci_high") if kind == "level" else ("diff", diff_low, diff_high)
            )
            centre = mine[value].to_numpy(dtype=np.float64)
            error = np.vstack(
                [
                    centre - mine[low].to_numpy(dtype=np.float64),
                    mine[high].to_numpy(dtype=np.float64) - centre,
                ]
            )
            colour = "black" if scenario == reference else f"C{scenarios.index(scenario) - 1}"
            ax.errorbar(
                mine["year"] + offsets[index],
                centre,
                yerr=np.nan_to_num(error),
                fmt="-o",
                markersize=4,
                capsize=3,
                color=colour,
                label=f"{scenario} (reference)" if scenario == reference else scenario,
            )
        if kind == "difference":
            ax.axhline(0.0, color="black", linewidth=1.0, label=f"{reference} (reference)")
        ax.set_title(pretty(output))
        ax.set_xlabel("year")
        _plain_ticks(ax, share=output in SHARE_OUTPUTS)
        label = output_label(output, per="year")
        if output in SHARE_OUTPUTS:
            label = f"{pretty(output)} [{'pp' if kind == 'difference' else '%'}]"
        ax.set_ylabel(label if kind == "level" else f"difference: {label}", fontsize="small")
        ax.set_xticks(sorted(rows_of["year"].unique()))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="x-small")
    what = "yearly outputs" if kind == "level" else f"difference from {reference} per year"
    shown = "95% CI over replicates" if kind == "level" else interval
    fig.suptitle(title or f"Scenario comparison: {what} (mean and {shown})")
    fig.supxlabel(basis_note(table, shown), fontsize="small")
    return fig


def _overview(
    table: pd.DataFrame, outputs: list[str], scenarios: list[str], title: str | None
) -> Figure:
    """Whole-run change of each output in % of the reference, a bar per scenario, with CIs."""
    whole = table[(table["period"] == ALL_YEARS) & table["output"].isin(outputs)]
    diff_low, diff_high, interval = _interval(table)
    others = scenarios[1:]
    fig = new_figure(8.0, 0.5 * len(outputs) * max(1, len(others)) ** 0.5 + 2.0)
    ax = fig.subplots()
    height = 0.8 / max(1, len(others))
    position = np.arange(len(outputs), dtype=np.float64)
    for k, scenario in enumerate(others):
        mine = whole[whole["scenario"] == scenario].set_index("output").reindex(outputs)
        base = whole[whole["scenario"] == scenarios[0]].set_index("output").reindex(outputs)["mean"]
        scale = 100.0 / base.where(base != 0).to_numpy(dtype=np.float64)
        centre = mine["diff"].to_numpy(dtype=np.float64) * scale
        error = np.vstack(
            [
                centre - mine[diff_low].to_numpy() * scale,
                mine[diff_high].to_numpy() * scale - centre,
            ]
        )
        ax.barh(
            position + (k - (len(others) - 1) / 2) * height,
            centre,
            height,
            xerr=np.nan_to_num(error),
            capsize=3,
            color=f"C{k}",
            label=scenario,
        )
    ax.set_yticks(position, [pretty(o) for o in outputs])
    ax.invert_yaxis()
    ax.axvline(0.0, color="black", linewidth=1.0)
    ax.set_xlabel(f"change from {scenarios[0]} over the whole run [% of {scenarios[0]}]")
    ax.legend(fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or f"Policy scenarios against {scenarios[0]} ({interval})")
    _plain_ticks(ax, axis="x")
    fig.supxlabel(basis_note(table, interval), fontsize="small")
    return fig
