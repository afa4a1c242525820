"""``flowsim sweep FILE``: run a policy sweep on every core, a local or a remote Dask cluster."""

from __future__ import annotations

import argparse
import sys

NAME = "sweep"
HELP = "run a sweep file: a design of levers and uncertainties, with replications, in parallel"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``flowsim sweep``."""
    parser.add_argument("file", help="sweep YAML file (see scenarios/sweeps/)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=None,
        help="local Dask worker processes (default: every core); 1 runs in this process",
    )
    where.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="send the runs to an existing Dask scheduler instead",
    )
    parser.add_argument(
        "--scale", type=float, metavar="X", help="override the base scenario's agent scale"
    )
    parser.add_argument(
        "--steps", type=int, metavar="N", help="override the base scenario's months"
    )
    parser.add_argument(
        "--ensemble",
        metavar="DIR",
        help="run every design point with every parameter set of this ensemble folder (from "
        "`flowsim calibrate`), each with the sweep's replicate seeds; runs.parquet gets the "
        "sets' parameters and a parameter_set column (not with sobol or morris designs)",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the number of runs and an estimate of their time, run nothing",
    )
    parser.add_argument(
        "--resume", action="store_true", help="complete the unfinished sweep in --out"
    )
    parser.add_argument("--force", action="store_true", help="overwrite a previous sweep in --out")
    parser.add_argument(
        "--out", metavar="DIR", help="results folder (default results/sweep-<name>-<UTC time>)"
    )
    parser.add_argument(
        "--batch-size", type=int, metavar="N", help="runs per Parquet part (advanced)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def warn_levers(plan) -> None:
    """Print a warning for each lever that acts on too few agents at the sweep's scale.

    The levers are the base scenario's and the swept ones (see :mod:`flowsim.levers`).
    """
    from flowsim.levers import changed_levers, warnings_for

    levers = sorted({*changed_levers(plan.base), *plan.spec.factors})
    for message in warnings_for(plan.base, levers):
        print(message, file=sys.stderr)


def _dry_run(args: argparse.Namespace) -> int:
    from flowsim.sweep.estimate import TRIAL_STEPS, estimate, format_duration
    from flowsim.sweep.executor import default_workers
    from flowsim.sweep.plan import plan_sweep

    plan = plan_sweep(args.file, scale=args.scale, steps=args.steps, ensemble=args.ensemble)
    spec = plan.spec
    warn_levers(plan)
    print(
        f"sweep {spec.name!r}: design {spec.design}, {len(spec.factors)} factors "
        f"({len(spec.levers)} levers, {len(spec.uncertainties)} uncertainties)"
    )
    plural = "s" if spec.replications > 1 else ""
    size = f"{plan.n_points} design points x {spec.replications} replication{plural}"
    if plan.ensemble is not None:
        size = (
            f"{plan.n_points // len(plan.ensemble)} design points x {len(plan.ensemble)} "
            f"parameter sets (ensemble {plan.ensemble.path}) x {spec.replications} "
            f"replication{plural}"
        )
    print(f"  {size} = {plan.n_runs} runs")
    print(
        f"  base scenario: {plan.base_file or 'model defaults'} "
        f"(scale {plan.base.scale}, {plan.base.steps} months)"
    )
    guess = estimate(plan)
    print(
        f"  one run: about {format_duration(guess.seconds_per_run)} (timed: model set-up "
        f"{format_duration(guess.setup_seconds)} + a {TRIAL_STEPS}-month trial, extrapolated to "
        f"{plan.base.steps} months)"
    )
    if args.scheduler:
        print(
            f"  all runs: about {format_duration(guess.total(plan.n_runs, 1))} of worker time, "
            "divided by the cluster's worker threads"
        )
    else:
        workers = args.workers or default_workers()
        print(
            f"  all runs on {workers} worker{'s' if workers > 1 else ''}: about "
            f"{format_duration(guess.total(plan.n_runs, workers))} (ideal speed-up)"
        )
    return 0


def main(args: argparse.Namespace) -> int:
    """Run (or dry-run) a sweep; 0 if every run succeeded, 1 if some failed, 2 on bad input."""
    from flowsim.sweep.api import SweepError, sweep
    from flowsim.yamlio import ConfigError

    if args.workers is not None and args.workers < 1:
        print("flowsim sweep: --workers must be at least 1", file=sys.stderr)
        return 2
    try:
        if args.dry_run:
            return _dry_run(args)
        if not args.resume:
            from flowsim.sweep.plan import plan_sweep

            warn_levers(
                plan_sweep(args.file, scale=args.scale, steps=args.steps, ensemble=args.ensemble)
            )
        result = sweep(
            args.file,
            workers=args.workers,
            scheduler=args.scheduler,
            out=args.out,
            resume=args.resume,
            force=args.force,
            scale=args.scale,
            steps=args.steps,
            progress=not args.quiet,
            batch_size=args.batch_size,
            ensemble=args.ensemble,
        )
    except (ConfigError, SweepError) as exc:
        print(exc, file=sys.stderr)
        return 2
    failures = result.manifest["failures"]
    print(
        f"{result.manifest['runs']} runs in {result.path} "
        "(runs.parquet, timeseries.parquet, manifest.json)"
    )
    if failures:
        print(
            f"{len(failures)} runs failed; first error (run {failures[0]['run_id']}):\n  "
            + failures[0]["error"].splitlines()[0],
            file=sys.stderr,
        )
        return 1
    return 0
