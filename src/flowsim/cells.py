"""Effects by city, field and corridor: many cells, each with an interval, under one FDR.

:func:`flowsim.compare.compare` compares region-wide outputs. Here every scenario is
compared with the reference cell by cell:

- **city x field x output** from the run folders' ``by_city.parquet``: per replicate,
  counted outputs as a yearly rate over the whole run (sum / months x 12), stocks as
  the mean of their year-end values (the same summary as :func:`flowsim.compare.whole_run`);
- **corridor x element x measure** from ``flows.parquet``: cross-border ``count``,
  ``volume`` and ``refusals`` per year on each of the three corridors.

Each cell's effect is the mean over replicates of the paired difference (scenario
minus reference, replicate k against replicate k: both ran the same seeds), with its
95% t interval and the p-value of the paired t-test: the numbers
:func:`scipy.stats.ttest_rel` gives, computed for all cells at once. Where the
replicates do not share seeds the test is Welch's. A cell with no activity in either
scenario in any replicate (a field a city does not have) is not a test: it is
dropped. A cell that differs by the same amount in every replicate is exact (its
interval has width 0; p = 0, or 1 when the difference is 0).

**Many cells.** With hundreds of cells, about 5% of cells where nothing happens
look "significant" at p < 0.05 by chance. ``p_adjusted`` controls the false discovery
rate over all the cells of one table and scenario (Benjamini–Hochberg,
:func:`scipy.stats.false_discovery_control`): among the cells with ``p_adjusted <
0.05`` (``significant``), at most 5% are expected to be false discoveries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, PLACES, load_geography
from flowsim.outputs import unit_of
from flowsim.tally import BY_CITY_COUNTERS, BY_CITY_OUTPUTS

FDR = 0.05
"""False discovery rate under which a cell is called significant."""

FDR_METHOD = "Benjamini-Hochberg"
"""The multiple-comparison control applied over the cells of a table, as named in output."""

CONFIDENCE = 0.95
"""Level of every interval."""

IDS: tuple[str, ...] = ("seed", "parameter_set")
"""Columns that identify a replicate across scenarios (what pairs replicates)."""

CORRIDOR_MEASURES: dict[str, str] = {
    "count": "crossings",
    "volume": "volume",
    "refusals": "refusals",
}
"""Measures of a corridor's flows compared, and what they count."""

CELL_COLUMNS: tuple[str, ...] = (
    "replicates",
    "reference_mean",
    "mean",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "diff_pct",
    "p_value",
    "p_adjusted",
    "significant",
    "test",
)
"""Statistics columns of every cell table, after the cell's keys."""


@dataclass
class RunTables:
    """What the cell comparisons read from one scenario's run.

    Attributes:
        name: the scenario's label.
        by_city: ``by_city.parquet`` (``replicate``, ``seed``, ``year``, ``city``, ``field``,
            ``output``, ``value``).
        flows: ``flows.parquet``.
        months_by_year: months simulated in each year.
    """

    name: str
    by_city: pd.DataFrame
    flows: pd.DataFrame
    months_by_year: dict[int, int]


def read_tables(name: str, source: str | Path | Sequence[Any]) -> RunTables:
    """A scenario's tables from a run folder (checked against its manifest) or RunResults."""
    if isinstance(source, (str, Path)):
        from flowsim.folders import FolderError
        from flowsim.results import read_run

        try:
            folder = read_run(source)
        except FolderError as err:
            raise ValueError(str(err)) from None
        by_city, flows = folder.by_city, folder.flows
        yearly = pd.DataFrame.from_records(folder.summary.get("yearly", []))
    else:
        from flowsim.run import stack_replicates

        results = list(source)
        by_city = stack_replicates(results, "by_city")
        flows = stack_replicates(results, "flows")
        yearly = stack_replicates(results, "yearly")
    months = {int(y): int(m) for y, m in yearly.groupby("year")["months"].first().items()}
    return RunTables(name, by_city, flows, months)


def _ids(frame: pd.DataFrame) -> list[str]:
    return [c for c in IDS if c in frame.columns] or ["replicate"]


