"""Every scenario against the baseline over the calibrated ensemble, and what decides each answer.

Issue 18's policy effects with intervals that include parameter uncertainty::

    python scripts/scenario_effects.py                         # scale 0.1, 16 members x 1 seed
    python scripts/scenario_effects.py --scale 0.02 --members 8 --out results/effects_try
    python scripts/scenario_effects.py --report-only           # re-read results/effects/runs

**Design.** Every ``scenarios/*.yaml`` is run with ``flowsim run FILE --ensemble SUB
--replications R``, where ``SUB`` holds the first ``--members`` members of the ensemble
(``scenarios/calibration/ensemble_v3``, fitted by ``scripts/fit_v3.py``; with fewer members
than ``--min-pairs`` (8), more seeds per member). Member ``s`` runs
on the same ``R`` seeds in every scenario (common random numbers), so each scenario is
paired with the baseline on (member, seed): ``members x R`` paired replicates (default
16 x 1), each with its own parameter set. The effect's interval is ``compare``'s
uncertainty interval across members (mean +- t sd sqrt(1 + 1/S)): it holds parameter
uncertainty and replicate noise together. A scenario that sets a parameter the ensemble
also sets (``no_border`` sets every ``deterrence.*.border_effect``) is run with that
column fixed to the scenario's value in every member, so the policy is not overridden.

**What decides each answer** is ``compare --ensemble``'s screening
(:func:`flowsim.report.screening`): across members, the correlation of the member's
effect with each of its parameters. ``r2`` is the share of the effect's spread across
members that parameter alone accounts for; ``p`` tests r = 0 (t with S - 2 df); a
parameter *decides* when p < 0.05 / (number of parameters) (Bonferroni), since with
S members and 19 parameters some correlation arises by chance.

Writes ``docs/results/effects.md``, ``effects_headline.csv`` (scenario x output: effect,
% of baseline, 95% uncertainty and confidence intervals) and ``effects_decides.csv``
(scenario x output x parameter: r, r2, p, slope per sd, decides), with progress on
stderr. Runs go to ``--out`` (default ``results/effects``), never committed.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/effect_cells.py
from effect_cells import OUTPUTS, cell, flowsim_command, pct, write_csvs  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENSEMBLE = ROOT / "scenarios" / "calibration" / "ensemble_v3"
PRIORS = ROOT / "scenarios" / "calibration" / "priors.yaml"
DOCS = ROOT / "docs" / "results"
ALPHA = 0.05


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _value_at(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def sub_ensemble(
    ensemble: Path, members: int, dest: Path, fixed: dict[str, float] | None = None
) -> Path:
    """The first ``members`` members of ``ensemble`` in ``dest`` (``fixed`` columns set)."""
    dest.mkdir(parents=True, exist_ok=True)
    frame = pd.read_csv(ensemble / "ensemble.csv")
    if len(frame) < 3:
        raise SystemExit(
            f"scenario_effects.py: {ensemble} has {len(frame)} members; an interval across "
            "members needs at least 3: run scripts/fit_v3.py with larger waves"
        )
    members = min(members, len(frame))
    frame = frame.head(members)
    for name, value in (fixed or {}).items():
        frame[name] = value
    frame.to_csv(dest / "ensemble.csv", index=False)
    manifest = yaml.safe_load((ensemble / "ensemble.yaml").read_text(encoding="utf-8"))
    manifest["members"] = members
    manifest["scenario"] = str(ROOT / "scenarios" / "baseline.yaml")
    if fixed:
        manifest["selection"] = (
            f"{manifest.get('selection', '')}; fixed for this scenario: "
            + ", ".join(f"{k} = {v:g}" for k, v in fixed.items())
        )
    (dest / "ensemble.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), "utf-8")
    return dest


def conflicts(scenario: Path, baseline: Path, parameters: list[str]) -> dict[str, float]:
    """Ensemble parameters that ``scenario`` sets to another value than the baseline."""
    from flowsim.scenario import load_scenario

    a = load_scenario(scenario).model_dump(by_alias=True, mode="json")
    b = load_scenario(baseline).model_dump(by_alias=True, mode="json")
    out = {}
    for p in parameters:
        va, vb = _value_at(a, p), _value_at(b, p)
        if isinstance(va, int | float) and va != vb:
            out[p] = float(va)
    return out


def run_all(
    scenarios: list[Path],
    ensemble: Path,
    members: int,
    replications: int,
    scale: float | None,
    jobs: int,
    out: Path,
    steps: int | None = None,
) -> dict[str, float]:
    """``flowsim run --ensemble`` of every scenario, ``jobs`` at a time; seconds per scenario."""
    parameters = yaml.safe_load((ensemble / "ensemble.yaml").read_text("utf-8"))["parameters"]
    baseline = ROOT / "scenarios" / "baseline.yaml"
    commands = {}
    for path in scenarios:
        fixed = conflicts(path, baseline, parameters) if path != baseline else {}
        if fixed:
            _log(f"{path.stem}: sets {', '.join(fixed)}; those columns take its value")
        sub = sub_ensemble(ensemble, members, out / "ensembles" / path.stem, fixed)
        command = flowsim_command(
            "run", str(path), "--ensemble", str(sub),
            "--replications", str(replications), "--quiet", "--force",
            "--out", str(out / "runs" / path.stem),
        )  # fmt: skip
        if scale is not None:
            command += ["--scale", str(scale)]
        if steps is not None:
            command += ["--steps", str(steps)]
        commands[path.stem] = command
    seconds: dict[str, float] = {}
    start = time.time()

    def one(name: str) -> tuple[str, float, str]:
        t0 = time.time()
        done = subprocess.run(commands[name], capture_output=True, text=True, cwd=ROOT)
        if done.returncode != 0:
            return name, time.time() - t0, done.stderr[-2000:]
        return name, time.time() - t0, ""

    # the baseline first: its warm-ups (one per member and seed) go into the warm-start
    # cache, and every policy scenario introduced after the warm-up reads them from there
    order = sorted(commands, key=lambda n: (n != "baseline", n))
    name, took, err = one(order[0])
    if err:
        raise SystemExit(f"scenario_effects.py: flowsim run {name} failed:\n{err}")
    seconds[name] = took
    _log(f"[1/{len(order)}] {name}: {took:.0f} s")
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(one, n) for n in order[1:]]
        for k, future in enumerate(as_completed(futures), start=2):
            name, took, err = future.result()
            if err:
                raise SystemExit(f"scenario_effects.py: flowsim run {name} failed:\n{err}")
            seconds[name] = took
            elapsed = time.time() - start
            left = elapsed / k * (len(order) - k)
            _log(
                f"[{k}/{len(order)}] {name}: {took:.0f} s "
                f"({elapsed:.0f} s in all, ~{left:.0f} s left)"
            )
    return seconds


def correlation_p(r: float, n: int) -> float:
    """Two-sided p-value of a correlation ``r`` of ``n`` pairs (t with n - 2 df)."""
    if not math.isfinite(r) or n < 3:
        return math.nan
    if abs(r) >= 1.0:
        return 0.0
    t = r * math.sqrt((n - 2) / (1.0 - r * r))
    return float(2.0 * stats.t.sf(abs(t), n - 2))


def effects(out: Path, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """(headline table, what-decides table, members, seeds) from the run folders."""
    from flowsim.compare import compare
    from flowsim.ensemble import read_parameter_sets
    from flowsim.report import screening
    from flowsim.results import read_run_folder

    frames = {n: read_run_folder(out / "runs" / n).yearly for n in ["baseline", *names]}
    # frames, not folders: a scenario run with fixed columns has another ensemble hash;
    # the pairing is on (parameter set, seed), which every folder shares
    table = compare(frames, OUTPUTS, by_set=True)
    ensemble = read_parameter_sets(out / "ensembles" / "baseline")
    base_rows = frames["baseline"]
    seeds = int(base_rows["seed"].nunique()) if "seed" in base_rows else 1
    whole = table[(table["period"] == "all") & table["diff"].notna()]
    head = whole[whole["parameter_set"].isna()]
    rows = []
    for r in head.itertuples():
        base = r.mean - r.diff
        rows.append(
            {
                "scenario": r.scenario,
                "output": r.output,
                "baseline": base,
                "effect": r.diff,
                "effect_pct": pct(r.diff, base),
                "ui_low_pct": pct(r.diff_ui_low, base),
                "ui_high_pct": pct(r.diff_ui_high, base),
                "ci_low_pct": pct(r.diff_ci_low, base),
                "ci_high_pct": pct(r.diff_ci_high, base),
                "members": int(r.parameter_sets),
                "pairs": int(r.replicates) if not pd.isna(r.replicates) else math.nan,
            }
        )
    headline = pd.DataFrame(rows)
    decides = []
    k = len(ensemble.parameters)
    for name in names:
        part = whole[whole["scenario"] == name]
        frame = screening(part, ensemble, OUTPUTS)
        if frame.empty:
            continue
        frame.insert(0, "scenario", name)
        frame["p_value"] = [
            correlation_p(r, n) for r, n in zip(frame["r"], frame["sets"], strict=True)
        ]
        frame["decides"] = frame["p_value"] < ALPHA / k
        frame["rank"] = frame.groupby("output").cumcount() + 1
        decides.append(frame)
    decides_frame = pd.concat(decides, ignore_index=True) if decides else pd.DataFrame()
    return headline, decides_frame, len(ensemble.ids), seeds


def critical_r2(sets: int, parameters: int, alpha: float = ALPHA) -> float:
    """Smallest r2 of one parameter that is beyond chance (Bonferroni over ``parameters``)."""
    if sets < 3:
        return math.nan
    t = float(stats.t.ppf(1.0 - alpha / (2.0 * parameters), sets - 2))
    return t * t / (t * t + sets - 2)


def critical_note(decides: pd.DataFrame) -> str:
    """How large an r2 must be, with these members, to tell a parameter from chance."""
    sets = int(decides["sets"].max())
    k = int(decides["parameter"].nunique())
    r2 = critical_r2(sets, k)
    text = (
        f"With {sets} members and {k} parameters, one parameter's r2 must exceed {r2:.2f} to "
        "be beyond chance."
    )
    if sets < 8:
        text += (
            f" **With only {sets} members the top parameters are mostly chance: read this "
            "table as the format of the answer, not as the answer.**"
        )
    return text + "\n"


def _cell(r: Any) -> str:
    if not math.isfinite(r.effect_pct):
        return "–"
    return cell(r.effect_pct, r.ui_low_pct, r.ui_high_pct)


def _short(parameter: str) -> str:
    return (
        parameter.replace("deterrence.", "")
        .replace("research.", "")
        .replace("knowledge.", "knowledge.")
    )


def write_markdown(
    headline: pd.DataFrame,
    decides: pd.DataFrame,
    path: Path,
    note: str,
    unsourced: list[str],
) -> None:
    """docs/results/effects.md: headline effects, what decides each, and a closing note."""
    lines = [
        "# Policy effects with parameter uncertainty, and what decides them",
        "",
        note,
        "",
        "Change over the reported years against the baseline, % of the baseline: the mean "
        "over members of the paired effect, [95% uncertainty interval across members: "
        "parameter uncertainty and noise]. `effects_headline.csv` also has the confidence "
        "interval of the mean.",
        "",
        "| scenario | " + " | ".join(OUTPUTS) + " |",
        "|---|" + "---|" * len(OUTPUTS),
    ]
    for name, group in headline.groupby("scenario", sort=True):
        g = group.set_index("output")
        cells = [_cell(g.loc[o]) if o in g.index else "–" for o in OUTPUTS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## What decides each answer",
        "",
        "For each scenario and output, the parameter whose value across members moves the "
        "effect most (r2: share of the effect's spread across members it alone accounts "
        "for; slope per sd of the parameter, in the output's units). **Bold**: beyond "
        f"chance (p < {ALPHA:g} / number of parameters); otherwise the spread is not told "
        "apart from noise. Every parameter's row is in `effects_decides.csv`.",
        "",
        *([critical_note(decides)] if not decides.empty else []),
        "| scenario | " + " | ".join(OUTPUTS) + " |",
        "|---|" + "---|" * len(OUTPUTS),
    ]
    if not decides.empty:
        for name, group in decides.groupby("scenario", sort=True):
            cells = []
            for o in OUTPUTS:
                top = group[(group["output"] == o) & (group["rank"] == 1)]
                if top.empty or not math.isfinite(top["r2"].iloc[0]):
                    cells.append("–")
                    continue
                t = top.iloc[0]
                text = f"{_short(t.parameter)} (r2 {t.r2:.2f})"
                cells.append(f"**{text}**" if t.decides else text)
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        counts = decides[decides["decides"]].groupby("parameter").size()
        counts = counts.sort_values(ascending=False)
        lines += ["", "## What drives the effects now", ""]
        if counts.empty:
            lines.append(
                "No parameter moves any effect beyond chance with these members: the "
                "effects' spread across members is not told apart from replicate noise. "
                "More members (or seeds per member) would be needed to rank the assumptions."
            )
        else:
            lines.append(
                "Parameters that decide an effect beyond chance, and in how many of the "
                "scenario x output cells: "
                + ", ".join(f"`{p}` ({n})" for p, n in counts.items())
                + "."
            )
    lines += [
        "",
        "Assumptions with no data (their prior's note in `scenarios/calibration/priors.yaml` "
        "says *assumption*; the calibration targets do not pin them, so every interval "
        "above carries them): " + ", ".join(f"`{p}`" for p in unsourced) + ".",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def unsourced_priors(path: Path = PRIORS) -> list[str]:
    """Priors whose note begins with "Assumption" (no measurement found)."""
    priors = yaml.safe_load(path.read_text(encoding="utf-8")).get("priors", {})
    return [k for k, v in priors.items() if str(v.get("note", "")).lower().startswith("assum")]


def main(argv: list[str] | None = None) -> int:
    """Run (or read) the scenarios and write the page and its CSV files; 0, or 2."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ensemble", default=str(ENSEMBLE))
    parser.add_argument("--members", type=int, default=16, help="members used (default 16)")
    parser.add_argument("--replications", type=int, default=1, help="seeds per member (1)")
    parser.add_argument("--scale", type=float, help="agent scale (default: the scenarios' 0.1)")
    parser.add_argument(
        "--min-pairs",
        type=int,
        default=8,
        help="fewest paired replicates per scenario: more seeds per member when the ensemble "
        "has fewer members (default 8)",
    )
    parser.add_argument("--steps", type=int, help="reported months (default: the scenarios')")
    parser.add_argument("--jobs", type=int, default=2, help="scenarios run at once (2)")
    parser.add_argument("--out", default="results/effects")
    parser.add_argument("--docs", default=str(DOCS))
    parser.add_argument("--scenarios", nargs="*", help="scenario files (default scenarios/*.yaml)")
    parser.add_argument("--report-only", action="store_true", help="read --out/runs, run nothing")
    args = parser.parse_args(argv)
    if args.members < 3 or args.replications < 1 or args.jobs < 1:
        print(
            "scenario_effects.py: --members >= 3, --replications and --jobs >= 1", file=sys.stderr
        )
        return 2
    ensemble = Path(args.ensemble)
    if not (ensemble / "ensemble.csv").is_file():
        print(
            f"scenario_effects.py: {ensemble} holds no ensemble.csv; run scripts/fit_v3.py first",
            file=sys.stderr,
        )
        return 2
    out, docs = Path(args.out), Path(args.docs)
    files = (
        [Path(s) for s in args.scenarios]
        if args.scenarios
        else sorted((ROOT / "scenarios").glob("*.yaml"))
    )
    baseline = ROOT / "scenarios" / "baseline.yaml"
    if all(f.resolve() != baseline for f in files):
        files = [baseline, *files]
    names = [f.stem for f in files if f.resolve() != baseline]
    t0 = time.time()
    seconds: dict[str, float] = {}
    if not args.report_only:
        if (out / "ensembles").exists():
            shutil.rmtree(out / "ensembles")
        available = len(pd.read_csv(ensemble / "ensemble.csv"))
        if available < args.members:
            _log(f"{ensemble} has {available} members, fewer than --members {args.members}")
        used = min(args.members, available)
        replications = max(args.replications, math.ceil(args.min_pairs / max(used, 1)))
        if replications > args.replications:
            _log(
                f"{used} members x {args.replications} seed(s) < --min-pairs {args.min_pairs}: "
                f"{replications} seeds per member"
            )
        seconds = run_all(
            [f.resolve() for f in files], ensemble, args.members, replications,
            args.scale, args.jobs, out, args.steps,
        )  # fmt: skip
    took = time.time() - t0
    headline, decides, members, seeds = effects(out, names)
    write_csvs(docs, "effects", {"headline": headline, "decides": decides})
    scale = args.scale if args.scale is not None else "the scenarios' own (0.1)"
    note = (
        f"Made by `python scripts/scenario_effects.py` on {time.strftime('%Y-%m-%d')}: "
        f"{len(names)} scenarios against the baseline at scale {scale}, the first {members} "
        f"members of `{ensemble.name}` x {seeds} common seed(s) = {members * seeds} paired "
        "replicates per scenario, each member its own parameter set"
        + (f"; {took / 60:.1f} minutes with {args.jobs} jobs." if seconds else ".")
    )
    write_markdown(headline, decides, docs / "effects.md", note, unsourced_priors())
    print(note)
    print(f"written: {docs / 'effects.md'}, effects_headline.csv, effects_decides.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
