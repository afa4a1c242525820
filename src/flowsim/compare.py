"""Compare scenarios: yearly outputs, and each scenario's difference from the first.

Every scenario is summarised per year from its replicates: the mean and its 95%
confidence interval (Student t). The first scenario is the reference (usually the
baseline); for every other one the difference of means, its 95% confidence
interval and p-value come from a paired t-test when both scenarios ran the same
replicate seeds (common random numbers: replicate k of each scenario shares its
random draws, so the per-replicate differences carry far less noise), and from
Welch's t-test otherwise (no equal variances or equal numbers of replicates
assumed). Column ``test`` says which. Scenarios must cover the same years.

The period ``"all"`` summarises the whole run per replicate: counted outputs as a
yearly rate (sum / months x 12, so a trailing partial year does not bias it), stocks
and shares as the mean over years.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.folders import read_run_folder
from flowsim.outputs import COUNTERS, unit_of
from flowsim.run import stack_replicates
from flowsim.sidecar import write_provenance

DEFAULT_OUTPUTS: tuple[str, ...] = (
    "papers",
    "invention_patents",
    "pct_applications",
    "licences",
    "spinoffs",
    "startups",
    "vc_deals",
    "vc_volume",
    "commercialized",
    "commercialized_value",
    "cross_border_collaboration_share",
    "gii_cluster_score",
)
"""Outputs compared when none are asked for."""

CONFIDENCE = 0.95
"""Level of every confidence interval."""

ALL_YEARS = "all"
"""Period label of the whole-run summary."""

COLUMNS: tuple[str, ...] = (
    "scenario",
    "period",
    "output",
    "unit",
    "replicates",
    "mean",
    "ci_low",
    "ci_high",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "diff_pct",
    "p_value",
    "test",
)
"""Columns of the comparison table, in order."""

Source = str | Path | pd.DataFrame | Sequence[Any]
"""A scenario's results: a run folder, a yearly frame with ``replicate``, or a list of RunResult."""


def yearly_by_replicate(source: Source) -> pd.DataFrame:
    """One row per replicate and year (``replicate``, ``year``, ``months``, outputs).

    Args:
        source: a run folder path; a DataFrame of yearly rows with a ``replicate`` column
            (like ``summary.json``'s ``yearly``); or a list of :class:`flowsim.RunResult`.
    """
    if isinstance(source, (str, Path)):
        frame = read_run_folder(source).yearly
    elif isinstance(source, pd.DataFrame):
        frame = source.copy()
    else:
        if not list(source):
            raise ValueError("a scenario has no replicates to compare")
        frame = stack_replicates(list(source), "yearly")
    if "replicate" not in frame.columns:
        frame.insert(0, "replicate", 0)
    missing = [c for c in ("year", "months") if c not in frame.columns]
    if missing:
        raise ValueError(
            f"yearly results lack column(s) {missing}; they must come from flowsim.run"
        )
    return frame


def whole_run(yearly: pd.DataFrame, outputs: Sequence[str]) -> pd.DataFrame:
    """Per replicate, each output over the whole run: counters per year, others averaged."""
    grouped = yearly.groupby("replicate")
    months = grouped["months"].sum()
    out = pd.DataFrame(index=months.index)
    if "seed" in yearly.columns:
        out["seed"] = grouped["seed"].first()
    for output in outputs:
        if output in COUNTERS:
            out[output] = grouped[output].sum() / months * 12.0
        else:
            out[output] = grouped[output].mean()
    return out.reset_index()


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and its two-sided Student-t confidence interval (NaN bounds for fewer than 2 values)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if values.size else float("nan")
    if values.size < 2:
        return mean, float("nan"), float("nan")
    half = (
        stats.t.ppf(0.5 + CONFIDENCE / 2, values.size - 1)
        * values.std(ddof=1)
        / np.sqrt(values.size)
    )
    return mean, mean - half, mean + half


