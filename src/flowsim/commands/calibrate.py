"""``flowsim calibrate FILE``: screen, fit and validate the model against a targets file.

``flowsim calibrate FILE --screen`` runs the Morris screening
(:mod:`flowsim.calibration.screen`) and writes the free parameters it selects;
``flowsim calibrate FILE`` estimates them (:mod:`flowsim.calibration.fit`) and writes
the best scenario, the ensemble and the fit and validation reports
(:mod:`flowsim.calibration.report`).

Exit codes: 0 a calibration whose best trials meet every calibration target (an
ensemble is written); 1 a calibration that ran but that no trial met (``CALIBRATION
FAILED``: reports, no ensemble), or outputs that could not be written; 2 bad input
(the targets file, the options, an ``--out`` folder that is not a calibration).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from flowsim.commands.executor_options import (
    add_executor_arguments,
    client_security,
    scheduler_problem,
)

NAME = "calibrate"
HELP = (
    "fit free parameters to real figures (optuna), with a held-out validation report; "
    "--screen first picks the parameters that matter (Morris)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``flowsim calibrate``."""
    parser.add_argument("file", help="targets YAML file (see scenarios/calibration/)")
    add_executor_arguments(parser)
    parser.add_argument(
        "--screen",
        action="store_true",
        help="run the Morris screening of every behaviour parameter instead of the fit",
    )
    parser.add_argument(
        "--budget", type=int, metavar="N", help="trials in all (default: the file's search.budget)"
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue the calibration in --out from its log"
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="only (re)write the reports of the calibration in --out, run nothing",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="output folder (default results/calibration/<name>, <name>-screen for --screen)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    """Screen or calibrate; 0 on success, 2 on bad input."""
    from flowsim.calibration.ensemble import EnsembleError
    from flowsim.calibration.fit import CalibrationError, calibrate, finish
    from flowsim.calibration.screen import screen
    from flowsim.calibration.targets import load_targets
    from flowsim.diskio import FolderLockedError, output_lock
    from flowsim.folders import safe_name
    from flowsim.yamlio import ConfigError

    security, problem = client_security(args, "calibrate")
    problem = problem or scheduler_problem(args, security, "calibrate")
    if problem:
        print(problem, file=sys.stderr)
        return 2
    if args.budget is not None and args.budget < 1:
        print("flowsim calibrate: --budget must be at least 1", file=sys.stderr)
        return 2
    clash = [
        f"{a} and {b}"
        for a, b, given in (
            ("--resume", "--report", args.resume and args.report),
            ("--screen", "--resume", args.screen and args.resume),
            ("--screen", "--report", args.screen and args.report),
            ("--screen", "--budget", args.screen and args.budget is not None),
        )
        if given
    ]
    if clash:
        print(
            f"flowsim calibrate: {clash[0]} cannot be given together; --report rewrites the "
            "reports of a finished calibration, --resume continues one, --screen runs the "
            "screening (its size is the file's `screen:`)",
            file=sys.stderr,
        )
        return 2
    if (args.resume or args.report) and args.out is None:
        print(
            "flowsim calibrate: --resume and --report need --out (the calibration folder)",
            file=sys.stderr,
        )
        return 2
    try:
        targets = load_targets(args.file)
        name = targets.spec.name
        if args.screen:
            out = Path(args.out or f"results/calibration/{safe_name(name)}-screen")
            with output_lock(out, what="calibration folder"):  # one writer at a time
                result = screen(
                    targets,
                    out,
                    workers=args.workers,
                    scheduler=args.scheduler,
                    security=security,
                    progress=not args.quiet,
                )
            print(result.text())
            print(f"\nwritten to {out}: screen.csv, screen_summary.csv, free.yaml, screen.png")
            return 0
        out = Path(args.out or f"results/calibration/{safe_name(name)}")
        if not args.report:
            calibrate(
                targets,
                out,
                budget=args.budget,
                workers=args.workers,
                scheduler=args.scheduler,
                security=security,
                resume=args.resume,
                progress=not args.quiet,
            )
        with output_lock(out, what="calibration folder"):  # calibrate() holds it while it runs
            outcome = finish(targets, out)
    except (ConfigError, CalibrationError, EnsembleError, FolderLockedError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except (ConnectionError, TimeoutError) as exc:
        print(f"flowsim calibrate: the Dask cluster cannot be reached: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a folder made read-only: finished files are kept
        from flowsim.diskio import write_error_message

        where = args.out or "the calibration folder"
        message = write_error_message(exc, f"the calibration in {where}", group=False)
        print(
            f"flowsim calibrate: {message}; then `flowsim calibrate FILE --report --out {where}` "
            "finishes the report",
            file=sys.stderr,
        )
        return 1
    print(outcome.text())
    if outcome.failed:
        print(
            f"\nwritten to {out}: best.yaml (the closest miss), fit.csv, validation.csv, "
            "fit.png, trials.jsonl, trials.csv, report.txt; no ensemble",
        )
        print(
            "flowsim calibrate: CALIBRATION FAILED: no trial met every calibration target "
            f"(see {out / 'report.txt'}); exit 1",
            file=sys.stderr,
        )
        return 1
    print(
        f"\nwritten to {out}: best.yaml, ensemble.csv, ensemble.yaml, fit.csv, validation.csv, "
        "fit.png, trials.jsonl, trials.csv, report.txt"
    )
    return 0
