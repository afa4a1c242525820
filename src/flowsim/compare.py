"""Compare scenarios: yearly outputs, and each scenario's difference from the first.

Every scenario is summarised per year from its replicates: the mean and its 95%
confidence interval (Student t, :func:`scipy.stats.ttest_1samp`). The first scenario
is the reference (usually the baseline); for every other one the difference of means,
its 95% confidence interval and p-value come from a paired t-test
(:func:`scipy.stats.ttest_rel`) when both scenarios ran the same replicate seeds, and
from Welch's t-test (:func:`scipy.stats.ttest_ind`, unequal variances) otherwise.
Column ``test`` says which. Scenarios must cover the same years and run at the same
scale (:func:`compare` refuses others unless asked to flag them instead).

**What matched seeds buy.** Replicate k of every scenario starts from the same seed,
one random stream per mechanism (common random numbers). Where a lever leaves a
mechanism's draws aligned, the two scenarios' replicates move together and the paired
difference carries little noise; where a lever changes *who* acts (talent, data and
samples levers change which collaborations, moves and transfers happen, and with them
every later draw), the replicates decorrelate and pairing buys little. Column
``pairing_r`` is the measured Pearson correlation of the paired replicates for each
output: the paired interval is about sqrt(1 - r) times as wide as an unpaired one of
equal spreads — r = 0.5 saves 29%, r = 0.1 saves 5%.

**Many outputs.** Testing a dozen outputs at 5% finds a "significant" one by chance
more often than not. ``p_adjusted`` controls the false discovery rate across the
outputs compared for one scenario and period (Benjamini–Hochberg,
:func:`scipy.stats.false_discovery_control`); read it, not ``p_value``, when scanning
many outputs.

The period ``"all"`` summarises the whole run per replicate: counted outputs as a
yearly rate (sum / months x 12, so a trailing partial year does not bias it), stocks
and shares as the mean over years.

**Ensemble runs** (``flowsim run --ensemble DIR``; a ``parameter_set`` column) are
paired on parameter set *and* seed: the effect of a scenario is computed per
parameter set (mean over seeds of the paired differences; rows with
``parameter_set`` filled, asked for with ``by_set=True``), then over the ensemble
(rows with ``parameter_set`` empty, ``test`` = ``paired-ensemble``), treating the
sets as the units of a two-level design: with S sets whose per-set effects
``d_s`` have standard deviation ``sd``,

- ``diff`` is the mean of ``d_s`` over sets;
- ``diff_ci_low/high`` is the t confidence interval of that mean (S - 1 degrees of
  freedom, ``sd / sqrt(S)``): how well the ensemble-mean effect is known;
- ``diff_ui_low/high`` is the 95% *uncertainty interval* of the effect: where the
  effect of one parameter set drawn from the ensemble lies, measured with the run's
  replicates (``mean ± t(S - 1) * sd * sqrt(1 + 1/S)``). It holds parameter
  uncertainty and stochastic noise, and does not shrink as sets are added. For runs
  without an ensemble it equals the confidence interval (noise only).

Both scenarios must be ensemble runs of the same ensemble (the manifests'
``ensemble.sha256`` agree) with the same parameter sets and seeds.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.folders import read_run_folder
from flowsim.outputs import COMPARED, COUNTERS, SHARES, YEARLY_SHARES, unit_of
from flowsim.run import stack_replicates
from flowsim.sidecar import write_provenance

DEFAULT_OUTPUTS: tuple[str, ...] = COMPARED
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
    "p_adjusted",
    "pairing_r",
    "test",
    "parameter_sets",
    "parameter_set",
    "diff_ui_low",
    "diff_ui_high",
)
"""Columns of the comparison table, in order (the last four matter for ensemble runs)."""

PARAMETER_SET = "parameter_set"
"""Column of ensemble runs' tables: the parameter set of a replicate."""

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
    for column in ("seed", PARAMETER_SET):
        if column in yearly.columns:
            out[column] = grouped[column].first()
    for output in outputs:
        if output in COUNTERS:
            out[output] = grouped[output].sum() / months * 12.0
        else:
            out[output] = grouped[output].mean()
    return out.reset_index()


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence scipy's precision-loss warning for nearly identical values."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Precision loss", category=RuntimeWarning)
        yield


