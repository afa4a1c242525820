"""A target's model value, computed from one run.

Everything here reads a run result by output *name* — ``timeseries`` / ``yearly``
(region-wide), ``flows`` (link kinds) and, where a run has it, ``by_city`` (columns
``replicate, seed, year, city, field, output, value``; one row per year, city, field
and output) — so it works unchanged for any model that reports outputs that way.

**Yearly value of an output** (the building block):

- region-wide: the run's ``yearly`` table: a counter (see :data:`flowsim.outputs.COUNTERS`)
  summed over the year's months and scaled to 12 months when the year is partial;
  a gauge at the year's end; a share as computed for that year;
- ``jurisdiction:`` the by-city table summed over the jurisdiction's cities where the
  run has one for that output, else the run's ``<output>_<GD|HK|MO>`` column;
- ``city:`` / ``field:`` the by-city table (summed over fields, or cities, not selected;
  rows whose field is ``all``/``total``/empty are taken as the city's total);
- ``link:`` the links table: ``count`` or ``volume`` of one link kind between two ends,
  either way round (``ends: [Hong Kong, GD]``; an end may be a list of places), optionally
  of one ``field:``, per 12 months; a share's ``of: {link: ...}`` divides by other links;
- ``flow:`` the flows table: ``count``, ``volume``, ``refusals`` summed over the year
  (per 12 months), ``mean_delay_days`` weighted by count; ``origin``/``destination`` a
  city or a jurisdiction; ``cross_border`` keeps flows between (or within) jurisdictions.

**Statistics** of a target, at ``year`` (a target without a year takes the mean over
the run's years):

- ``annual``: the yearly value;
- ``growth_rate``: ``(v(year) / v(base_year)) ** (1 / (year - base_year)) - 1``;
- ``share``: the yearly value divided by that of the ``of:`` selection (same output
  unless ``of.output``);
- ``top_share``: the share of the ``top`` largest units ``across`` cities (or fields);
- ``tail_exponent``: Hill's maximum-likelihood exponent of the units' values above the
  smallest positive one, ``n / sum(ln(x / x_min))`` (a Pareto tail exponent).

A value that the run cannot give (a year outside the run, no by-city table) raises
:class:`NotEvaluable` with the reason; the reports show it as not evaluated.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from flowsim.calibration.targets import Target
from flowsim.geography import CITIES, JURISDICTIONS
from flowsim.outputs import COUNTERS

TOTAL_FIELDS = frozenset({"all", "total", ""})
"""``field`` labels of by-city rows that hold a city's total over fields."""


class NotEvaluable(ValueError):
    """The run cannot give this target's value; the message says why."""


@cache
def city_jurisdiction() -> dict[str, str]:
    """City name -> its jurisdiction code."""
    from flowsim.geography import load_geography

    geo = load_geography()
    return {c: JURISDICTIONS[int(geo.city_jurisdiction[i])] for i, c in enumerate(CITIES)}


def _in_place(cities: pd.Series, place: str | None) -> pd.Series:
    if place is None:
        return pd.Series(True, index=cities.index)
    if place in JURISDICTIONS:
        juris = city_jurisdiction()
        return cities.astype(str).map(juris) == place
    return cities.astype(str) == place


def _in_places(cities: pd.Series, places: str | list[str]) -> pd.Series:
    """Rows whose city lies in a place or in any of a list of places."""
    if isinstance(places, str):
        return _in_place(cities, places)
    inside = pd.Series(False, index=cities.index)
    for place in places:
        inside |= _in_place(cities, place)
    return inside


def _per_year(sums: pd.Series, months: pd.Series) -> pd.Series:
    return sums * 12.0 / months.reindex(sums.index)


def _months(result: Any) -> pd.Series:
    return result.yearly.set_index("year")["months"].astype(float)


def _region(result: Any, output: str) -> pd.Series:
    yearly = result.yearly.set_index("year")
    if output not in yearly:
        raise NotEvaluable(f"the run reports no output {output!r}")
    values = yearly[output].astype(float)
    if output in COUNTERS:
        values = _per_year(values, yearly["months"].astype(float))
    return values


def _by_city(result: Any) -> pd.DataFrame | None:
    table = getattr(result, "by_city", None)
    if table is None or len(table) == 0:
        return None
    return table


def _city_table(result: Any, output: str) -> pd.DataFrame:
    table = _by_city(result)
    if table is None:
        raise NotEvaluable("the run has no by-city table (RunResult.by_city)")
    rows = table[table["output"] == output]
    if rows.empty:
        raise NotEvaluable(f"the by-city table has no output {output!r}")
    return rows


