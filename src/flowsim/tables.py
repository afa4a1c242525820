"""Tidy tables over the replicates of one scenario: what ``summary.json`` and ``flowsim run`` show.

Each function takes the :class:`~flowsim.run.RunResult` s of a run (one per
replicate) and returns a pandas DataFrame, so a notebook gets the same figures as
the command line.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, PLACES, load_geography
from flowsim.outputs import COUNTERS
from flowsim.run import RunResult, stack_replicates

HEADLINE: tuple[str, ...] = (
    "papers",
    "pct_applications",
    "startups",
    "vc_deals",
    "commercialized",
    "cross_border_collaboration_share",
)
"""Yearly outputs that ``flowsim run`` prints."""


def yearly_records(results: list[RunResult]) -> pd.DataFrame:
    """Every replicate's yearly outputs: ``replicate``, ``seed``, ``year``, ``months``, outputs."""
    return stack_replicates(results, "yearly")


def mean_yearly(results: list[RunResult]) -> pd.DataFrame:
    """Yearly outputs averaged over replicates, one row per year (``replicates`` counts them)."""
    records = yearly_records(results)
    ids = [c for c in ("replicate", "seed", "parameter_set") if c in records.columns]
    means = records.drop(columns=ids).groupby("year", as_index=False).mean()
    means.insert(1, "replicates", records.groupby("year").size().to_numpy())
    return means


def annual_mean(results: list[RunResult]) -> dict[str, float]:
    """Each output's mean per year over all years and replicates.

    Counters are summed over all months and scaled to 12 months, so a trailing
    partial year counts for the months it has; stocks and shares are averaged with
    each year weighted by its months.
    """
    records = yearly_records(results)
    months = records["months"].to_numpy(dtype=float)
    out: dict[str, float] = {}
    ids = [c for c in ("replicate", "seed", "parameter_set", "year", "months") if c in records]
    for column in records.columns.drop(ids):
        values = records[column].to_numpy(dtype=float)
        if column in COUNTERS:
            out[column] = float(values.sum() / months.sum() * 12.0)
        else:
            out[column] = float(np.average(values, weights=months))
    return out


def corridor_flows(results: list[RunResult]) -> pd.DataFrame:
    """Cross-border flows per corridor and element, per year averaged over replicates.

    Columns: ``corridor``, ``element``, ``count``, ``volume``, ``refusals`` (per year,
    real-world units), ``mean_delay_days`` (weighted by count) and ``refusal_share``.
    """
    geo = load_geography()
    rows = []
    for result in results:
        flows = result.flows
        years = len(result.timeseries) / 12.0
        # the Bay Area's corridors only: flows to or from CN and ROW are left out
        origin = pd.Categorical(flows["origin"], categories=PLACES).codes
        destination = pd.Categorical(flows["destination"], categories=PLACES).codes
        corridor = (
            geo.place_corridor[origin, destination] if len(flows) else np.zeros(0, dtype=np.int8)
        )
        corridor = np.where(corridor < len(CORRIDORS), corridor, -1)
        frame = pd.DataFrame(
            {
                "corridor": corridor,
                "element": pd.Categorical(flows["element"], categories=ELEMENTS).codes,
                "count": flows["count"].to_numpy() / years,
                "volume": flows["volume"].to_numpy() / years,
                "refusals": flows["refusals"].to_numpy() / years,
                "delay_total": (flows["count"] * flows["mean_delay_days"]).to_numpy() / years,
            }
        )
        rows.append(frame[frame["corridor"] >= 0])
    every = pd.concat(rows, ignore_index=True)
    full = pd.MultiIndex.from_product(
        [range(len(CORRIDORS)), range(len(ELEMENTS))], names=["corridor", "element"]
    )
    sums = every.groupby(["corridor", "element"]).sum().reindex(full, fill_value=0.0) / len(results)
    out = sums.reset_index()
    out["mean_delay_days"] = np.divide(
        out["delay_total"], out["count"], out=np.zeros(len(out)), where=out["count"].to_numpy() > 0
    )
    attempts = out["count"] + out["refusals"]
    out["refusal_share"] = np.divide(
        out["refusals"], attempts, out=np.zeros(len(out)), where=attempts.to_numpy() > 0
    )
    out["corridor"] = [CORRIDORS[c] for c in out["corridor"]]
    out["element"] = [ELEMENTS[e] for e in out["element"]]
    return out[
        ["corridor", "element", "count", "volume", "mean_delay_days", "refusals", "refusal_share"]
    ]


