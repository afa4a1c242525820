"""Flows summed by border corridor, element and city pair: what the map and heat map draw."""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.geography import CITIES, CORRIDORS, DOMESTIC, ELEMENTS, PLACES, load_geography

MEASURES: tuple[str, ...] = ("crossings", "mean_delay_days", "refusals")
"""What the corridor heat map shows: crossings per year, their mean delay, refusals per year."""


def _replicates(flows: pd.DataFrame) -> int:
    return int(flows["replicate"].nunique()) if "replicate" in flows.columns and len(flows) else 1


def with_corridor(flows: pd.DataFrame) -> pd.DataFrame:
    """``flows`` with a ``corridor`` column: the border a flow crosses, or None."""
    geo = load_geography()
    index = {place: i for i, place in enumerate(PLACES)}
    origin = flows["origin"].astype(str).map(index).to_numpy(dtype=np.int64)
    destination = flows["destination"].astype(str).map(index).to_numpy(dtype=np.int64)
    number = geo.place_corridor[origin, destination]
    # the Bay Area's corridors only: flows to or from CN and ROW have none here
    number = np.where(number < len(CORRIDORS), number, DOMESTIC)
    names = np.array([*CORRIDORS, None], dtype=object)
    out = flows.copy()
    out["corridor"] = names[np.where(number == DOMESTIC, len(CORRIDORS), number)]
    return out


def corridor_element_table(flows: pd.DataFrame, months: int) -> pd.DataFrame:
    """Cross-border flows per corridor x element, averaged over replicates, per year.

    Args:
        flows: a run's flows (rows per replicate, step, element, origin, destination).
        months: recorded months of each replicate (turns totals into yearly rates).

    Returns:
        One row per corridor and element (all 12, in the order of :data:`CORRIDORS` and
        :data:`ELEMENTS`): ``crossings`` (approved, per year), ``mean_delay_days`` (over
        approved crossings; NaN where there were none) and ``refusals`` (per year).
    """
    marked = with_corridor(flows)
    crossing = marked[marked["corridor"].notna()].copy()
    crossing["element"] = crossing["element"].astype(str)
    crossing["delay_total"] = crossing["mean_delay_days"] * crossing["count"]
    sums = crossing.groupby(["corridor", "element"])[["count", "delay_total", "refusals"]].sum()
    full = pd.MultiIndex.from_product([CORRIDORS, ELEMENTS], names=["corridor", "element"])
    sums = sums.reindex(full, fill_value=0.0)
    per_year = 12.0 / (months * _replicates(flows))
    table = pd.DataFrame(
        {
            "crossings": sums["count"] * per_year,
            "mean_delay_days": (sums["delay_total"] / sums["count"]).where(sums["count"] > 0),
            "refusals": sums["refusals"] * per_year,
        },
        index=full,
    )
    return table.reset_index()


def city_pair_volumes(flows: pd.DataFrame, months: int, element: str) -> pd.DataFrame:
    """Cross-border volume of one element per ordered city pair, per year, averaged over replicates.

    Returns:
        Columns ``origin``, ``destination``, ``volume`` (only pairs with volume > 0),
        largest first.
    """
    marked = with_corridor(flows)
    chosen = marked[(marked["element"].astype(str) == element) & marked["corridor"].notna()]
    pairs = chosen.groupby([chosen["origin"].astype(str), chosen["destination"].astype(str)])[
        "volume"
    ].sum()
    pairs = pairs[pairs > 0] * 12.0 / (months * _replicates(flows))
    return (
        pairs.rename("volume")
        .reset_index()
        .sort_values("volume", ascending=False, ignore_index=True)
    )


CITY_MEASURES: tuple[str, ...] = (
    "cross_border_inflow",
    "cross_border_outflow",
    "inflow",
    "outflow",
    "net_inflow",
    "refusals",
)
"""Per-city measures a map can colour cities by: ``cross_border_*`` counts only flows that
cross a border (what the map's arrows draw); the others every flow of the element,
domestic included."""


def city_measure(flows: pd.DataFrame, months: int, element: str, measure: str) -> np.ndarray:
    """One value per city (order of :data:`CITIES`): the element's volume in, out, net in, refusals.

    Values are per year, averaged over replicates; ``refusals`` counts refused flows
    whose destination is the city; ``cross_border_inflow`` / ``cross_border_outflow``
    count only flows between cities of different jurisdictions.
    """
    if measure not in CITY_MEASURES:
        raise ValueError(
            f"cannot colour cities by {measure!r}; use one of {', '.join(CITY_MEASURES)}"
        )
    chosen = flows[flows["element"].astype(str) == element]
    per_year = 12.0 / (months * _replicates(flows))
    if measure.startswith("cross_border_"):
        marked = with_corridor(chosen)
        chosen = marked[marked["corridor"].notna()]
        measure = measure.removeprefix("cross_border_")

    def total(column: str, by: str) -> np.ndarray:
        sums = chosen.groupby(chosen[by].astype(str))[column].sum()
        return sums.reindex(list(CITIES), fill_value=0.0).to_numpy(dtype=np.float64) * per_year

    if measure == "inflow":
        return total("volume", "destination")
    if measure == "outflow":
        return total("volume", "origin")
    if measure == "net_inflow":
        return total("volume", "destination") - total("volume", "origin")
    return total("refusals", "destination")
