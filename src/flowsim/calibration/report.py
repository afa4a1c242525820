"""Fit and validation reports of a calibration: tables (printed and CSV) and a figure.

Both tables have one row per target and the same columns:

- ``id``, ``role``, ``split`` (``fit``; ``held out``; ``later year`` for a validation
  target whose output and selection a calibration target has at an earlier year —
  the time split), ``what`` (output, selection, statistic, year), ``real``, ``band_low``,
  ``band_high`` (the tolerance band);
- ``best``: replicate mean at the best parameter set, ``best_low``/``best_high`` its
  range over replicates;
- ``ensemble``: mean over the ensemble's members (each a replicate mean),
  ``ensemble_low``/``ensemble_high`` the 5-95% range over every member's replicates;
- ``distance``: ``(model - real) / band`` of the verdict's value, ``members_within``:
  share of members whose replicate mean is within tolerance;
- ``verdict``: ``pass`` / ``FAIL`` / ``not evaluated (reason)``. A calibration target is
  judged on the best set (what the fit delivered); a validation target on the ensemble
  mean (what the calibrated model predicts, parameter uncertainty included).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.calibration.evaluate import distance
from flowsim.calibration.targets import Target, Targets
from flowsim.diskio import save_figure_atomic

COLUMNS: tuple[str, ...] = (
    "id",
    "role",
    "split",
    "what",
    "real",
    "band_low",
    "band_high",
    "best",
    "best_low",
    "best_high",
    "ensemble",
    "ensemble_low",
    "ensemble_high",
    "distance",
    "members_within",
    "verdict",
    "source",
)


def describe_target(t: Target) -> str:
    """A short text of what a target measures."""
    if not t.reported:
        return "not reported by the model"
    parts = [t.output]
    if t.flow is not None:
        f = t.flow
        ends = f"{f.origin or 'any'}->{f.destination or 'any'}"
        cross = (
            "" if f.cross_border is None else (" cross-border" if f.cross_border else " domestic")
        )
        parts = [f"{f.element} flow {t.output} {ends}{cross}"]
    if t.link is not None:
        ends = "<->".join(e if isinstance(e, str) else "+".join(e) for e in t.link.ends)
        parts = [f"{t.link.kind} {ends} {t.output}"]
    for key in ("jurisdiction", "city", "field"):
        if getattr(t, key):
            parts.append(str(getattr(t, key)))
    if t.statistic == "growth_rate":
        parts.append(f"growth {t.base_year}-{t.year}")
    elif t.statistic == "share":
        of = t.of
        whole = [x for x in (of.output, of.jurisdiction, of.city, of.field) if x] or ["region"]
        if of.link is not None:
            whole = [
                f"{of.link.kind} "
                + "<->".join(e if isinstance(e, str) else "+".join(e) for e in of.link.ends)
            ]
        parts.append(f"share of {' '.join(whole)}")
    elif t.statistic in ("top_share", "tail_exponent"):
        parts.append(f"{t.statistic} across {t.across}" + (f" top {t.top}" if t.top > 1 else ""))
    if t.statistic != "growth_rate":
        parts.append(str(t.year) if t.year is not None else "mean of years")
    return " ".join(parts)


def _split(t: Target, calibration: list[Target]) -> str:
    if t.role == "calibration":
        return "fit"
    key = (t.output, t.jurisdiction, t.city, t.field, t.flow)
    for c in calibration:
        if (c.output, c.jurisdiction, c.city, c.field, c.flow) == key:
            if c.year is not None and t.year is not None and c.year < t.year:
                return "later year"
    return "held out"


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan


def _within(t: Target, value: float) -> bool:
    return bool(np.isfinite(value) and abs(distance(t, value)) <= 1.0)


def target_table(
    targets: Targets,
    best: dict[str, Any],
    members: list[dict[str, Any]],
    reasons: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Fit and validation table of every target (see the module doc).

    Args:
        targets: the loaded targets file.
        best: the best trial's log record.
        members: the ensemble's trials' log records.
        reasons: why a target has no value, by id (shown in the verdict).
    """
    calibration = targets.spec.of_role("calibration")
    reasons = reasons or {}
    rows = []
    for t in targets.spec.targets:
        best_reps = np.array([v.get(t.id, math.nan) for v in best["values"]], dtype=float)
        member_means = np.array(
            [_mean([v.get(t.id, math.nan) for v in m["values"]]) for m in members]
            if members
            else [],
            dtype=float,
        )
        every = np.array([v.get(t.id, math.nan) for m in members for v in m["values"]], dtype=float)
        finite_best = best_reps[np.isfinite(best_reps)]
        finite_all = every[np.isfinite(every)]
        best_mean = float(finite_best.mean()) if finite_best.size else math.nan
        ens_mean = float(np.nanmean(member_means)) if np.isfinite(member_means).any() else math.nan
        judged = best_mean if t.role == "calibration" else ens_mean
        if not np.isfinite(judged):
            verdict = "not evaluated (" + reasons.get(t.id, "no model value") + ")"
            dist = math.nan
        else:
            dist = float(distance(t, judged))
            verdict = "pass" if abs(dist) <= 1.0 else "FAIL"
        rows.append(
            {
                "id": t.id,
                "role": t.role,
                "split": _split(t, calibration),
                "what": describe_target(t),
                "real": t.value,
                "band_low": t.value - t.band,
                "band_high": t.value + t.band,
                "best": best_mean,
                "best_low": float(finite_best.min()) if finite_best.size else math.nan,
                "best_high": float(finite_best.max()) if finite_best.size else math.nan,
                "ensemble": ens_mean,
                "ensemble_low": float(np.quantile(finite_all, 0.05))
                if finite_all.size
                else math.nan,
                "ensemble_high": float(np.quantile(finite_all, 0.95))
                if finite_all.size
                else math.nan,
                "distance": dist,
                "members_within": float(np.mean([_within(t, v) for v in member_means]))
                if member_means.size
                else math.nan,
                "verdict": verdict,
                "source": t.source_text,
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "-"
    if x != 0 and abs(x) < 0.1:
        return f"{x:.3g}"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def format_table(table: pd.DataFrame, title: str) -> str:
    """A plain-text table of a fit or validation report."""
    lines = [title]
    header = (
        f"{'target':<30} {'split':<10} {'real':>9} {'band':>19} {'best':>9} "
        f"{'ens.mean':>9} {'ensemble 5-95%':>21} {'d':>6} verdict"
    )
    lines.append(header)
    lines.append("-" * len(header))
    for r in table.itertuples():
        band = f"{_fmt(r.band_low)}-{_fmt(r.band_high)}"
        ens = f"{_fmt(r.ensemble_low)}-{_fmt(r.ensemble_high)}"
        d = f"{r.distance:+.2f}" if np.isfinite(r.distance) else "-"
        lines.append(
            f"{r.id:<30} {r.split:<10} {_fmt(r.real):>9} {band:>19} {_fmt(r.best):>9} "
            f"{_fmt(r.ensemble):>9} {ens:>21} {d:>6} {r.verdict}"
        )
    passed = (table["verdict"] == "pass").sum()
    failed = (table["verdict"] == "FAIL").sum()
    rest = len(table) - passed - failed
    lines.append(f"{passed} pass, {failed} fail" + (f", {rest} not evaluated" if rest else ""))
    return "\n".join(lines)


def markdown_table(table: pd.DataFrame) -> str:
    """The table as Markdown (for README and ODD)."""
    out = [
        "| target | what | split | real | band | best set | ensemble mean (5–95%) | verdict |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        out.append(
            f"| {r.id} | {r.what} | {r.split} | {_fmt(r.real)} | {_fmt(r.band_low)}–"
            f"{_fmt(r.band_high)} | {_fmt(r.best)} | {_fmt(r.ensemble)} ({_fmt(r.ensemble_low)}–"
            f"{_fmt(r.ensemble_high)}) | {r.verdict} |"
        )
    return "\n".join(out)


def fit_figure(table: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Each target's model value in tolerance bands (0 = the real figure, +-1 = the band).

    Dots: the best set (calibration) or the ensemble mean (validation); bars: the
    ensemble's 5-95% range; the grey band is the tolerance.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    frame = table.iloc[::-1].reset_index(drop=True)
    half = (frame["band_high"] - frame["band_low"]) / 2.0

    def bands(col: str) -> np.ndarray:
        return ((frame[col] - frame["real"]) / half).to_numpy(dtype=float)

    centre = np.where(frame["role"] == "calibration", bands("best"), bands("ensemble"))
    low, high = bands("ensemble_low"), bands("ensemble_high")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(frame) + 1.5))
    y = np.arange(len(frame))
    ax.axvspan(-1, 1, color="0.88", zorder=0, label="within tolerance")
    ax.axvline(0, color="0.5", lw=0.8)
    colours = np.where(frame["role"] == "calibration", "tab:blue", "tab:orange")
    for i in range(len(frame)):
        if np.isfinite(low[i]) and np.isfinite(high[i]):
            ax.plot([low[i], high[i]], [y[i], y[i]], color=colours[i], lw=2, alpha=0.5)
        if np.isfinite(centre[i]):
            ax.plot(np.clip(centre[i], -6, 6), y[i], "o", color=colours[i])
    ax.set_yticks(y, [f"{a} ({b})" for a, b in zip(frame["id"], frame["split"], strict=True)])
    ax.set_xlim(-6, 6)
    ax.set_xlabel("(model - real) / tolerance band   [clipped at +-6]")
    ax.plot([], [], "o", color="tab:blue", label="calibration: best set")
    ax.plot([], [], "o", color="tab:orange", label="validation: ensemble mean")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title or "fit and validation", fontsize=10)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)
    return path


__all__ = [
    "COLUMNS",
    "describe_target",
    "fit_figure",
    "format_table",
    "markdown_table",
    "target_table",
]
