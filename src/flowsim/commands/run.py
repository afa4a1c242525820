"""``flowsim run FILE``: run a scenario's replicates and write a results folder."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowsim.diskio import FolderLockedError, clean_stale, interrupt_exit_code
from flowsim.replication import DEFAULT_REPLICATES
from flowsim.scenario import load_scenario, parse_settings  # noqa: F401 (re-exported)
from flowsim.yamlio import ConfigError, printable

if TYPE_CHECKING:
    from flowsim.ensemble import Ensemble
    from flowsim.params import Scenario
    from flowsim.run import RunResult

NAME = "run"
HELP = "run a scenario and write a results folder (time series, flows, summary, manifest)"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: give 1 or more")
    return value


def run(*args: Any, **kwargs: Any) -> Any:
    """:func:`flowsim.run.run`, imported on first use (Mesa is slow to import)."""
    from flowsim.run import run as run_model

    return run_model(*args, **kwargs)


def _option_name(path: str, args: argparse.Namespace) -> str:
    """The option that set a scenario key: ``--scale`` or ``--set talent.move_rate``."""
    if path in ("seed", "steps", "scale") and getattr(args, path) is not None:
        return f"--{path}"
    return path if path.startswith("--") else f"--set {path}"


def _ensemble(folder: Path, scenario: Scenario, allow_misfit: bool = False) -> Ensemble:
    """Read the ensemble and check every set against the scenario before any run."""
    from flowsim.ensemble import check_ensemble, lost_changes_warning, read_parameter_sets

    ensemble = read_parameter_sets(folder, allow_misfit=allow_misfit)
    check_ensemble(ensemble, scenario)
    warning = lost_changes_warning(ensemble, scenario)
    if warning:
        print(warning, file=sys.stderr)
    return ensemble


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim run``."""
    parser.add_argument("file", metavar="FILE", help="scenario YAML file")
    parser.add_argument("--seed", type=int, help="root seed (overrides the scenario's `seed`)")
    parser.add_argument("--steps", type=int, help="months to simulate (overrides `steps`)")
    parser.add_argument(
        "--scale", type=float, help="agents per real entity, e.g. 0.01 (overrides `scale`)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        dest="settings",
        help="override any scenario value by its dotted key, e.g. "
        "--set policy.corridors.GD-HK.data.approval=0.7 (VALUE is read as YAML; repeatable)",
    )
    parser.add_argument(
        "--steady-state",
        action="store_true",
        help="keep the policy in force through the warm-up and report its 15-year steady "
        "state (labelled so), instead of its introduction at timing.start (the default)",
    )
    parser.add_argument(
        "--replications",
        type=_positive_int,
        default=DEFAULT_REPLICATES,
        metavar="N",
        help="replicates, each with a seed spawned from the root seed (default "
        f"{DEFAULT_REPLICATES}: at scale 0.1 a paired comparison of 8 replicates detects a "
        "change of papers of about 2.4%%, of 3 only about 7%%; see docs/compare.md)",
    )
    parser.add_argument(
        "--ensemble",
        type=Path,
        metavar="DIR",
        help="run every parameter set of this ensemble folder (from `flowsim calibrate`) on "
        "top of the scenario, each with --replications replicates and the same seeds; tables "
        "get a parameter_set column and the manifest each set's values",
    )
    parser.add_argument(
        "--allow-misfit",
        action="store_true",
        help="with --ensemble: run members that miss their calibration targets (refused otherwise)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder to create (default: results/<name>-<UTC time>)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the --out folder if it exists"
    )
    parser.add_argument(
        "--no-cache",
        action="store_true",
        help="run every warm-up instead of reading it from the warm-start cache (the results "
        "are the same, bit for bit; `flowsim cache info`)",
    )
    parser.add_argument(
        "--agents",
        action="store_true",
        help="also write agents.parquet: every firm and lab with its name (named anchors), "
        "city, field, founding and closing month, patents, PCT applications, papers and VC "
        "raised (docs/outputs.md)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no tables")