def city_field_values(tables: RunTables, outputs: Sequence[str]) -> pd.DataFrame:
    """Per replicate, city, field and output, the whole-run value.

    Counted outputs are a yearly rate (sum over the run / months x 12), stocks the mean
    of the year-end values. Columns: the replicate ids, ``city``, ``field``, ``output``,
    ``value``.
    """
    frame = tables.by_city
    frame = frame[frame["output"].astype(str).isin(outputs)]
    ids = _ids(frame)
    total_months = sum(tables.months_by_year.values())
    years = len(tables.months_by_year)
    keys = [*ids, "city", "field", "output"]
    summed = frame.groupby(keys, observed=True)["value"].sum().reset_index()
    for column in ("city", "field", "output"):
        summed[column] = summed[column].astype(str)
    counter = summed["output"].isin(BY_CITY_COUNTERS)
    summed["value"] = np.where(
        counter, summed["value"] / total_months * 12.0, summed["value"] / years
    )
    return summed


def corridor_values(tables: RunTables) -> pd.DataFrame:
    """Per replicate, corridor, element and measure, the cross-border flow per year."""
    flows = tables.flows
    ids = _ids(flows)
    geo = load_geography()
    # flows to or from CN and ROW cross external corridors: not the Bay Area's (docs/open_region.md)
    origin = pd.Categorical(flows["origin"].astype(str), categories=PLACES).codes
    destination = pd.Categorical(flows["destination"].astype(str), categories=PLACES).codes
    corridor = geo.place_corridor[origin, destination] if len(flows) else np.zeros(0, dtype=np.int8)
    corridor = np.where(corridor < len(CORRIDORS), corridor, -1)
    per_year = 12.0 / sum(tables.months_by_year.values())
    frame = flows[ids].copy()
    frame["corridor"] = corridor
    frame["element"] = flows["element"].astype(str).to_numpy()
    for measure in CORRIDOR_MEASURES:
        frame[measure] = flows[measure].to_numpy(dtype=np.float64) * per_year
    frame = frame[frame["corridor"] >= 0]
    summed = frame.groupby([*ids, "corridor", "element"])[list(CORRIDOR_MEASURES)].sum()
    long = summed.reset_index().melt(
        id_vars=[*ids, "corridor", "element"], var_name="measure", value_name="value"
    )
    long["corridor"] = [CORRIDORS[c] for c in long["corridor"]]
    # a talent, data or samples crossing is one unit of volume: volume repeats count there
    return long[(long["measure"] != "volume") | (long["element"] == "capital")]


def _replicate_key(frame: pd.DataFrame, ids: list[str]) -> pd.Series:
    """One label per replicate from its id columns (``seed``, or ``parameter_set/seed``)."""
    key = frame[ids[0]].astype(str)
    for column in ids[1:]:
        key = key + "/" + frame[column].astype(str)
    return key


def _matrix(values: pd.DataFrame, keys: list[str], replicates: pd.Index) -> pd.DataFrame:
    """Cells x replicates table of ``value`` (0 where a replicate has no row for a cell)."""
    wide = values.pivot_table(index=keys, columns="rep", values="value", aggfunc="sum")
    return wide.reindex(columns=replicates, fill_value=0.0).fillna(0.0)


def paired_cells(
    reference: pd.DataFrame, scenario: pd.DataFrame, keys: Sequence[str]
) -> pd.DataFrame:
    """Each cell's effect ``scenario - reference`` over replicates, with interval and p-value.

    Args:
        reference: per replicate and cell, ``value`` (columns: replicate ids, ``keys``).
        scenario: the same for the scenario compared.
        keys: the columns naming a cell (``city``, ``field``, ``output``...).

    Returns:
        One row per cell active in either scenario: ``keys`` then :data:`CELL_COLUMNS`
        (``p_adjusted`` and ``significant`` are filled by :func:`adjust`).
    """
    keys = list(keys)
    ids = _ids(reference)
    reference = reference.assign(rep=_replicate_key(reference, ids))
    scenario = scenario.assign(rep=_replicate_key(scenario, _ids(scenario)))
    ref_reps = pd.Index(reference["rep"].unique())
    scen_reps = pd.Index(scenario["rep"].unique())
    paired = (
        ids != ["replicate"]
        and _ids(scenario) == ids
        and len(ref_reps) == len(scen_reps)
        and set(ref_reps) == set(scen_reps)
    )
    if paired:
        scen_reps = ref_reps
    a = _matrix(reference, keys, ref_reps)
    b = _matrix(scenario, keys, scen_reps)
    cells = a.index.union(b.index)
    a = a.reindex(cells, fill_value=0.0).to_numpy(dtype=np.float64)
    b = b.reindex(cells, fill_value=0.0).to_numpy(dtype=np.float64)
    active = (np.abs(a).sum(axis=1) > 0) | (np.abs(b).sum(axis=1) > 0)
    a, b, cells = a[active], b[active], cells[active]
    out = pd.DataFrame(list(cells), columns=keys) if len(cells) else pd.DataFrame(columns=keys)
    ref_mean = a.mean(axis=1) if a.shape[1] else np.full(len(a), np.nan)
    mean = b.mean(axis=1) if b.shape[1] else np.full(len(b), np.nan)
    if paired:
        diff, low, high, p_value = _paired(b - a)
        test = "paired"
    else:
        diff, low, high, p_value = _welch(b, a)
        test = "welch"
    out["replicates"] = min(a.shape[1], b.shape[1])
    out["reference_mean"] = ref_mean
    out["mean"] = mean
    out["diff"] = diff
    out["diff_ci_low"] = low
    out["diff_ci_high"] = high
    with np.errstate(divide="ignore", invalid="ignore"):
        out["diff_pct"] = np.where(ref_mean != 0, 100.0 * diff / ref_mean, np.nan)
    out["p_value"] = p_value
    out["p_adjusted"] = np.nan
    out["significant"] = False
    out["test"] = test
    return out