def mean_interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and its two-sided Student-t confidence interval (NaN bounds for fewer than 2 values)."""
    values = np.asarray(values, dtype=np.float64)
    mean = float(values.mean()) if values.size else float("nan")
    if values.size < 2:
        return mean, float("nan"), float("nan")
    if np.ptp(values) == 0.0:
        return mean, mean, mean
    with _quiet():  # nearly equal values: scipy warns of precision loss, the result holds
        interval = stats.ttest_1samp(values, 0.0).confidence_interval(CONFIDENCE)
    return mean, float(interval.low), float(interval.high)


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
    if np.ptp(a) == 0.0 and np.ptp(b) == 0.0:
        return diff, diff, diff, 1.0 if diff == 0.0 else 0.0
    with _quiet():  # nearly equal values: scipy warns of precision loss, the result holds
        result = stats.ttest_ind(a, b, equal_var=False)
    interval = result.confidence_interval(CONFIDENCE)
    return diff, float(interval.low), float(interval.high), float(result.pvalue)


def paired_difference(
    values: np.ndarray, reference: np.ndarray
) -> tuple[float, float, float, float]:
    """Mean of the per-replicate differences ``values - reference``, its t interval and p-value.

    For replicates that share their seeds pairwise (common random numbers). With fewer
    than 2 pairs the interval and p-value are NaN; with no spread in the differences
    the difference is exact (interval of width 0; p = 1 if it is 0, else 0).
    """
    a = np.asarray(values, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    d = a - b
    diff = float(d.mean()) if d.size else float("nan")
    if d.size < 2:
        return diff, float("nan"), float("nan"), float("nan")
    if np.ptp(d) == 0.0:
        return diff, diff, diff, 1.0 if diff == 0.0 else 0.0
    with _quiet():  # nearly equal values: scipy warns of precision loss, the result holds
        result = stats.ttest_rel(a, b)
    interval = result.confidence_interval(CONFIDENCE)
    return diff, float(interval.low), float(interval.high), float(result.pvalue)


def pairing_correlation(values: np.ndarray, reference: np.ndarray) -> float:
    """Pearson correlation of paired replicates (NaN below 3 pairs or without spread).

    What common random numbers bought for this output: Var(a - b) = Var(a) + Var(b)
    - 2 r sd(a) sd(b).
    """
    a = np.asarray(values, dtype=np.float64)
    b = np.asarray(reference, dtype=np.float64)
    if a.size < 3 or a.size != b.size or np.ptp(a) == 0.0 or np.ptp(b) == 0.0:
        return float("nan")
    return float(stats.pearsonr(a, b).statistic)


def adjust_p_values(p_values: Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate); NaN stays NaN."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    known = ~np.isnan(p)
    if known.any():
        out[known] = stats.false_discovery_control(p[known], method="bh")
    return out


def ensemble_difference(
    values: np.ndarray, reference: np.ndarray, sets: np.ndarray
) -> tuple[float, float, float, float, float, float, pd.DataFrame]:
    """The effect ``values - reference`` over an ensemble, paired on parameter set and seed.

    Args:
        values: one value per run of the scenario.
        reference: the reference's value for the same parameter set and seed, pairwise.
        sets: the parameter set of each pair.

    Returns:
        The mean effect over sets, its confidence interval, the p-value of "no mean effect",
        the uncertainty interval (see the module docstring), and a table of the per-set
        effects (``parameter_set``, ``replicates``, ``diff``, ``diff_ci_low``,
        ``diff_ci_high``, ``p_value``: a paired t over the seeds of each set).
    """
    d = np.asarray(values, dtype=np.float64) - np.asarray(reference, dtype=np.float64)
    by_set = pd.DataFrame({PARAMETER_SET: sets, "d": d, "v": values, "r": reference})
    rows = []
    for set_id, group in by_set.groupby(PARAMETER_SET, sort=True):
        diff, low, high, p_value = paired_difference(group["v"].to_numpy(), group["r"].to_numpy())
        rows.append(
            {
                PARAMETER_SET: int(set_id),
                "replicates": len(group),
                "diff": diff,
                "diff_ci_low": low,
                "diff_ci_high": high,
                "p_value": p_value,
            }
        )
    per_set = pd.DataFrame.from_records(rows)
    effects = per_set["diff"].to_numpy(dtype=np.float64)
    n = effects.size
    diff = float(effects.mean())
    if n < 2:  # one set: the noise-only interval of its seeds
        row = per_set.iloc[0]
        low, high = float(row["diff_ci_low"]), float(row["diff_ci_high"])
        return diff, low, high, float(row["p_value"]), low, high, per_set
    sd = float(effects.std(ddof=1))
    t = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1))
    if sd == 0.0:
        return diff, diff, diff, 1.0 if diff == 0.0 else 0.0, diff, diff, per_set
    se = sd / np.sqrt(n)
    p_value = float(2.0 * stats.t.sf(abs(diff) / se, n - 1))
    ui = t * sd * np.sqrt(1.0 + 1.0 / n)
    return diff, diff - t * se, diff + t * se, p_value, diff - ui, diff + ui, per_set


def _is_ensemble(frame: pd.DataFrame) -> bool:
    return PARAMETER_SET in frame.columns


def _ensemble_pairs(
    name: str, frame: pd.DataFrame, reference_name: str, base: pd.DataFrame
) -> pd.DataFrame:
    """The runs of two ensemble runs side by side, matched on parameter set and seed."""
    if not (_is_ensemble(frame) and _is_ensemble(base)):
        which, other = (name, reference_name) if _is_ensemble(frame) else (reference_name, name)
        raise ValueError(
            f"scenario {which!r} is an ensemble run (it has parameter sets) and {other!r} is "
            "not: run both with the same `--ensemble DIR` and --seed to compare them"
        )
    keys = [PARAMETER_SET, "seed"]
    for label, data in ((name, frame), (reference_name, base)):
        if data.duplicated(keys).any():
            raise ValueError(f"scenario {label!r} repeats a (parameter set, seed) pair")
    merged = frame.merge(base, on=keys, how="outer", suffixes=("", "@ref"), indicator=True)
    if (merged["_merge"] != "both").any():
        raise ValueError(
            f"scenarios {name!r} and {reference_name!r} did not run the same parameter sets "
            "and seeds: run both with the same --ensemble, --replications and --seed"
        )
    return merged.sort_values(keys, kind="stable")


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


def _check_same_scale(scales: dict[str, float], allow_mixed_scales: bool) -> None:
    """Refuse scenarios run at different agent scales, unless asked to compare them anyway."""
    if len(set(scales.values())) <= 1 or allow_mixed_scales:
        return
    listed = ", ".join(f"{name} at {scale:g}" for name, scale in scales.items())
    raise ValueError(
        f"the run folders have different agent scales ({listed}). Outputs are in real-world "
        "units at any scale, but a smaller scale has fewer agents, more noise and coarser "
        "counts, so a difference would mix the policy's effect with the scale's. Run them at "
        "one --scale, or compare anyway with --allow-mixed-scales (the table then says so)"
    )


def _scale_of(source: Any) -> float | None:
    """The agent scale a scenario's results were run at, where they say it."""
    for record in (getattr(source, "summary", None), getattr(source, "manifest", None)):
        if isinstance(record, Mapping) and isinstance(record.get("scale"), (int, float)):
            return float(record["scale"])
    if isinstance(source, Sequence) and source and hasattr(source[0], "scenario"):
        return float(source[0].scenario.scale)
    return None


