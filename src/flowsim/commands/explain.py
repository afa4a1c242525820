"""``flowsim explain POLICY_DIR BASELINE_DIR``: a policy's effect split by channel, adding up."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowsim.commands.executor_options import add_executor_arguments, client_security
from flowsim.outputs import REPORTED
from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError

NAME = "explain"
HELP = (
    "split a policy's effect on each headline output into the contributions of its channels "
    "(collaboration, data, samples, capital, mobility, relocation into zones) and of levers "
    "outside them, as Shapley values that add up to the total; per year with 95 percent "
    "intervals, like compare; on every core or a Dask cluster like sweep"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim explain``."""
    from flowsim.channels import DEFAULT_PERMUTATIONS, METHODS

    parser.add_argument("policy", metavar="POLICY_DIR", help="run folder of the policy")
    parser.add_argument("baseline", metavar="BASELINE_DIR", help="run folder of its baseline")
    parser.add_argument(
        "--outputs", nargs="+", metavar="NAME", help="outputs to decompose (default: headline)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="folder for explain.csv, explain.txt and explain.png "
        "(default: results/explain-<policy>-<time>)",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="exact",
        help="exact: every subset of the channels the policy touches (2^k runs per replicate); "
        "sampled: --permutations random orders per replicate (fewer runs, sampling error "
        "inside the intervals). Default: exact",
    )
    parser.add_argument(
        "--permutations",
        type=int,
        default=None,
        metavar="M",
        help=f"orders per replicate with --method sampled (default {DEFAULT_PERMUTATIONS})",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the channels, the number of runs and an estimate of their time; run nothing",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_executor_arguments(parser)


def _error(message: str) -> int:
    print(f"flowsim explain: error: {message}", file=sys.stderr)
    return 2


def _read(folder: str) -> tuple[Any, Any, Any]:
    """The folder's scenario, its units (seed and parameter set per replicate), its ensemble."""
    from flowsim.explain import ExplainError, Unit
    from flowsim.folders import read_run_folder

    data = read_run_folder(folder)
    scenario = load_scenario(Path(folder) / "scenario.resolved.yaml")
    ensemble = data.manifest.get("ensemble")
    seeds = [int(s) for s in data.manifest.get("seeds", [])]
    if not seeds:
        raise ExplainError(f"{folder}/manifest.json lists no seeds; write the folder again")
    if not ensemble:
        return scenario, [Unit(s) for s in seeds], None
    sets = {}
    for entry in ensemble.get("sets") or []:
        values = dict(entry)
        set_id = int(values.pop("parameter_set"))
        sets[set_id] = {k: float(v) for k, v in values.items()}
    yearly = data.yearly
    if "parameter_set" not in yearly.columns or not sets:
        raise ExplainError(
            f"{folder}: the manifest names an ensemble but the tables have no parameter sets; "
            "run the folder again with `flowsim run --ensemble DIR`"
        )
    pairs = yearly.groupby("replicate")[["parameter_set", "seed"]].first()
    units = []
    for set_id, seed in pairs.itertuples(index=False):
        if int(set_id) not in sets:
            raise ExplainError(
                f"{folder}: parameter set {int(set_id)} ran but the manifest does not list its "
                "values; run the folder again"
            )
        units.append(Unit(int(seed), int(set_id), sets[int(set_id)]))
    return scenario, units, ensemble


def _check_pair(policy_run: tuple, baseline_run: tuple) -> str | None:
    """Why two folders cannot be explained together (None if they can)."""
    (policy, units, ens), (baseline, base_units, base_ens) = policy_run, baseline_run
    if (ens is None) != (base_ens is None):
        which = "policy" if ens is not None else "baseline"
        return (
            f"the {which} folder is an ensemble run and the other is not: run both with the "
            "same `--ensemble DIR`, --replications and --seed"
        )
    if ens is not None and ens.get("sha256") != base_ens.get("sha256"):
        return (
            "the two folders ran different ensembles (their manifests' ensemble.sha256 "
            "differ): run both with the same `--ensemble DIR`"
        )
    key = [(u.parameter_set, u.seed) for u in units]
    if key != [(u.parameter_set, u.seed) for u in base_units]:
        return (
            "the two folders were run with different seeds"
            + (" or parameter sets" if ens is not None else "")
            + "; run both with the same seed and replications (common random numbers)"
        )
    for field in ("scale", "steps", "warmup_steps"):
        a, b = getattr(policy, field), getattr(baseline, field)
        if a != b:
            return f"{field} differs ({a} vs {b}); run both at the same {field}"
    return None


def _default_out(name: str) -> Path:
    """``results/explain-<name>-<time>``, the name reduced to letters, digits, ``-_.``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "policy"
    return Path("results") / f"explain-{safe}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def main(args: argparse.Namespace) -> int:
    """Print the estimate, run, print the decomposition and write its files; exit 2 on bad input."""
    from flowsim.explain import (
        DEFAULT_PERMUTATIONS,
        ExplainError,
        explain,
        format_table,
        plan_explanation,
        summarise,
        time_one_run,
        write_outputs,
    )
    from flowsim.folders import FolderError
    from flowsim.progress import progress_bar
    from flowsim.sweep.estimate import format_duration
    from flowsim.sweep.executor import default_workers

    outputs = args.outputs or None
    if outputs is not None:
        unknown = [o for o in outputs if o not in REPORTED]
        if unknown:
            return _error(f"unknown output(s) {unknown}; outputs are {', '.join(REPORTED)}")
    security, problem = client_security(args, "explain")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    try:
        policy_run = _read(args.policy)
        baseline_run = _read(args.baseline)
    except (FolderError, ConfigError, ExplainError, OSError, ValueError) as err:
        return _error(str(err))
    problem = _check_pair(policy_run, baseline_run)
    if problem:
        return _error(problem)
    policy, units, ensemble = policy_run
    baseline = baseline_run[0]
    out = Path(args.out) if args.out else _default_out(policy.name)
    from contextlib import ExitStack

    from flowsim.diskio import FolderLockedError, output_lock

    with ExitStack() as stack:
        try:  # a second explain into the same folder is refused, not interleaved
            stack.enter_context(output_lock(out, what="explain folder"))
        except FolderLockedError as err:
            return _error(str(err))
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            return _error(f"{out} exists and is not an empty folder; give another --out")
        if args.permutations is not None and args.method != "sampled":
            return _error("--permutations is for --method sampled (exact runs every subset)")
        permutations = args.permutations if args.permutations is not None else DEFAULT_PERMUTATIONS
        try:
            plan = plan_explanation(policy, baseline, units, args.method, permutations)
        except ExplainError as err:
            return _error(str(err))
        from flowsim.explain import HEADLINE

        outputs = outputs or list(HEADLINE)
        workers = args.workers or default_workers()
        kind = (
            f"{len({u.parameter_set for u in units})} parameter sets x "
            f"{len({u.seed for u in units})} seeds"
            if ensemble
            else f"{len(units)} replicates"
        )
        print(
            f"explain {policy.name} vs {baseline.name}: channels the policy touches: "
            f"{', '.join(plan.players) or 'none'}"
            + (f" (untouched, exactly 0: {', '.join(plan.untouched)})" if plan.untouched else ""),
            file=sys.stderr,
        )
        per_unit = plan.n_runs // len(units)
        timing = time_one_run(policy, units[0].seed)
        where = args.scheduler or f"{workers} worker{'s' if workers != 1 else ''}"
        print(
            f"  {plan.n_runs} runs = {kind} x ({per_unit - 1} {plan.method} configurations + the "
            f"baseline); one run about {format_duration(timing.seconds_per_run)} (timed: set-up "
            f"{format_duration(timing.setup_seconds)} + {policy.steps} months x "
            f"{format_duration(timing.step_seconds)}); all runs about "
            f"{format_duration(timing.total(plan.n_runs, workers))} on {where} (ideal speed-up)",
            file=sys.stderr,
        )
        if len(units) < 2:
            print(
                "  warning: one replicate: the parts add up, but they have no interval and "
                "cannot be told from noise; run both folders with --replications 8 or more",
                file=sys.stderr,
            )
        if args.dry_run:
            return 0
        started = datetime.now(UTC)
        try:
            with progress_bar(
                plan.n_runs, desc="explain", unit="run", file=sys.stderr, disable=args.quiet
            ) as bar:
                parts = explain(
                    policy,
                    baseline,
                    plan,
                    outputs,
                    workers=workers,
                    scheduler=args.scheduler,
                    security=security,
                    progress=bar.update,
                )
        except ExplainError as err:
            print(f"flowsim explain: {err}", file=sys.stderr)
            return 1
        took = (datetime.now(UTC) - started).total_seconds()
        summary = summarise(parts)
        what = (
            f"mean over {kind} (each set applied to the policy and the baseline), 95% CI over sets"
            if ensemble
            else f"mean over {len(units)} replicates with common seeds, 95% CI"
        )
        text = "\n".join(
            [
                f"{policy.name} vs {baseline.name}: effect per year by channel, Shapley values "
                f"({plan.method}); the parts add up to the total; {what}; scale {policy.scale}, "
                f"{policy.steps} months. Columns: per year, 95% interval, % of the baseline.",
                format_table(summary),
                f"{plan.n_runs} runs in {format_duration(took)}.",
            ]
        )
        print(text)
        try:
            write_outputs(
                out,
                parts,
                summary,
                text,
                f"{policy.name} vs {baseline.name} (per year; {what})",
                [Path(args.policy), Path(args.baseline)],
            )
        except OSError as err:
            from flowsim.diskio import write_error_message

            print(
                f"flowsim explain: {write_error_message(err, f'the explanation in {out}')}",
                file=sys.stderr,
            )
            return 1
        print(f"wrote {out}: explain.csv, explain_replicates.csv, explain.txt, explain.png")
        return 0