def _totals_over_fields(rows: pd.DataFrame) -> pd.DataFrame:
    """Rows that are city totals if the table has them, else every field's row."""
    label = rows["field"].astype("string").fillna("").str.lower()
    total = label.isin(TOTAL_FIELDS)
    return rows[total] if total.any() else rows


def _selected(result: Any, output: str, sel: dict[str, Any]) -> pd.Series:
    """Yearly values of ``output`` for a selection of jurisdiction / city / field."""
    city, field, juris = sel.get("city"), sel.get("field"), sel.get("jurisdiction")
    if city is None and field is None and juris is None:
        return _region(result, output)
    table = _by_city(result)
    if city is None and field is None and (table is None or output not in set(table["output"])):
        name = f"{output}_{juris}"
        if name in result.yearly:
            return _region(result, name)
        raise NotEvaluable(
            f"the run has no {juris} split of {output!r} (no by-city table and no {name!r})"
        )
    rows = _city_table(result, output)
    if field is not None:
        rows = rows[rows["field"].astype(str) == field]
    else:
        rows = _totals_over_fields(rows)
    rows = rows[_in_place(rows["city"], city or juris)]
    return rows.groupby("year")["value"].sum().astype(float)


def _units(result: Any, target: Target, year: int) -> np.ndarray:
    """Values of the target's output for every city (or field) in ``year``."""
    rows = _city_table(result, target.output)
    rows = rows[rows["year"] == year]
    if target.across == "city":
        if target.field is not None:
            rows = rows[rows["field"].astype(str) == target.field]
        else:
            rows = _totals_over_fields(rows)
        rows = rows[_in_place(rows["city"], target.jurisdiction)]
        key = "city"
    else:
        label = rows["field"].astype("string").fillna("").str.lower()
        rows = rows[~label.isin(TOTAL_FIELDS)]
        rows = rows[_in_place(rows["city"], target.city or target.jurisdiction)]
        key = "field"
    if rows.empty:
        raise NotEvaluable(f"no {target.across} values of {target.output!r} in {year}")
    return rows.groupby(key)["value"].sum().to_numpy(dtype=np.float64)


def _flows(result: Any, target: Target) -> pd.Series:
    flows = result.flows
    sel = target.flow
    assert sel is not None
    start = int(result.yearly["year"].min()) if len(result.yearly) else 0
    first_step = int(result.timeseries["step"].min()) if len(result.timeseries) else 0
    f = flows[flows["element"].astype(str) == sel.element]
    f = f[_in_place(f["origin"], sel.origin) & _in_place(f["destination"], sel.destination)]
    if sel.cross_border is not None:
        juris = city_jurisdiction()
        crosses = f["origin"].astype(str).map(juris) != f["destination"].astype(str).map(juris)
        f = f[crosses == sel.cross_border]
    year = start + (f["step"].astype(int) - first_step) // 12
    months = _months(result)
    if target.output == "mean_delay_days":
        weighted = (f["mean_delay_days"] * f["count"]).groupby(year).sum()
        counts = f["count"].groupby(year).sum()
        out = (weighted / counts.where(counts > 0)).reindex(months.index)
        return out.astype(float)
    sums = f[target.output].groupby(year).sum().reindex(months.index, fill_value=0.0)
    return _per_year(sums.astype(float), months)


def _links(result: Any, target: Target) -> pd.Series:
    """Links of the target's kind between its two ends (either way round), per year."""
    sel = target.link
    assert sel is not None
    links = getattr(result, "links", None)
    months = _months(result)
    if links is None:
        raise NotEvaluable("the run has no links table (RunResult.links)")
    rows = links[links["kind"].astype(str) == sel.kind]
    if target.field is not None:
        rows = rows[rows["field"].astype(str) == target.field]
    a, b = sel.ends
    forward = _in_places(rows["origin"], a) & _in_places(rows["destination"], b)
    backward = _in_places(rows["origin"], b) & _in_places(rows["destination"], a)
    rows = rows[forward | backward]
    sums = rows.groupby("year")[target.output].sum().reindex(months.index, fill_value=0.0)
    return _per_year(sums.astype(float), months)


def yearly_series(result: Any, target: Target) -> pd.Series:
    """The target's output per simulated year (before its statistic)."""
    if target.link is not None:
        return _links(result, target)
    if target.flow is not None:
        return _flows(result, target)
    sel = {"jurisdiction": target.jurisdiction, "city": target.city, "field": target.field}
    return _selected(result, target.output, sel)


