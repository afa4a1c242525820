"""Fit model v3 to targets_v3.yaml by history matching + ABC, and write the validation report.

Issue 18's calibration, sized for ~15 minutes on two idle cores at the targets file's scale
(8 + 150 + 3 x 120 = 518 runs of ~3.5 core-seconds; ~5% of refocused draws are accepted
on the current model, so ~18 members)::

    python scripts/fit_v3.py                              # fit, ensemble, report (~15 min)
    python scripts/fit_v3.py --baseline-only              # the unfitted baseline's report only
    python scripts/fit_v3.py --wave1 40 --wave2 30 --replicates 1 --out results/fit_v3_try

Steps (every step prints its progress and its time; a step whose folder is complete is not
run again with ``--resume``; without it, an ``--out`` that holds a wave is refused):

1. **Unfitted baseline**: the targets file's scenario, its replicates and seeds.
2. **Wave 1** (``flowsim calibrate`` with ``search.method: abc``): ``--wave1`` independent
   draws from the priors of the 19 free parameters, ``--replicates`` runs each.
3. **History matching** on every run so far (:mod:`flowsim.calibration.history`): a
   quadratic emulator per calibration target, and the sets (of the prior, then of the last
   wave's region) that are not ruled out (NROY, largest implausibility <= 3).
4. **Refocused waves** (``--refocus``, 3): ``--wave2`` sets drawn uniformly from the NROY
   region, each run like wave 1, then step 3 again. The sets that put *every* calibration
   target within tolerance, pooled over the refocused waves in draw order, are the
   ensemble: a sample of the accepted region, not an optimiser's top trials. No accepted
   set: exit 1, no ensemble.
5. Writes ``scenarios/calibration/ensemble_v3/`` (``ensemble.csv``, ``ensemble.yaml``,
   ``history_match.csv``, ``README.md``) and ``docs/results/validation_v3.md`` + ``.csv``:
   every calibration and validation target with its real value, band, the unfitted
   baseline's and the ensemble's value, the miss in tolerance bands and pass/fail.

Exit codes: 0 an ensemble was written; 1 the calibration failed (no accepted set); 2 bad
input.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "scenarios" / "calibration" / "targets_v3.yaml"
ENSEMBLE_DIR = ROOT / "scenarios" / "calibration" / "ensemble_v3"
DOCS = ROOT / "docs" / "results"


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def with_settings(targets: Any, replicates: int, scale: float | None) -> Any:
    """A copy of the loaded targets file with other replicates (and scale)."""
    from flowsim.calibration.targets import Targets

    update: dict[str, Any] = {"replicates": replicates}
    if scale is not None:
        update["run"] = targets.spec.run.model_copy(update={"scale": scale})
    return Targets(targets.spec.model_copy(update=update), targets.path, targets.scenario)


def baseline_values(targets: Any, workers: int) -> list[dict[str, float]]:
    """Every target's value in each replicate of the unfitted scenario (the file's seeds)."""
    from flowsim.calibration.fit import TargetModel, runner
    from flowsim.progress import progress_bar
    from flowsim.streams import replicate_seeds
    from flowsim.sweep.tasks import RunTask

    seeds = replicate_seeds(targets.spec.seed, targets.spec.replicates)
    model = TargetModel(targets.base_scenario(), tuple(targets.spec.targets))
    tasks = [
        RunTask(run_id=r, point_id=0, replicate=r, seed=s, overrides={})
        for r, s in enumerate(seeds)
    ]
    found: list[dict[str, float] | None] = [None] * len(seeds)
    bar = progress_bar(len(seeds), desc="unfitted baseline", unit="run")

    def on_result(record: dict[str, Any]) -> None:
        found[record["replicate"]] = {
            t.id: record["outcomes"].get(t.id, math.nan) for t in targets.spec.targets
        }
        bar.update(1)

    with runner(workers, None) as run_tasks:
        run_tasks(tasks, model, on_result)
    bar.close()
    return [f or {} for f in found]


def run_wave(
    targets: Any,
    folder: Path,
    budget: int,
    workers: int,
    proposals: pd.DataFrame | None = None,
    resume: bool = False,
) -> Any:
    """Run (or, with ``resume``, continue) one wave into ``folder``; its Outcome.

    Without ``resume`` a folder that holds a calibration is refused (CalibrationError):
    its trials may come from another version of the model.
    """
    from flowsim.calibration.fit import MANIFEST, calibrate, finish, read_log

    resume = resume and (folder / MANIFEST).is_file()
    if resume and len(read_log(folder)) >= budget:
        _log(f"{folder}: {budget} trials logged already, not run again")
    else:
        calibrate(
            targets, folder, budget=budget, workers=workers, resume=resume, proposals=proposals
        )
    return finish(targets, folder)


def verdict(target: Any, value: float) -> tuple[float, str]:
    """(distance in tolerance bands, ``pass``/``FAIL``/``no value``)."""
    from flowsim.calibration.evaluate import distance

    if not np.isfinite(value):
        return math.nan, "no value"
    d = float(distance(target, value))
    return d, "pass" if abs(d) <= 1.0 else "FAIL"


def _source(t: Any) -> str:
    s = t.source
    if isinstance(s, str):
        return s
    return f"{s.publisher}, {s.title} ({s.year})"


def report_table(
    targets: Any, base: list[dict[str, float]], members: list[dict[str, Any]] | None
) -> pd.DataFrame:
    """One row per target: real value, band, unfitted baseline and ensemble, miss, verdict.

    ``members``: the ensemble's trial records (None: no fit, baseline columns only). The
    ensemble's value is the mean over members of each member's replicate mean; its range
    the 5-95% over members; the verdict is judged on the ensemble mean for every target
    (calibration and validation alike: what the calibrated model says).
    """
    from flowsim.calibration.report import describe_target

    rows = []
    for t in targets.spec.targets:
        row: dict[str, Any] = {
            "id": t.id,
            "level": t.level,
            "role": t.role,
            "what": describe_target(t),
            "real": t.value,
            "unit": t.unit,
            "band_low": t.value - t.band,
            "band_high": t.value + t.band,
        }
        if not t.reported:
            row.update(baseline=math.nan, baseline_miss=math.nan, baseline_verdict="not evaluated")
            if members is not None:
                row.update(
                    ensemble=math.nan,
                    ensemble_low=math.nan,
                    ensemble_high=math.nan,
                    miss=math.nan,
                    members_within=math.nan,
                    verdict="not evaluated",
                )
            row["note"] = t.model_output_note or ""
            row["source"] = _source(t)
            rows.append(row)
            continue
        b = np.array([v.get(t.id, math.nan) for v in base], dtype=float)
        b_mean = float(np.nanmean(b)) if np.isfinite(b).any() else math.nan
        row["baseline"] = b_mean
        row["baseline_miss"], row["baseline_verdict"] = verdict(t, b_mean)
        if members is not None:
            means = []
            for m in members:
                v = np.array([r.get(t.id, math.nan) for r in m["values"]], dtype=float)
                means.append(float(np.nanmean(v)) if np.isfinite(v).any() else math.nan)
            means_arr = np.array(means, dtype=float)
            ok = means_arr[np.isfinite(means_arr)]
            mean = float(ok.mean()) if ok.size else math.nan
            row["ensemble"] = mean
            row["ensemble_low"], row["ensemble_high"] = (
                (float(np.quantile(ok, 0.05)), float(np.quantile(ok, 0.95)))
                if ok.size
                else (math.nan, math.nan)
            )
            row["miss"], row["verdict"] = verdict(t, mean)
            row["members_within"] = (
                float(np.mean([abs(verdict(t, x)[0]) <= 1.0 for x in ok])) if ok.size else math.nan
            )
        row["note"] = ""
        row["source"] = _source(t)
        rows.append(row)
    return pd.DataFrame(rows)


def counts(table: pd.DataFrame, column: str) -> dict[str, tuple[int, int]]:
    """(passes, evaluated) per role for a verdict column."""
    out = {}
    for role in ("calibration", "validation"):
        v = table.loc[table["role"] == role, column]
        evaluated = v.isin(["pass", "FAIL"])
        out[role] = (int((v == "pass").sum()), int(evaluated.sum()))
    return out


def _num(x: float) -> str:
    if not np.isfinite(x):
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def write_markdown(table: pd.DataFrame, path: Path, header: list[str]) -> None:
    """docs/results/validation_v3.md: the counts, how it was made, and one row per target."""
    fitted = "ensemble" in table.columns
    lines = ["# Validation of model v3 against targets_v3.yaml", ""]
    for paragraph in header:
        lines += [paragraph, ""]
    cb = counts(table, "baseline_verdict")
    lines.append(
        f"- **Unfitted baseline**: calibration {cb['calibration'][0]}/{cb['calibration'][1]} "
        f"pass, validation {cb['validation'][0]}/{cb['validation'][1]} pass."
    )
    if fitted:
        ce = counts(table, "verdict")
        lines.append(
            f"- **Calibrated ensemble** (mean over members): calibration "
            f"{ce['calibration'][0]}/{ce['calibration'][1]} pass, validation "
            f"{ce['validation'][0]}/{ce['validation'][1]} pass."
        )
    missing = int((table["baseline_verdict"] == "not evaluated").sum())
    lines += [
        f"- {missing} targets are not evaluated: the model cannot report them yet "
        "(`model_output: none`, reason in the CSV's `note`).",
        "",
        "Miss = (model − real) / tolerance band; pass when |miss| ≤ 1. "
        "Every number is in `validation_v3.csv`.",
        "",
    ]
    head = "| target | level | role | real | baseline (miss) |"
    rule = "|---|---|---|---|---|"
    if fitted:
        head += " ensemble mean (5–95%) (miss) | members within | verdict |"
        rule += "---|---|---|"
    else:
        head += " verdict |"
        rule += "---|"
    lines += [head, rule]
    for r in table.itertuples():
        if r.baseline_verdict == "not evaluated":
            cells = [r.id, r.level, r.role, _num(r.real), "not evaluated"]
            cells += ["–", "–", "not evaluated"] if fitted else ["not evaluated"]
        else:
            cells = [
                r.id,
                r.level,
                r.role,
                _num(r.real),
                f"{_num(r.baseline)} ({r.baseline_miss:+.2f})",
            ]
            if fitted:
                cells += [
                    f"{_num(r.ensemble)} ({_num(r.ensemble_low)}–{_num(r.ensemble_high)}) "
                    f"({r.miss:+.2f})",
                    f"{r.members_within:.0%}",
                    r.verdict,
                ]
            else:
                cells.append(r.baseline_verdict)
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _relative(path: str) -> str:
    """``path`` relative to the repository when it lies inside it (as the manifest keeps it)."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def ship_ensemble(
    members: list[dict[str, Any]],
    free: dict[str, Any],
    history: pd.DataFrame,
    note: str,
    dest: Path,
    targets: str = "scenarios/calibration/targets_v3.yaml",
) -> None:
    """Write the accepted members (small files only) with repo-relative paths in the manifest."""
    from flowsim.calibration.ensemble import write_ensemble

    frame = pd.DataFrame(
        [
            {"trial": r["trial"], "objective": r["objective"], "within_all": True, **r["params"]}
            for r in members
        ]
    )
    write_ensemble(
        dest,
        frame,
        list(free),
        bounds={n: (b.low, b.high) for n, b in free.items()},
        scenario="scenarios/baseline.yaml",
        targets=targets,
        selection=note,
    )
    history.to_csv(dest / "history_match.csv", index=False)
    (dest / "README.md").write_text(
        "# The calibrated ensemble of model v3 (targets_v3.yaml)\n\n"
        "Written by `python scripts/fit_v3.py` (history matching, then ABC rejection inside\n"
        "the sets history matching did not rule out). Every member puts all six calibration\n"
        "targets within tolerance; members are in draw order. `history_match.csv` is each\n"
        "free parameter's 95% interval over the last wave's NROY sets, against its prior.\n\n"
        f"{note}\n\n"
        "Use it: `flowsim run scenarios/X.yaml --ensemble scenarios/calibration/ensemble_v3`\n"
        "(or `python scripts/scenario_effects.py`). The trial logs are not shipped.\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    """Fit, write the ensemble and the report; 0, 1 (calibration failed) or 2."""
    from flowsim.calibration.fit import CalibrationError, read_log
    from flowsim.calibration.history import history_match
    from flowsim.calibration.targets import load_targets
    from flowsim.yamlio import ConfigError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default=str(TARGETS))
    parser.add_argument("--out", default="results/fit_v3", help="wave folders (trial logs)")
    parser.add_argument("--wave1", type=int, default=150, help="prior draws (default 150)")
    parser.add_argument(
        "--wave2", type=int, default=120, help="draws per refocused wave (default 120)"
    )
    parser.add_argument(
        "--refocus", type=int, default=3, help="refocused waves after wave 1 (default 3)"
    )
    parser.add_argument("--replicates", type=int, default=1, help="runs per draw (default 1)")
    parser.add_argument("--scale", type=float, help="override the targets file's scale")
    parser.add_argument("--ensemble-size", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline-only", action="store_true", help="no fit: baseline report")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the waves in --out (same model and settings); without it an --out "
        "that holds a wave is refused",
    )
    parser.add_argument("--ensemble-out", default=str(ENSEMBLE_DIR))
    parser.add_argument("--docs", default=str(DOCS), help="where validation_v3.md/.csv go")
    args = parser.parse_args(argv)
    if (
        min(args.wave1, args.wave2, args.refocus, args.replicates, args.ensemble_size, args.workers)
        < 1
    ):
        print("fit_v3.py: --wave1/--wave2/--replicates/... must be at least 1", file=sys.stderr)
        return 2
    try:
        targets = load_targets(args.targets)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2
    out, docs = Path(args.out), Path(args.docs)
    docs.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    base_targets = with_settings(targets, targets.spec.replicates, args.scale)

    t0 = time.time()
    base = baseline_values(base_targets, args.workers)
    timings["unfitted baseline"] = time.time() - t0
    _log(f"unfitted baseline: {timings['unfitted baseline']:.0f} s")
    run_note = (
        f"runs: scale {base_targets.spec.run.scale}, {base_targets.spec.run.warmup_steps} warm-up "
        f"+ {base_targets.spec.run.steps} months from {base_targets.spec.run.start_year}"
    )
    header = [
        f"Made by `python scripts/fit_v3.py` on {time.strftime('%Y-%m-%d')} ({run_note}). "
        f"The unfitted baseline is the mean of {targets.spec.replicates} replicates on the "
        "targets file's seeds."
    ]
    members = None
    status = 0
    if not args.baseline_only:
        # history matching needs independent draws from the priors: ABC, whatever the file says
        spec = targets.spec.model_copy(
            update={
                "search": targets.spec.search.model_copy(
                    update={"ensemble": args.ensemble_size, "method": "abc"}
                )
            }
        )
        from flowsim.calibration.targets import Targets

        fit_targets = with_settings(
            Targets(spec, targets.path, targets.scenario), args.replicates, args.scale
        )
        calibration = fit_targets.spec.of_role("calibration")
        free = fit_targets.spec.free
        waves: list[str] = []
        accepted: list[dict[str, Any]] = []  # accepted trial records, wave by wave, draw order
        try:
            t0 = time.time()
            _log(f"wave 1: {args.wave1} draws from the priors x {args.replicates} run(s)")
            run_wave(fit_targets, out / "wave1", args.wave1, args.workers, resume=args.resume)
            timings["wave 1"] = time.time() - t0
            trials = read_log(out / "wave1")
            match = None
            used: set[tuple[float, ...]] = set()
            for k in range(2, args.refocus + 2):
                # emulators on every run so far; candidates: the previous wave's NROY sets
                match = history_match(
                    trials, calibration, free, seed=fit_targets.spec.seed, within=match
                )
                r2 = ", ".join(f"{t} {e.r2:.2f}" for t, e in match.emulators.items())
                _log(
                    f"history matching before wave {k}: {match.share:.2%} of the prior not "
                    f"ruled out ({len(match.nroy)} sets); emulator r2: {r2}"
                )
                fresh = match.nroy[[tuple(row) not in used for row in match.nroy.to_numpy()]]
                if fresh.empty:
                    break
                n = min(args.wave2, len(fresh))
                proposals = fresh.sample(frac=1.0, random_state=fit_targets.spec.seed + k)
                used.update(tuple(row) for row in proposals.head(n).to_numpy())
                t0 = time.time()
                _log(f"wave {k}: {n} draws from the NROY sets x {args.replicates} run(s)")
                folder = out / f"wave{k}"
                outcome = run_wave(fit_targets, folder, n, args.workers, proposals, args.resume)
                timings[f"wave {k}"] = time.time() - t0
                logged = read_log(folder)
                by_trial = {r["trial"]: r for r in logged}
                got = [by_trial[int(t)] for t in outcome.ensemble["trial"]]
                accepted += [{**r, "trial": k * 100_000 + r["trial"]} for r in got]
                waves.append(
                    f"wave {k}: {n} draws from the {match.share:.2%} of the prior that history "
                    f"matching kept (emulator r2: {r2}), {len(got)} accepted ({len(got) / n:.0%})"
                )
                trials = trials + [{**r, "trial": k * 100_000 + r["trial"]} for r in logged]
        except CalibrationError as err:
            print(err, file=sys.stderr)
            return 2
        if match is None or match.nroy.empty:
            print("fit_v3.py: history matching ruled out every set; no ensemble", file=sys.stderr)
            return 1
        history = match.intervals(free)
        chosen = accepted[: args.ensemble_size]
        note = (
            f"Wave 1: {args.wave1} prior draws x {args.replicates} run(s). Refocused "
            + "; ".join(waves)
            + f". The ensemble is the first {len(chosen)} of the {len(accepted)} accepted draws "
            "(every calibration target within tolerance), wave by wave in draw order; its "
            "`trial` is wave x 100000 + the trial in that wave's log."
        )
        header.append(note)
        if not chosen:
            status = 1
            header.append("**CALIBRATION FAILED: no draw met every calibration target.**")
            print("fit_v3.py: CALIBRATION FAILED: no accepted draw; no ensemble", file=sys.stderr)
        else:
            members = chosen
            ship_ensemble(
                members, free, history, note, Path(args.ensemble_out), _relative(args.targets)
            )
            history_lines = [
                f"  {r.parameter}: {r.low:.4g}–{r.high:.4g} of "
                f"{r.prior_low:.4g}–{r.prior_high:.4g} "
                f"({r.narrowing:.2f}x)"
                for r in history.itertuples()
            ]
            _log("history matching, 95% of the last NROY:\n" + "\n".join(history_lines))
    header.append("Timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in timings.items()) + ".")
    table = report_table(base_targets, base, members)
    table.to_csv(docs / "validation_v3.csv", index=False)
    write_markdown(table, docs / "validation_v3.md", header)
    cb = counts(table, "baseline_verdict")
    summary = {"timings_s": {k: round(v) for k, v in timings.items()}, "baseline": cb}
    if members is not None:
        summary["ensemble"] = counts(table, "verdict")
        summary["members"] = len(members)
    print(json.dumps(summary))
    print(
        f"written: {docs / 'validation_v3.md'}, {docs / 'validation_v3.csv'}"
        + (f", {args.ensemble_out}/" if members is not None else "")
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