def _paired(d: np.ndarray) -> tuple[np.ndarray, ...]:
    """Mean, t interval and two-sided p-value of each row of differences (ttest_rel's)."""
    n = d.shape[1]
    diff = d.mean(axis=1) if n else np.full(len(d), np.nan)
    if n < 2:
        nan = np.full(len(d), np.nan)
        return diff, nan, nan, nan
    sd = d.std(axis=1, ddof=1)
    se = sd / np.sqrt(n)
    crit = stats.t.ppf(0.5 + CONFIDENCE / 2.0, n - 1)
    constant = np.ptp(d, axis=1) == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / se
    p = 2.0 * stats.t.sf(np.abs(t), n - 1)
    p = np.where(constant, np.where(diff == 0.0, 1.0, 0.0), p)
    half = np.where(constant, 0.0, crit * se)
    return diff, diff - half, diff + half, p


def _welch(b: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, ...]:
    """Difference of means ``b - a`` per row, Welch's interval and p-value (ttest_ind's)."""
    nb, na = b.shape[1], a.shape[1]
    diff = b.mean(axis=1) - a.mean(axis=1)
    if nb < 2 or na < 2:
        nan = np.full(len(b), np.nan)
        return diff, nan, nan, nan
    vb, va = b.var(axis=1, ddof=1) / nb, a.var(axis=1, ddof=1) / na
    se = np.sqrt(vb + va)
    constant = se == 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (vb + va) ** 2 / (vb**2 / (nb - 1) + va**2 / (na - 1))
        t = diff / se
    df = np.where(constant, nb + na - 2, df)
    p = np.where(constant, np.where(diff == 0.0, 1.0, 0.0), 2.0 * stats.t.sf(np.abs(t), df))
    half = np.where(constant, 0.0, stats.t.ppf(0.5 + CONFIDENCE / 2.0, df) * se)
    return diff, diff - half, diff + half, p


def adjust(table: pd.DataFrame, by: Sequence[str] = ("scenario",)) -> pd.DataFrame:
    """Fill ``p_adjusted`` (Benjamini–Hochberg within each group of ``by``) and ``significant``."""
    from flowsim.compare import adjust_p_values

    table = table.copy()
    for _, group in table.groupby(list(by), sort=False) if len(table) else ():
        table.loc[group.index, "p_adjusted"] = adjust_p_values(group["p_value"])
    table["significant"] = table["p_adjusted"].lt(FDR).fillna(False).astype(bool)
    return table