CITY_HEADLINE: tuple[str, ...] = (
    "papers",
    "invention_patents",
    "pct_applications",
    "licences",
    "startups",
    "vc_deals",
    "commercialized",
    "researchers",
)
"""Outputs of the by-city table ``flowsim run`` prints."""


def city_table(by_city: pd.DataFrame, outputs: tuple[str, ...] = CITY_HEADLINE) -> pd.DataFrame:
    """Each city's outputs per year, summed over fields, averaged over years and replicates.

    Args:
        by_city: a by-city table (``RunResult.by_city``, or ``by_city.parquet`` with
            ``replicate``); counters are averaged per year, stocks over year ends.
        outputs: the outputs to show, in column order.

    Returns:
        One row per city (in :data:`CITIES` order), one column per output, plus a
        ``share_pct`` column: the city's share of the region's PCT applications.
    """
    frame = by_city[by_city["output"].astype(str).isin(outputs)]
    keys = ["replicate", "year"] if "replicate" in frame.columns else ["year"]
    per_year = (
        frame.groupby([*keys, "city", "output"], observed=True)["value"]
        .sum()
        .groupby(["city", "output"], observed=True)
        .mean()
        .unstack("output")
    )
    out = per_year.reindex(index=list(CITIES), columns=list(outputs)).fillna(0.0)
    out.index = out.index.astype(str)
    out.index.name = "city"
    if "pct_applications" in out.columns and out["pct_applications"].sum() > 0:
        out["pct_share"] = out["pct_applications"] / out["pct_applications"].sum()
    return out


def headline_text(results: list[RunResult]) -> str:
    """The short tables ``flowsim run`` prints: yearly outputs, then cross-border flows."""
    yearly = mean_yearly(results)[["year", "months", *HEADLINE]].copy()
    yearly = yearly.rename(
        columns={"pct_applications": "pct", "cross_border_collaboration_share": "x_border_collab"}
    )
    flows = corridor_flows(results)
    with pd.option_context("display.width", 120, "display.max_columns", 20):
        yearly_text = yearly.to_string(
            index=False,
            formatters={
                "year": "{:d}".format,
                "months": "{:.0f}".format,
                **{
                    c: "{:,.0f}".format
                    for c in yearly.columns
                    if c not in ("year", "months", "x_border_collab")
                },
                "x_border_collab": "{:.1%}".format,
            },
        )
        flows_text = flows.drop(columns=["volume"]).to_string(
            index=False,
            formatters={
                "count": "{:,.0f}".format,
                "refusals": "{:,.0f}".format,
                "mean_delay_days": "{:.1f}".format,
                "refusal_share": "{:.1%}".format,
            },
        )
        cities = city_table(stack_replicates(results, "by_city"))
        cities_text = cities.to_string(
            formatters={
                **{c: "{:,.0f}".format for c in cities.columns if c != "pct_share"},
                "pct_share": "{:.1%}".format,
            },
        )
    n = len(results)
    mean_of = f"mean of {n} replicates" if n > 1 else "1 replicate"
    return (
        f"Yearly outputs (real-world units, {mean_of}):\n{yearly_text}\n\n"
        f"Cross-border flows per year (real-world units, {mean_of}):\n{flows_text}\n\n"
        f"Outputs by city per year (all fields; papers by whole counting; {mean_of}):\n"
        f"{cities_text}\n"
    )


__all__ = [
    "CITY_HEADLINE",
    "HEADLINE",
    "annual_mean",
    "city_table",
    "corridor_flows",
    "headline_text",
    "mean_yearly",
    "yearly_records",
]