def _scenario_names(
    sources: Sequence[Source] | Mapping[str, Source],
) -> tuple[list[tuple[str, Source, str | None]], dict[str, float]]:
    """Each scenario's name, its results and its ensemble's hash, and the scales known.

    Run folders are read once, here.
    """
    if isinstance(sources, Mapping):
        named = [(str(name), source, None) for name, source in sources.items()]
        scales = {name: _scale_of(source) for name, source, _ in named}
        return named, {name: scale for name, scale in scales.items() if scale is not None}
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
    scales = {label: _scale_of(folder) for label, folder in zip(unique, folders, strict=True)}
    return (
        [
            (label, folder.yearly, (folder.manifest.get("ensemble") or {}).get("sha256"))
            for label, folder in zip(unique, folders, strict=True)
        ],
        {name: scale for name, scale in scales.items() if scale is not None},
    )


def compare(
    sources: Sequence[Source] | Mapping[str, Source],
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
    *,
    out: str | Path | None = None,
    force: bool = False,
    allow_mixed_scales: bool = False,
    by_set: bool = False,
    ensemble: str | None = None,
) -> pd.DataFrame:
    """Yearly outputs per scenario and each scenario's difference from the first.

    Args:
        sources: run folders (the first is the reference), or a mapping of scenario name to
            results (a run folder, a yearly frame with ``replicate``, or a list of RunResult).
        outputs: the outputs to compare.
        out: write the table there as CSV too.
        force: replace ``out`` if it exists.
        allow_mixed_scales: compare run folders of different agent scales anyway (the
            table's ``attrs["scales"]`` names them and :func:`format_table` flags it);
            by default they are refused.
        by_set: for ensemble runs, add each parameter set's own rows (``parameter_set``
            filled) after the ensemble's rows.
        ensemble: the ``sha256`` of an ensemble (:attr:`flowsim.ensemble.Ensemble.sha256`)
            that every run folder must have been run with.

    Returns:
        A tidy table with :data:`COLUMNS`: one row per scenario, period (each year, then
        ``"all"``) and output. ``diff`` columns are NaN for the reference itself;
        ``pairing_r`` is NaN unless the test is paired; ``p_adjusted`` is
        Benjamini–Hochberg across the outputs of one scenario and period.
        ``attrs["scales"]`` maps each scenario to its agent scale (where known).

    Raises:
        FileExistsError: ``out`` exists and ``force`` is false.
        ValueError: fewer than two scenarios, an unknown output, run folders of different
            scales (unless ``allow_mixed_scales``), or scenarios that cannot be paired
            (different periods; ensemble runs of different ensembles or seeds).
    """
    named, scales = _scenario_names(sources)
    _check_same_scale(scales, allow_mixed_scales)
    if len(named) < 2:
        raise ValueError(
            "compare needs at least two scenarios: the reference first, then the others"
        )
    if out is not None and Path(out).exists() and not force:
        raise FileExistsError(f"{out} exists; choose another file or ask to replace it (--force)")
    _check_ensembles(named, ensemble)
    yearly = {name: yearly_by_replicate(source) for name, source, _ in named}
    for name, frame in yearly.items():
        unknown = [o for o in outputs if o not in frame.columns]
        if unknown:
            raise ValueError(f"scenario {name!r} has no output(s) {unknown}; see flowsim.outputs")
    reference_name = named[0][0]
    _check_same_periods(yearly, reference_name)
    periods = {name: _periods(frame, outputs) for name, frame in yearly.items()}
    reference = periods[reference_name]
    rows: list[dict[str, Any]] = []
    set_rows: list[dict[str, Any]] = []
    for name, _, _ in named:
        for period, frame in periods[name].items():
            base = reference.get(period)
            pairs = None
            if (
                name != reference_name
                and base is not None
                and (_is_ensemble(frame) or _is_ensemble(base))
            ):
                pairs = _ensemble_pairs(name, frame, reference_name, base)
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
                if _is_ensemble(frame):
                    row["parameter_sets"] = frame[PARAMETER_SET].nunique()
                if name == reference_name or base is None:
                    rows.append(row)
                    continue
                ref = base[output].to_numpy(dtype=np.float64)
                ref_mean = ref.mean()
                if pairs is not None:
                    v = pairs[output].to_numpy(dtype=np.float64)
                    r = pairs[f"{output}@ref"].to_numpy(dtype=np.float64)
                    diff, d_low, d_high, p_value, u_low, u_high, per_set = ensemble_difference(
                        v, r, pairs[PARAMETER_SET].to_numpy()
                    )
                    test = "paired-ensemble"
                    if by_set:
                        set_rows += _set_rows(row, per_set, pairs, output)
                else:
                    paired = _same_seeds(frame, base)
                    compute = paired_difference if paired else welch_difference
                    diff, d_low, d_high, p_value = compute(values, ref)
                    u_low, u_high = d_low, d_high
                    test = "paired" if paired else "welch"
                row |= {
                    "diff": diff,
                    "diff_ci_low": d_low,
                    "diff_ci_high": d_high,
                    "diff_pct": 100.0 * diff / ref_mean if ref_mean else float("nan"),
                    "p_value": p_value,
                    "pairing_r": pairing_correlation(values, ref)
                    if test == "paired"
                    else float("nan"),
                    "test": test,
                    "diff_ui_low": u_low,
                    "diff_ui_high": u_high,
                }
                rows.append(row)
    table = pd.DataFrame.from_records(rows + set_rows).reindex(columns=list(COLUMNS))
    # one family of tests per scenario and period (and parameter set, for the per-set rows
    # of ensemble runs): the outputs compared
    families = table.groupby(["scenario", "period", PARAMETER_SET], sort=False, dropna=False)
    for _, index in families.groups.items():
        table.loc[index, "p_adjusted"] = adjust_p_values(table.loc[index, "p_value"])
    table.attrs["scales"] = scales
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


