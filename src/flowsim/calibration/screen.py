"""Morris screening of every behaviour parameter against every target (SALib).

``flowsim calibrate FILE --screen`` runs this before any fit, to choose the free
parameters:

1. **Factors**: every numeric parameter of the calibrated scenario in the sections
   named by ``screen.sections`` (behaviour: talent, research, transfer, capital,
   commercialization by default), except the dotted paths (or prefixes) in
   ``screen.exclude`` (policy levers), integer-valued ones, and those at 0 (a lever
   that is off). Each ranges from ``default x (1 - spread)`` to ``default x (1 +
   spread)``, clipped to what the parameter allows.
2. **Design**: SALib's Morris sample (``trajectories`` x (factors + 1) points,
   ``levels`` grid levels, seeded from the targets file's seed); every point runs
   ``replicates`` times with the same seeds (common random numbers).
3. **Effects**: for each target, SALib's Morris analysis of the replicate means
   divided by the target's tolerance band, so ``mu_star`` is the mean absolute
   elementary effect in *bands* (1 = moving the factor across its range moves the
   target by one tolerance band).
4. **Selection**: a factor is selected when, on some **calibration** target, its
   ``mu_star`` is at least ``screen.threshold`` bands *and* at least
   :data:`NOISE_MULTIPLE` times the noise floor — the ``mu_star`` that replicate
   noise alone would give (:func:`noise_floor`, from the replicates of the design).
   Validation targets are screened too (shown in the table) but do not select:
   choosing parameters by them would let held-out facts into the fit.

Outputs in the folder: ``screen.csv`` (factor x target: ``mu_star``,
``mu_star_conf``, ``sigma``, all in bands), ``screen_summary.csv`` (one row per
factor: default, range, strongest calibration target and its ``mu_star``,
``selected``), ``free.yaml`` (a ``free:`` block for the selected factors to paste
into the targets file) and ``screen.png``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from flowsim.calibration.targets import Targets, field_limits, load_targets, numeric_paths
from flowsim.params import with_overrides
from flowsim.scenario import scenario_dict
from flowsim.streams import replicate_seeds, stream
from flowsim.sweep.tasks import RunTask


def screen_factors(targets: Targets) -> dict[str, tuple[float, float, float]]:
    """Screened parameters: ``{dotted path: (default, low, high)}``."""
    settings = targets.spec.screen
    data = scenario_dict(targets.scenario)
    out: dict[str, tuple[float, float, float]] = {}
    for section in settings.sections:
        sub = data.get(section)
        if not isinstance(sub, dict):
            continue
        for path, value in numeric_paths(sub, section).items():
            if any(path == e or path.startswith(e + ".") for e in settings.exclude):
                continue
            raw = _leaf(data, path)
            if isinstance(raw, int) or value == 0:
                continue
            lo, hi = value * (1 - settings.spread), value * (1 + settings.spread)
            limit_lo, limit_hi = field_limits(path)
            if limit_lo is not None:
                lo = max(lo, limit_lo)
            if limit_hi is not None:
                hi = min(hi, limit_hi)
            if hi > lo:
                out[path] = (value, lo, hi)
    return out


def _leaf(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


@dataclass
class ScreenResult:
    """The screening's tables."""

    effects: pd.DataFrame
    summary: pd.DataFrame
    selected: list[str]
    runs: int

    def text(self) -> str:
        """The printed ranking."""
        lines = [
            f"Morris screening: {len(self.summary)} parameters, {self.runs} runs; mu* in "
            "tolerance bands on the calibration target where it stands highest above the "
            "replicate-noise floor",
            f"{'parameter':<44} {'mu*':>7} {'noise':>7} {'ratio':>6} {'target':<26} selected",
        ]
        for r in self.summary.itertuples():
            mark = "yes" if r.selected else ""
            lines.append(
                f"{r.parameter:<44} {r.mu_star:>7.3f} {r.noise:>7.3f} "
                f"{r.signal_to_noise:>6.1f} {r.target:<26} {mark}"
            )
        lines.append(f"{len(self.selected)} selected: " + ", ".join(self.selected))
        return "\n".join(lines)


