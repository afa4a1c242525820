"""``flowsim sweep FILE``: run a policy sweep on every core, a local or a remote Dask cluster."""

from __future__ import annotations

import argparse
import os
import sys
import warnings

from flowsim.commands.executor_options import add_executor_arguments, client_security

NAME = "sweep"
HELP = "run a sweep file: a design of levers and uncertainties, with replications, in parallel"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``flowsim sweep``."""
    parser.add_argument("file", help="sweep YAML file (see scenarios/sweeps/)")
    add_executor_arguments(parser)
    parser.add_argument(
        "--scale", type=float, metavar="X", help="override the base scenario's agent scale"
    )
    parser.add_argument(
        "--steps", type=int, metavar="N", help="override the base scenario's months"
    )
    parser.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help="override the sweep file's `samples:` (lhs, monte_carlo, sobol N, morris "
        "trajectories), for a quicker look",
    )
    parser.add_argument(
        "--replications", type=int, metavar="N", help="override the sweep file's `replications:`"
    )
    parser.add_argument(
        "--ensemble",
        metavar="DIR",
        help="run every design point with every parameter set of this ensemble folder (from "
        "`flowsim calibrate`), each with the sweep's replicate seeds; runs.parquet gets the "
        "sets' parameters and a parameter_set column (not with sobol or morris designs)",
    )
    parser.add_argument(
        "--allow-misfit",
        action="store_true",
        help="with --ensemble: run members that miss their calibration targets (refused otherwise)",
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
    parser.add_argument(
        "--yes",
        action="store_true",
        help="run a sweep of more than 100,000 runs (see --dry-run for its size)",
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="run every warm-up instead of sharing it through the warm-start cache (the "
        "results are the same, bit for bit; `flowsim cache info`)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def warn_levers(plan) -> None:  # a SweepPlan or a SweepCount: both have .base and .spec
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
    from flowsim.sweep.plan import MAX_RUNS, count_sweep, plan_sweep, size_problem

    count = count_sweep(
        args.file,
        scale=args.scale,
        steps=args.steps,
        samples=args.samples,
        replications=args.replications,
        ensemble=args.ensemble,
    )
    spec = count.spec
    warn_levers(count)
    print(
        f"sweep {spec.name!r}: design {spec.design}, {len(spec.factors)} factors "
        f"({len(spec.levers)} levers, {len(spec.uncertainties)} uncertainties)"
    )
    plural = "s" if spec.replications > 1 else ""
    size = f"{count.n_points:,} design points x {spec.replications} replication{plural}"
    if count.ensemble is not None:
        size = (
            f"{count.n_points // len(count.ensemble):,} design points x {len(count.ensemble)} "
            f"parameter sets (ensemble {count.ensemble.path}) x {spec.replications} "
            f"replication{plural}"
        )
    print(f"  {size} = {count.n_runs:,} runs")
    print(
        f"  base scenario: {count.base_file or 'model defaults'} "
        f"(scale {count.base.scale}, {count.base.steps} months)"
    )
    refused = size_problem(count.n_runs, args.yes, str(args.file))
    if count.n_runs > MAX_RUNS:
        print(
            f"  too large to plan here: {refused.message}"
            if refused is not None
            else "  more than 100,000 runs: allowed by --yes"
        )
        return 2 if refused is not None else 0
    with warnings.catch_warnings():  # count_sweep has warned about the ensemble already
        warnings.simplefilter("ignore", UserWarning)
        plan = plan_sweep(
            args.file,
            scale=args.scale,
            steps=args.steps,
            samples=args.samples,
            replications=args.replications,
            yes=args.yes,
            ensemble=count.ensemble,
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
    """Run (or dry-run) a sweep.

    Exit 0 if every run succeeded; 1 if some runs failed or the results could not be
    written (a full disk: the finished runs are kept, resume later); 2 on bad input
    (the file, the folder, the scheduler); 128 + the signal's number if interrupted
    (130 for Ctrl-C), the finished runs kept for ``--resume``.
    """
    from flowsim.diskio import interrupt_exit_code
    from flowsim.sweep.api import SweepError, sweep
    from flowsim.yamlio import ConfigError

    security, problem = client_security(args, "sweep")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.batch_size is not None and args.batch_size < 1:
        print(
            "flowsim sweep: --batch-size must be at least 1 (runs per Parquet part)",
            file=sys.stderr,
        )
        return 2
    if args.scheduler and args.scheduler.startswith("tcp://") and not args.dry_run:
        print(
            f"flowsim sweep: note: {args.scheduler} is plain tcp://: anyone who can reach it can "
            "run code in its workers; prefer a TLS cluster (tls://, see README)",
            file=sys.stderr,
        )
    if args.ensemble is not None and args.allow_misfit:  # read here: the plan refuses misfits
        from flowsim.ensemble import EnsembleError, read_parameter_sets

        try:
            args.ensemble = read_parameter_sets(args.ensemble, allow_misfit=True)
        except EnsembleError as err:
            print(f"flowsim sweep: error: --ensemble {err}", file=sys.stderr)
            return 2
    try:
        if args.dry_run:
            return _dry_run(args)
        if not args.resume:
            from flowsim.sweep.plan import count_sweep

            warn_levers(
                count_sweep(args.file, scale=args.scale, steps=args.steps, ensemble=args.ensemble)
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
            samples=args.samples,
            replications=args.replications,
            security=security,
            yes=args.yes,
            ensemble=args.ensemble,
            cache=not args.no_cache,
        )
    except (ConfigError, SweepError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print(f"\ninterrupted: {_resume_hint(args)}", file=sys.stderr)
        return interrupt_exit_code(exc)
    except OSError as exc:
        if os.environ.get("FLOWSIM_DEBUG"):
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        print(
            f"flowsim sweep: cannot write the results{where}: {exc.strerror or exc}\n"
            f"    {_resume_hint(args)}",
            file=sys.stderr,
        )
        return 1
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


def _resume_hint(args: argparse.Namespace) -> str:
    """Where the finished runs are and how to go on (they are kept in the folder's parts/)."""
    if args.out is None:
        return (
            "the finished runs are kept in the sweep's folder (see results/sweep-*); complete "
            f"it with `flowsim sweep {args.file} --resume --out FOLDER`"
        )
    return (
        f"the finished runs are kept in {args.out}; complete the sweep with "
        f"`flowsim sweep {args.file} --resume --out {args.out}`"
    )