def compare_cells(
    tables: Sequence[RunTables], outputs: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """City x field x output and corridor x element x measure effects of every scenario.

    Args:
        tables: each scenario's tables, the reference first.
        outputs: by-city outputs to compare (others are left out).

    Returns:
        ``(by_city_field, corridors)``: tidy tables with ``scenario``, ``reference``, the
        cell's keys, ``unit`` and :data:`CELL_COLUMNS`; the false discovery rate is
        controlled over each table's cells of one scenario.
    """
    chosen = [o for o in outputs if o in BY_CITY_OUTPUTS]
    reference = tables[0]
    ref_cells = city_field_values(reference, chosen)
    ref_flows = corridor_values(reference)
    cities, corridors = [], []
    for scenario in tables[1:]:
        head = {"scenario": scenario.name, "reference": reference.name}
        if chosen:
            cells = paired_cells(
                ref_cells, city_field_values(scenario, chosen), ["city", "field", "output"]
            )
        else:  # no output of the by-city table was asked for
            cells = pd.DataFrame(columns=["city", "field", "output", *CELL_COLUMNS])
        cells.insert(0, "reference", reference.name)
        cells.insert(0, "scenario", scenario.name)
        cells.insert(
            5,
            "unit",
            [unit_of(o) + (" / year" if o in BY_CITY_COUNTERS else "") for o in cells["output"]],
        )
        cities.append(_in_order(cells, chosen))
        flows = paired_cells(
            ref_flows, corridor_values(scenario), ["corridor", "element", "measure"]
        )
        for column, value in reversed(head.items()):
            flows.insert(0, column, value)
        flows.insert(
            5,
            "unit",
            [_flow_unit(e, m) for e, m in zip(flows["element"], flows["measure"], strict=True)],
        )
        corridors.append(flows)
    empty = pd.DataFrame()
    by_city = adjust(pd.concat(cities, ignore_index=True)) if cities else empty
    by_corridor = adjust(pd.concat(corridors, ignore_index=True)) if corridors else empty
    return by_city, by_corridor


def margins(
    tables: Sequence[RunTables], outputs: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each city's effect over all fields, and each field's over all cities.

    The same per-replicate values as :func:`compare_cells`, summed over fields (by
    city) or over cities (by field) before the paired comparison; Benjamini–Hochberg
    over the cells of each table and scenario. Papers use whole counting, so a
    field's papers summed over cities count a paper co-authored between two cities
    twice.

    Returns:
        ``(by_city, by_field)``: ``scenario``, ``reference``, ``city`` or ``field``,
        ``output``, ``unit`` and :data:`CELL_COLUMNS`.
    """
    chosen = [o for o in outputs if o in BY_CITY_OUTPUTS]
    out: dict[str, list[pd.DataFrame]] = {"city": [], "field": []}
    if not chosen or len(tables) < 2:
        return pd.DataFrame(), pd.DataFrame()
    values = [city_field_values(t, chosen) for t in tables]
    for key in out:
        summed = [
            v.groupby([*_ids(v), key, "output"], observed=True)["value"].sum().reset_index()
            for v in values
        ]
        for scenario, frame in zip(tables[1:], summed[1:], strict=True):
            cells = paired_cells(summed[0], frame, [key, "output"])
            cells.insert(0, "reference", tables[0].name)
            cells.insert(0, "scenario", scenario.name)
            cells.insert(
                4,
                "unit",
                [
                    unit_of(o) + (" / year" if o in BY_CITY_COUNTERS else "")
                    for o in cells["output"]
                ],
            )
            out[key].append(_in_order(cells, chosen))
    return (
        adjust(pd.concat(out["city"], ignore_index=True)),
        adjust(pd.concat(out["field"], ignore_index=True)),
    )


def _in_order(cells: pd.DataFrame, outputs: Sequence[str]) -> pd.DataFrame:
    """Cells sorted by output (as asked), city (west to east as listed), field."""
    from flowsim.geography import FIELDS
    from flowsim.tally import BY_CITY_FIELDS

    order = {
        "output": {o: i for i, o in enumerate(outputs)},
        "city": {c: i for i, c in enumerate(CITIES)},
        "field": {f: i for i, f in enumerate(BY_CITY_FIELDS or FIELDS)},
    }
    keys = [cells[c].map(order[c]) for c in ("output", "city", "field") if c in cells.columns]
    index = np.lexsort([k.to_numpy() for k in reversed(keys)]) if len(cells) else []
    return cells.iloc[index].reset_index(drop=True)


def _flow_unit(element: str, measure: str) -> str:
    """Unit of a corridor measure per year."""
    from flowsim.plots.labels import ELEMENT_UNITS

    if measure == "volume":
        return f"{ELEMENT_UNITS.get(element, 'units')} / year"
    return f"{CORRIDOR_MEASURES[measure]} / year"


def tables_of(sources: Mapping[str, Any]) -> list[RunTables]:
    """:func:`read_tables` of every scenario, in order."""
    return [read_tables(name, source) for name, source in sources.items()]


__all__ = [
    "CELL_COLUMNS",
    "ELEMENTS",
    "FDR",
    "FDR_METHOD",
    "RunTables",
    "adjust",
    "city_field_values",
    "compare_cells",
    "corridor_values",
    "margins",
    "paired_cells",
    "read_tables",
    "tables_of",
]