def screen(
    path: str | Path | Targets,
    out: str | Path,
    *,
    workers: int | None = 1,
    scheduler: str | None = None,
    security: Any = None,
    progress: bool = True,
) -> ScreenResult:
    """Run the Morris screening of a targets file into ``out`` (see the module doc).

    ``security`` (a ``distributed.security.Security``) reaches ``scheduler``.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    from flowsim.calibration.fit import CalibrationError, TargetModel, check_out_folder, runner
    from flowsim.diskio import atomic_path, write_text_atomic
    from flowsim.progress import progress_bar

    targets = path if isinstance(path, Targets) else load_targets(path)
    spec = targets.spec
    replicates = spec.screen.replicates or spec.replicates
    if replicates < 2:
        raise CalibrationError(
            f"{targets.path}: the screening needs at least 2 replicates per design point to "
            f"measure the replicate-noise floor (it has {replicates}); set `screen: "
            "{replicates: 2}` or more"
        )
    factors = screen_factors(targets)
    names = list(factors)
    if len(names) < 2:
        raise CalibrationError(
            f"{targets.path}: the screening has {len(names)} parameter(s) to vary in "
            f"`screen.sections` {list(spec.screen.sections)} after `screen.exclude`; Morris "
            "screening needs at least 2: name more sections or exclude fewer parameters"
        )
    folder = Path(out)
    check_out_folder(folder, marker="screen.csv", what="screening")
    problem = {
        "num_vars": len(names),
        "names": names,
        "bounds": [[factors[n][1], factors[n][2]] for n in names],
    }
    salib_seed = int(stream(spec.seed, "screen").integers(2**31 - 1))
    X = morris_sample.sample(
        problem, spec.screen.trajectories, num_levels=spec.screen.levels, seed=salib_seed
    )
    seeds = replicate_seeds(spec.seed, replicates)
    base = targets.base_scenario()
    if spec.screen.scale is not None:
        base = with_overrides(base, {"scale": spec.screen.scale})
    model = TargetModel(base, tuple(spec.targets))
    tasks = [
        RunTask(
            run_id=i * len(seeds) + r,
            point_id=i,
            replicate=r,
            seed=s,
            overrides={n: float(x[j]) for j, n in enumerate(names)},
        )
        for i, x in enumerate(X)
        for r, s in enumerate(seeds)
    ]
    values = np.full((len(X), len(seeds), len(spec.targets)), np.nan)
    ids = [t.id for t in spec.targets]
    bar = progress_bar(len(tasks), desc=f"screen {spec.name}", unit="run", disable=not progress)

    def on_result(record: dict[str, Any]) -> None:
        for k, tid in enumerate(ids):
            values[record["point_id"], record["replicate"], k] = record["outcomes"].get(
                tid, math.nan
            )
        bar.update(1)

    with runner(workers, scheduler, security) as run_tasks:
        run_tasks(tasks, model, on_result)
    bar.close()
    means = np.nanmean(values, axis=1) if len(seeds) > 1 else values[:, 0, :]
    delta = spec.screen.levels / (2.0 * (spec.screen.levels - 1))
    rows = []
    for k, t in enumerate(spec.targets):
        y = means[:, k] / t.band
        noise = noise_floor(values[:, :, k] / t.band, delta)
        if not np.isfinite(y).all():
            for n in names:
                rows.append(
                    {
                        "parameter": n,
                        "target": t.id,
                        "role": t.role,
                        "mu_star": math.nan,
                        "mu_star_conf": math.nan,
                        "sigma": math.nan,
                        "mu": math.nan,
                    }
                )
            continue
        res = morris_analyze.analyze(
            problem, X, y, num_levels=spec.screen.levels, seed=salib_seed, print_to_console=False
        )
        for j, n in enumerate(names):
            rows.append(
                {
                    "parameter": n,
                    "target": t.id,
                    "role": t.role,
                    "mu_star": float(res["mu_star"][j]),
                    "mu_star_conf": float(res["mu_star_conf"][j]),
                    "sigma": float(res["sigma"][j]),
                    "mu": float(res["mu"][j]),
                    "noise": noise,
                }
            )
    effects = pd.DataFrame(rows)
    summary = _summary(effects, factors, spec.screen.threshold)
    selected = summary.loc[summary["selected"], "parameter"].tolist()
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "screen.csv") as tmp:
        effects.to_csv(tmp, index=False)
    runs = pd.DataFrame(X, columns=names)
    runs.insert(0, "point", range(len(X)))
    for k, tid in enumerate(ids):
        for r in range(len(seeds)):
            runs[f"{tid}[{r}]"] = values[:, r, k]
    with atomic_path(folder / "screen_runs.csv") as tmp:
        runs.to_csv(tmp, index=False)
    with atomic_path(folder / "screen_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    free = {n: {"low": float(factors[n][1]), "high": float(factors[n][2])} for n in selected}
    write_text_atomic(
        folder / "free.yaml",
        "# free parameters selected by `flowsim calibrate --screen`; paste under `free:`\n"
        + yaml.safe_dump({"free": free}, sort_keys=False),
    )
    with atomic_path(folder / "screen.png") as tmp:
        _figure(summary, tmp, spec.screen.threshold)
    result = ScreenResult(effects, summary, selected, len(tasks))
    write_text_atomic(folder / "screen.txt", result.text() + "\n")
    return result


NOISE_MULTIPLE = 2.0
"""A selected factor's ``mu_star`` is at least this many times the replicate-noise floor."""