def welch_difference(
    values: np.ndarray, reference: np.ndarray
) -> tuple[float, float, float, float]:
    """Difference of means ``values - reference``, its Welch confidence interval and p-value.

    With fewer than 2 values on either side the interval and p-value are NaN; when both
    sides have no spread the difference is exact (interval of width 0; p = 1 if it is 0, else 0).
    """
    a = np.asarray(values, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    diff = float(a.mean() - b.mean()) if a.size and b.size else float("nan")
    if a.size < 2 or b.size < 2:
        return diff, float("nan"), float("nan"), float("nan")
    var_a, var_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = np.sqrt(var_a + var_b)
    if se == 0.0:
        return diff, diff, diff, 1.0 if diff == 0.0 else 0.0
    dof = (var_a + var_b) ** 2 / (var_a**2 / (a.size - 1) + var_b**2 / (b.size - 1))
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, dof) * se
    p_value = 2.0 * stats.t.sf(abs(diff) / se, dof)
    return diff, diff - half, diff + half, float(p_value)


def paired_difference(
    values: np.ndarray, reference: np.ndarray
) -> tuple[float, float, float, float]:
    """Mean of the per-replicate differences ``values - reference``, its t interval and p-value.

    For replicates that share their seeds pairwise (common random numbers). With fewer
    than 2 pairs the interval and p-value are NaN; with no spread in the differences
    the difference is exact (interval of width 0; p = 1 if it is 0, else 0).
    """
    d = np.asarray(values, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    diff = float(d.mean()) if d.size else float("nan")
    if d.size < 2:
        return diff, float("nan"), float("nan"), float("nan")
    se = d.std(ddof=1) / np.sqrt(d.size)
    if se == 0.0:
        return diff, diff, diff, 1.0 if diff == 0.0 else 0.0
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, d.size - 1) * se
    p_value = 2.0 * stats.t.sf(abs(diff) / se, d.size - 1)
    return diff, diff - half, diff + half, float(p_value)


def _same_seeds(frame: pd.DataFrame, reference: pd.DataFrame) -> bool:
    """Whether two period frames hold the same replicate seeds in the same order."""
    if "seed" not in frame.columns or "seed" not in reference.columns:
        return False
    a, b = frame["seed"].to_numpy(), reference["seed"].to_numpy()
    return a.size == b.size and a.size > 0 and bool((a == b).all())


def _check_same_periods(yearly: Mapping[str, pd.DataFrame], reference: str) -> None:
    """Refuse to compare scenarios that cover different years or months."""

    def months_by_year(frame: pd.DataFrame) -> dict[int, int]:
        return {int(y): int(m) for y, m in frame.groupby("year")["months"].first().items()}

    expected = months_by_year(yearly[reference])
    for name, frame in yearly.items():
        got = months_by_year(frame)
        if got != expected:
            raise ValueError(
                f"scenario {name!r} covers {_describe(got)}, the reference {reference!r} "
                f"{_describe(expected)}: run them with the same steps and start year"
            )


def _describe(months_by_year: dict[int, int]) -> str:
    return ", ".join(f"{year} ({months} months)" for year, months in months_by_year.items())


def _scenario_names(sources: Sequence[Source] | Mapping[str, Source]) -> list[tuple[str, Source]]:
    """Each scenario's name and its results; run folders are read once, here."""
    if isinstance(sources, Mapping):
        return [(str(name), source) for name, source in sources.items()]
    if isinstance(sources, (str, Path)):
        raise TypeError("give a list of run folders, not a single folder")
    folders = []
    for source in sources:
        if not isinstance(source, (str, Path)):
            raise TypeError("give run folders, or a mapping of scenario name -> results")
        folders.append(read_run_folder(source))
    names = [folder.name for folder in folders]
    # Two folders of one scenario (e.g. two seeds) stay apart under their folder names,
    # and the same folder given twice under a number.
    labels = [f"{f.name} ({f.path.name})" if names.count(f.name) > 1 else f.name for f in folders]
    unique = [
        label if labels[:k].count(label) == 0 else f"{label} #{labels[:k].count(label) + 1}"
        for k, label in enumerate(labels)
    ]
    return [(label, folder.yearly) for label, folder in zip(unique, folders, strict=True)]