def _set_rows(
    row: dict[str, Any], per_set: pd.DataFrame, pairs: pd.DataFrame, output: str
) -> list[dict[str, Any]]:
    """One row per parameter set: the scenario's mean in that set and its effect there."""
    out = []
    for item in per_set.itertuples():
        in_set = pairs[pairs[PARAMETER_SET] == item.parameter_set]
        mean, low, high = mean_interval(in_set[output].to_numpy(dtype=np.float64))
        ref_mean = float(in_set[f"{output}@ref"].mean())
        out.append(
            row
            | {
                "replicates": int(item.replicates),
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "parameter_sets": 1,
                "parameter_set": int(item.parameter_set),
                "diff": item.diff,
                "diff_ci_low": item.diff_ci_low,
                "diff_ci_high": item.diff_ci_high,
                "diff_pct": 100.0 * item.diff / ref_mean if ref_mean else float("nan"),
                "p_value": item.p_value,
                "pairing_r": pairing_correlation(
                    in_set[output].to_numpy(dtype=np.float64),
                    in_set[f"{output}@ref"].to_numpy(dtype=np.float64),
                ),
                "test": "paired",
                "diff_ui_low": item.diff_ci_low,
                "diff_ui_high": item.diff_ci_high,
            }
        )
    return out


def _check_ensembles(named: list[tuple[str, Source, str | None]], expected: str | None) -> None:
    """Refuse ensemble runs of different ensembles, or of another than ``expected``."""
    hashes = {name: sha for name, _, sha in named if sha is not None}
    if expected is not None:
        wrong = [name for name, _, sha in named if sha != expected]
        if wrong:
            raise ValueError(
                f"scenario(s) {wrong} were not run with the given ensemble: run them with "
                "`flowsim run FILE --ensemble DIR` (the same DIR)"
            )
    if len(set(hashes.values())) > 1:
        raise ValueError(
            f"the scenarios were run with different ensembles ({sorted(hashes)}): "
            "pairing on parameter sets needs the same --ensemble DIR for all of them"
        )