def noise_floor(values: np.ndarray, delta: float) -> float:
    """The ``mu_star`` that replicate noise alone would give, in the units of ``values``.

    ``values`` is (design points, replicates). The replicate mean of a point has
    variance ``s2 / R`` (``s2``: the mean within-point variance); an elementary effect
    differences two such means over a step ``delta`` of the unit range, so pure noise
    gives effects of sd ``sqrt(2 * s2 / R) / delta`` and a mean absolute effect
    ``sqrt(2 / pi)`` times that. With common seeds the two means share some noise, so
    this is an upper estimate of the floor (a conservative screen).
    """
    finite = values[np.isfinite(values).all(axis=1)]
    if finite.shape[0] == 0 or finite.shape[1] < 2:
        return math.nan
    s2 = float(np.mean(np.var(finite, axis=1, ddof=1)))
    sd_effect = math.sqrt(2.0 * s2 / finite.shape[1]) / delta
    return sd_effect * math.sqrt(2.0 / math.pi)


def _summary(
    effects: pd.DataFrame, factors: dict[str, tuple[float, float, float]], threshold: float
) -> pd.DataFrame:
    calib = effects[(effects["role"] == "calibration") & effects["mu_star"].notna()]
    rows = []
    for n, (default, lo, hi) in factors.items():
        mine = calib[calib["parameter"] == n]
        if mine.empty:
            best, target, floor, ratio = math.nan, "", math.nan, math.nan
        else:
            # strongest calibration target relative to what replicate noise alone would give
            over = mine["mu_star"] / np.maximum(mine["noise"], 1e-12)
            top = mine.loc[over.idxmax()]
            best, target = float(top["mu_star"]), str(top["target"])
            floor, ratio = float(top["noise"]), float(over.max())
        rows.append(
            {
                "parameter": n,
                "default": default,
                "low": lo,
                "high": hi,
                "mu_star": best,
                "target": target,
                "noise": floor,
                "signal_to_noise": ratio,
                "selected": bool(
                    np.isfinite(best) and best >= threshold and ratio >= NOISE_MULTIPLE
                ),
            }
        )
    frame = pd.DataFrame(rows)
    return frame.sort_values("mu_star", ascending=False, na_position="last").reset_index(drop=True)


def _figure(summary: pd.DataFrame, path: Path, threshold: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = summary.head(30).iloc[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(top) + 1.4))
    colours = np.where(top["selected"], "tab:blue", "0.6")
    ax.barh(top["parameter"], top["mu_star"].fillna(0.0), color=colours)
    ax.axvline(threshold, color="tab:red", lw=0.8, ls="--", label=f"threshold {threshold}")
    ax.set_xlabel("Morris mu* on the strongest calibration target [tolerance bands]")
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


__all__ = ["ScreenResult", "screen", "screen_factors"]