def _at(series: pd.Series, year: int | None, what: str) -> float:
    if year is None:
        values = series.dropna()
        if values.empty:
            raise NotEvaluable(f"{what}: no simulated year has a value")
        return float(values.mean())
    if year not in series.index or pd.isna(series.loc[year]):
        years = sorted(int(y) for y in series.index)
        span = f"{years[0]}-{years[-1]}" if years else "none"
        raise NotEvaluable(f"{what}: year {year} is not simulated (the run covers {span})")
    return float(series.loc[year])


def _distribution(target: Target, units: np.ndarray) -> float:
    """``top_share`` or ``tail_exponent`` of the units' values."""
    if target.statistic == "top_share":
        total = units.sum()
        if total <= 0:
            raise NotEvaluable(f"{target.output!r} is zero in every {target.across}")
        return float(np.sort(units)[::-1][: target.top].sum() / total)
    positive = units[units > 0]
    if positive.size < 3:
        raise NotEvaluable(f"fewer than 3 {target.across}s with a positive value")
    logs = np.log(positive / positive.min())
    if logs.sum() <= 0:
        raise NotEvaluable("every unit has the same value: no tail")
    return float(positive.size / logs.sum())


def model_value(target: Target, result: Any) -> float:
    """The model's value of ``target`` in one run (see the module doc for each statistic).

    Raises:
        NotEvaluable: the run does not have what the target needs.
    """
    if not target.reported:
        raise NotEvaluable(f"the model cannot report it yet: {target.model_output_note}")
    stat = target.statistic
    if stat in ("top_share", "tail_exponent"):
        if target.year is not None:
            return _distribution(target, _units(result, target, target.year))
        years = [int(y) for y in result.yearly["year"]]
        return float(np.mean([_distribution(target, _units(result, target, y)) for y in years]))
    series = yearly_series(result, target)
    if stat == "annual":
        return _at(series, target.year, target.id)
    if stat == "growth_rate":
        late = _at(series, target.year, target.id)
        early = _at(series, target.base_year, target.id)
        if early <= 0:
            raise NotEvaluable(f"{target.id}: the base year's value is {early}, not positive")
        return float((late / early) ** (1.0 / (target.year - target.base_year)) - 1.0)
    # share
    of = target.of
    assert of is not None
    if of.link is not None:
        whole = _links(result, target.model_copy(update={"link": of.link}))
    else:
        whole = _selected(
            result,
            of.output or target.output,
            {"jurisdiction": of.jurisdiction, "city": of.city, "field": of.field},
        )
    part = _at(series, target.year, target.id)
    total = _at(whole, target.year, f"{target.id} (of)")
    if total == 0:
        raise NotEvaluable(f"{target.id}: the whole is zero")
    return float(part / total)


def model_values(targets: list[Target], result: Any) -> tuple[dict[str, float], dict[str, str]]:
    """Every target's value in one run: (values, reasons for those not evaluable, as NaN)."""
    values: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for t in targets:
        try:
            values[t.id] = model_value(t, result)
        except NotEvaluable as exc:
            values[t.id] = float("nan")
            reasons[t.id] = str(exc)
        except (KeyError, ValueError, TypeError, ZeroDivisionError) as exc:
            # one target's failure must not lose the run's other values; the report shows it
            values[t.id] = float("nan")
            reasons[t.id] = f"error: {type(exc).__name__}: {exc}"
    return values, reasons


def distance(target: Target, value: float) -> float:
    """Signed distance of a model value from the real one, in tolerance bands.

    ``(model - real) / band`` with ``band = tolerance * |real|`` or ``2 * sd``: within
    tolerance exactly when its absolute value is at most 1.
    """
    return (value - target.value) / target.band


def objective(targets: list[Target], means: dict[str, float]) -> float:
    """The weighted distance minimised by ``flowsim calibrate``.

    ``sum_i w_i * d_i ** 2 / sum_i w_i`` over the calibration targets, with ``d_i``
    the :func:`distance` of the replicate mean of target ``i``. A target the run
    cannot evaluate counts as ``d = 10`` (ten bands off), so a parameter set that
    breaks an output is never preferred.
    """
    total = weights = 0.0
    for t in targets:
        d = distance(t, means[t.id]) if np.isfinite(means.get(t.id, np.nan)) else 10.0
        total += t.weight * min(d * d, 1e6)
        weights += t.weight
    return total / weights


__all__ = [
    "NotEvaluable",
    "city_jurisdiction",
    "distance",
    "model_value",
    "model_values",
    "objective",
    "yearly_series",
]
