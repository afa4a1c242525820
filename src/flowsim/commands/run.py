"""``flowsim run FILE``: run a scenario's replicates and write a results folder."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml
from tqdm import tqdm

from flowsim.ensemble import (
    Ensemble,
    EnsembleError,
    check_ensemble,
    lost_changes_warning,
    read_parameter_sets,
)
from flowsim.params import Scenario
from flowsim.results import (
    IncompleteResultsError,
    ResultsExistError,
    check_out_dir,
    command_line,
    default_out_dir,
    write_run,
)
from flowsim.run import RunResult, run
from flowsim.scenario import apply_overrides, load_scenario
from flowsim.streams import replicate_seeds
from flowsim.tables import headline_text
from flowsim.yamlio import ConfigError, Problem

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


def parse_settings(settings: list[str]) -> dict[str, object]:
    """``["talent.move_rate=0.02"]`` -> ``{"talent.move_rate": 0.02}``, each value read as YAML.

    Raises:
        ConfigError: a setting without ``=`` or whose value is not valid YAML.
    """
    out: dict[str, object] = {}
    problems = []
    for setting in settings:
        key, sep, text = setting.partition("=")
        if not sep or not key.strip():
            problems.append(
                Problem(
                    "command line",
                    None,
                    None,
                    f"--set {setting}",
                    "expected KEY=VALUE",
                    hint="e.g. --set policy.corridors.GD-HK.data.approval=0.7",
                )
            )
            continue
        try:
            out[key.strip()] = yaml.safe_load(text) if text.strip() else None
        except yaml.YAMLError:
            problems.append(
                Problem(
                    "command line", None, None, f"--set {setting}", "the value is not valid YAML"
                )
            )
    if problems:
        raise ConfigError(problems)
    return out


def _option_name(path: str, args: argparse.Namespace) -> str:
    """The option that set a scenario key: ``--scale`` or ``--set talent.move_rate``."""
    if path in ("seed", "steps", "scale") and getattr(args, path) is not None:
        return f"--{path}"
    return path if path.startswith("--") else f"--set {path}"


def _ensemble(folder: Path, scenario: Scenario) -> Ensemble:
    """Read the ensemble and check every set against the scenario before any run."""
    ensemble = read_parameter_sets(folder)
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
        "--replications",
        type=_positive_int,
        default=1,
        metavar="N",
        help="replicates, each with a seed spawned from the root seed (default 1)",
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
        "--out",
        type=Path,
        metavar="DIR",
        help="results folder to create (default: results/<name>-<UTC time>)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace the --out folder if it exists"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no tables")


def main(args: argparse.Namespace) -> int:
    """Load, run, write; exit 2 on bad input, 1 if the run fails, 0 on success."""
    overrides = {
        key: getattr(args, key)
        for key in ("seed", "steps", "scale")
        if getattr(args, key) is not None
    }
    try:
        overrides = {**parse_settings(args.settings), **overrides}
        scenario = apply_overrides(load_scenario(args.file), overrides, source="command line")
        ensemble = _ensemble(args.ensemble, scenario) if args.ensemble is not None else None
        out_dir = args.out if args.out is not None else default_out_dir(scenario)
        check_out_dir(out_dir, args.force)
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
        with tqdm(total=total, unit="month", disable=args.quiet, file=sys.stderr) as bar:
            for set_id, member in zip(set_ids, members, strict=True):
                where = "" if set_id is None else f" set {set_id} ({len(members)} sets)"
                for replicate, seed in enumerate(seeds):
                    bar.set_description(
                        f"{scenario.name}{where} replicate {replicate + 1}/{len(seeds)}"
                    )
                    result = run(member, seed, progress=bar.update)
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
    except KeyboardInterrupt:
        print("interrupted: no results were written", file=sys.stderr)
        return 130
    except (ResultsExistError, IncompleteResultsError) as err:
        print(err, file=sys.stderr)
        return 2
    except Exception as err:  # a bug or a full disk: say so briefly, leave no partial results
        if os.environ.get("FLOWSIM_DEBUG"):
            raise
        print(
            f"run failed: {type(err).__name__}: {err}\n    no results were written; "
            "set FLOWSIM_DEBUG=1 to see the traceback",
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
    print(f"results: {written}")
    return 0