def compare(
    sources: Sequence[Source] | Mapping[str, Source],
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
    *,
    out: str | Path | None = None,
    force: bool = False,
) -> pd.DataFrame:
    """Yearly outputs per scenario and each scenario's difference from the first.

    Args:
        sources: run folders (the first is the reference), or a mapping of scenario name to
            results (a run folder, a yearly frame with ``replicate``, or a list of RunResult).
        outputs: the outputs to compare.
        out: write the table there as CSV too.
        force: replace ``out`` if it exists.

    Returns:
        A tidy table with :data:`COLUMNS`: one row per scenario, period (each year, then
        ``"all"``) and output. ``diff`` columns are NaN for the reference itself.

    Raises:
        FileExistsError: ``out`` exists and ``force`` is false.
        ValueError: fewer than two scenarios, or an unknown output.
    """
    named = _scenario_names(sources)
    if len(named) < 2:
        raise ValueError(
            "compare needs at least two scenarios: the reference first, then the others"
        )
    if out is not None and Path(out).exists() and not force:
        raise FileExistsError(f"{out} exists; choose another file or ask to replace it (--force)")
    yearly = {name: yearly_by_replicate(source) for name, source in named}
    for name, frame in yearly.items():
        unknown = [o for o in outputs if o not in frame.columns]
        if unknown:
            raise ValueError(f"scenario {name!r} has no output(s) {unknown}; see flowsim.outputs")
    _check_same_periods(yearly, named[0][0])
    periods = {name: _periods(frame, outputs) for name, frame in yearly.items()}
    reference = periods[named[0][0]]
    rows = []
    for name, _ in named:
        for period, frame in periods[name].items():
            base = reference.get(period)
            for output in outputs:
                values = frame[output].to_numpy(dtype=np.float64)
                mean, low, high = mean_interval(values)
                row = {
                    "scenario": name,
                    "period": period,
                    "output": output,
                    "unit": unit_of(output),
                    "replicates": values.size,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                }
                if name != named[0][0] and base is not None:
                    ref = base[output].to_numpy(dtype=np.float64)
                    paired = _same_seeds(frame, base)
                    test = paired_difference if paired else welch_difference
                    diff, d_low, d_high, p_value = test(values, ref)
                    ref_mean = ref.mean()
                    row |= {
                        "diff": diff,
                        "diff_ci_low": d_low,
                        "diff_ci_high": d_high,
                        "diff_pct": 100.0 * diff / ref_mean if ref_mean else float("nan"),
                        "p_value": p_value,
                        "test": "paired" if paired else "welch",
                    }
                rows.append(row)
    table = pd.DataFrame.from_records(rows).reindex(columns=list(COLUMNS))
    if out is not None:
        from flowsim.diskio import atomic_path

        with atomic_path(out) as tmp:  # a full disk leaves no empty or half-written table
            table.to_csv(tmp, index=False)
        given = sources.values() if isinstance(sources, Mapping) else sources
        folders = [Path(s) for s in given if isinstance(s, (str, Path))]
        write_provenance(
            Path(f"{out}.provenance.json"), folders, [Path(out)], "comparison by flowsim compare"
        )
    return table


def _periods(yearly: pd.DataFrame, outputs: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Per-replicate values of each period: every year, then the whole run."""
    out = {
        str(int(year)): frame.sort_values("replicate")
        for year, frame in yearly.groupby("year", sort=True)
    }
    out[ALL_YEARS] = whole_run(yearly, outputs)
    return out


def format_table(table: pd.DataFrame, period: str | None = ALL_YEARS) -> str:
    """The comparison as text: per output and period, each scenario's mean and difference [95% CI].

    Args:
        table: the result of :func:`compare`.
        period: one period to show (default the whole run); None shows every period.
    """
    shown = table if period is None else table[table["period"] == period]
    lines = []
    for output in dict.fromkeys(shown["output"]):
        for period_name in dict.fromkeys(shown["period"]):
            group = shown[(shown["output"] == output) & (shown["period"] == period_name)]
            lines.extend(_format_group(group, output, period_name))
    return "\n".join(lines)


def _format_group(group: pd.DataFrame, output: str, period_name: str) -> list[str]:
    """Lines of one output and period: a heading, then one line per scenario."""
    when = "whole run, per year" if period_name == ALL_YEARS else period_name
    lines = [f"{output} [{group['unit'].iloc[0]}], {when}"]
    for row in group.itertuples():
        text = f"  {row.scenario:<32} {row.mean:>14.6g}"
        if not np.isnan(row.diff):
            text += f"  {row.diff:+14.6g} [{row.diff_ci_low:+.4g}, {row.diff_ci_high:+.4g}]"
            if not np.isnan(row.diff_pct):
                text += f" ({row.diff_pct:+.1f}%)"
        lines.append(text)
    return lines