def _periods(yearly: pd.DataFrame, outputs: Sequence[str]) -> dict[str, pd.DataFrame]:
    """Per-replicate values of each period: every year, then the whole run."""
    out = {
        str(int(year)): frame.sort_values("replicate").reset_index(drop=True)
        for year, frame in yearly.groupby("year", sort=True)
    }
    out[ALL_YEARS] = whole_run(yearly, outputs)
    return out


SHARE_OUTPUTS: frozenset[str] = frozenset(SHARES + YEARLY_SHARES)
"""Outputs that are fractions (of projects, of world totals): printed as percentages."""


def format_table(table: pd.DataFrame, period: str | None = ALL_YEARS) -> str:
    """The comparison as text: per output and period, each scenario's mean and difference [95% CI].

    Shares are printed in percent and their differences in percentage points (pp); each
    difference has its p-value, the Benjamini–Hochberg adjusted p-value and, for paired
    tests, the pairing correlation r.

    Args:
        table: the result of :func:`compare`.
        period: one period to show (default the whole run); None shows every period.
    """
    shown = table if period is None else table[table["period"] == period]
    lines = []
    scales = table.attrs.get("scales", {})
    if len(set(scales.values())) > 1:
        listed = ", ".join(f"{name} {scale:g}" for name, scale in scales.items())
        lines.append(f"(!) scenarios at different agent scales ({listed}): read with care")
    for output in dict.fromkeys(shown["output"]):
        for period_name in dict.fromkeys(shown["period"]):
            group = shown[(shown["output"] == output) & (shown["period"] == period_name)]
            lines.extend(_format_group(group, output, period_name))
    return "\n".join(lines)


def _format_group(group: pd.DataFrame, output: str, period_name: str) -> list[str]:
    """Lines of one output and period: a heading, then one line per scenario.

    Every number goes through :mod:`flowsim.numbers` (plain notation, units once).
    """
    from flowsim.numbers import format_interval, format_p, format_percent, format_value

    when = "whole run, per year" if period_name == ALL_YEARS else period_name
    share = output in SHARE_OUTPUTS
    unit = "%" if share else group["unit"].iloc[0]
    lines = [f"{output} [{unit}], {when}"]
    for row in group.itertuples():
        label = row.scenario
        if not pd.isna(row.parameter_set):
            label = f"  {row.scenario} set {int(row.parameter_set)}"
        text = f"  {label:<32} {format_value(output, row.mean):>16}"
        if not np.isnan(row.diff):
            text += (
                f"  {format_value(output, row.diff, difference=True):>14} "
                f"{format_interval(output, row.diff_ci_low, row.diff_ci_high)}"
            )
            if not np.isnan(row.diff_pct):
                text += f" ({format_percent(row.diff_pct)})"
            text += f"  p {format_p(row.p_value)}, adj. {format_p(row.p_adjusted)}"
            if not np.isnan(row.pairing_r):
                text += f", r {row.pairing_r:+.2f}"
            if row.test == "paired-ensemble":
                text += (
                    f"  across {int(row.parameter_sets)} sets "
                    f"{format_interval(output, row.diff_ui_low, row.diff_ui_high)}"
                )
        lines.append(text)
    return lines