def main(args: argparse.Namespace) -> int:
    """Load, run, write; exit 2 on bad input, 1 if the run fails, 128 + signal if stopped."""
    # heavy modules (Mesa, pandas) only when a run is asked for: `flowsim --help` stays quick
    from flowsim.ensemble import EnsembleError, check_ensemble
    from flowsim.progress import progress_bar
    from flowsim.results import (
        IncompleteResultsError,
        ResultsExistError,
        check_out_dir,
        check_writable,
        command_line,
        default_out_dir,
        is_results_folder,
        user_entries,
        write_run,
    )
    from flowsim.streams import replicate_seeds
    from flowsim.tables import headline_text

    overrides = {
        key: getattr(args, key)
        for key in ("seed", "steps", "scale")
        if getattr(args, key) is not None
    }
    try:
        settings = list(args.settings)
        if getattr(args, "steady_state", False):
            settings.append("timing.steady_state=true")
        scenario = load_scenario(args.file, overrides=overrides, settings=settings)
        ensemble = (
            _ensemble(args.ensemble, scenario, args.allow_misfit)
            if args.ensemble is not None
            else None
        )
        out_dir = args.out if args.out is not None else default_out_dir(scenario)
        check_out_dir(out_dir, args.force)
        check_writable(out_dir)
    except ConfigError as err:
        # name the option the user typed, not the scenario key it overrides
        problems = [
            dataclasses.replace(p, path=_option_name(p.path, args))
            if p.file == "command line"
            else p
            for p in err.problems
        ]
        print(ConfigError(problems).report(), file=sys.stderr)
        return 2
    except (ResultsExistError, IncompleteResultsError) as err:
        print(err, file=sys.stderr)
        return 2
    except EnsembleError as err:
        print(f"flowsim run: error: --ensemble {err}", file=sys.stderr)
        return 2
    for note in clean_stale(out_dir.parent):
        print(f"note: {note}", file=sys.stderr)
    existed = is_results_folder(out_dir)
    kept = user_entries(out_dir) if existed else []

    from flowsim.levers import warnings_for

    for message in warnings_for(scenario):
        print(message, file=sys.stderr)

    seeds = replicate_seeds(scenario.seed, args.replications)
    started = datetime.now(UTC)
    results: list[RunResult] = []
    members = check_ensemble(ensemble, scenario) if ensemble is not None else [scenario]
    set_ids = ensemble.ids if ensemble is not None else (None,)
    try:
        total = len(members) * len(seeds) * scenario.steps
        with progress_bar(total, unit="month", disable=args.quiet, file=sys.stderr) as bar:
            for set_id, member in zip(set_ids, members, strict=True):
                where = "" if set_id is None else f" set {set_id} ({len(members)} sets)"
                for replicate, seed in enumerate(seeds):
                    bar.set_description(
                        f"{printable(scenario.name)}{where} replicate {replicate + 1}/{len(seeds)}"
                    )
                    result = run(
                        member,
                        seed,
                        progress=bar.update,
                        cache=False if getattr(args, "no_cache", False) else None,
                        agents=getattr(args, "agents", False),
                    )
                    if set_id is not None:
                        result.extra["parameter_set"] = set_id
                    results.append(result)
        finished = datetime.now(UTC)
        written = write_run(
            results,
            scenario,
            out_dir,
            force=args.force,
            started=started,
            finished=finished,
            command=getattr(args, "command_line", None) or command_line(),
            scenario_file=str(args.file),
            ensemble=ensemble.record(args.replications) if ensemble is not None else None,
        )
    except KeyboardInterrupt as err:
        print(f"interrupted: {_what_is_at(out_dir, started, existed)}", file=sys.stderr)
        return interrupt_exit_code(err)
    except (ResultsExistError, IncompleteResultsError, FolderLockedError) as err:
        print(err, file=sys.stderr)
        return 2
    except Exception as err:  # a bug or a full disk: say so briefly, leave no partial results
        if os.environ.get("FLOWSIM_DEBUG"):
            raise
        print(
            f"run failed: {type(err).__name__}: {err}\n    {_what_is_at(out_dir, started, existed)}"
            "; set FLOWSIM_DEBUG=1 to see the traceback",
            file=sys.stderr,
        )
        return 1

    if not args.quiet:
        if ensemble is not None:
            print(
                f"Ensemble {ensemble.path}: {len(ensemble)} parameter sets x "
                f"{args.replications} replicates (means below are over all of them)\n"
            )
        print(headline_text(results))
    if kept:
        print(f"note: {_kept_note(written, kept)}", file=sys.stderr)
    print(f"results: {written}")
    return 0


def _what_is_at(out_dir: Path, started: datetime, existed: bool) -> str:
    """A true sentence on what ``out_dir`` holds after an interrupted or failed run."""
    import json

    stamp = started.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    try:
        record = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
        ours = isinstance(record, dict) and record.get("started") == stamp
    except (OSError, ValueError):
        ours = False
    if ours:
        return f"the new results were complete and are in {out_dir}"
    from flowsim.results import is_results_folder

    if existed and is_results_folder(out_dir):
        return f"no new results were written; {out_dir} still holds the earlier results"
    return "no results were written"


def _kept_note(folder: Path, kept: list[str]) -> str:
    """The sentence that lists what --force kept of the user's in a replaced folder."""
    shown = ", ".join(kept[:10]) + (f" and {len(kept) - 10} more" if len(kept) > 10 else "")
    return (
        f"--force replaced only flowsim's files in {folder}; kept what you had added: {shown} "
        "(anything made from the earlier results, such as figures, is now out of date)"
    )
