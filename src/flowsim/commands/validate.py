"""``flowsim validate FILE...``: check scenario files without running them."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flowsim.yamlio import ConfigError

NAME = "validate"
HELP = (
    "check scenario files (and targets files of `flowsim calibrate`): 'ok' per valid file, "
    "else every problem (exit 2)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim validate``."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="scenario (or targets) YAML files")


def main(args: argparse.Namespace) -> int:
    """Validate each file; exit 0 if all are valid, else 2."""
    from flowsim.scenario import load_scenario
    from flowsim.yamlio import ConfigError

    status = 0
    for file in args.files:
        try:
            scenario = load_scenario(file)
        except ConfigError as err:
            if _looks_like_targets(err):
                status = max(status, _validate_targets(file))
                continue
            if _looks_like_sweep(err):
                print(
                    f"{file}: this is a sweep file (it has `levers:`/`design:`), not a scenario; "
                    f"check it with `flowsim sweep {file} --dry-run`",
                    file=sys.stderr,
                )
            else:
                print(err.report(), file=sys.stderr)
            status = 2
        else:
            print(f"{file}: ok ({scenario.name})")
    return status


def _looks_like_sweep(err: ConfigError) -> bool:
    """Whether the unknown top-level keys of a failed scenario are those of a sweep file."""
    unknown = {p.path for p in err.problems if p.message.startswith("unknown key")}
    return bool(unknown & {"levers", "design", "uncertainties"}) and "base" in unknown


def _looks_like_targets(err: ConfigError) -> bool:
    """Whether the unknown top-level keys of a failed scenario are those of a targets file."""
    unknown = {p.path for p in err.problems if p.message.startswith("unknown key")}
    return "targets" in unknown or {"scenario", "free"} <= unknown  # a scenario has neither


def _validate_targets(file: str) -> int:
    """Check a targets file (``flowsim calibrate``) instead; 0 if valid, else 2."""
    from flowsim.calibration.targets import load_targets
    from flowsim.yamlio import ConfigError

    try:
        targets = load_targets(file)
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return 2
    spec = targets.spec
    unreported = sum(not t.reported for t in spec.targets)
    levels = {}
    for t in spec.targets:
        if t.level is not None:
            levels[t.level] = levels.get(t.level, 0) + 1
    by_level = ", ".join(f"{n} {level}" for level, n in levels.items())
    print(
        f"{file}: ok (targets {spec.name!r}: {len(spec.of_role('calibration'))} calibration, "
        f"{len(spec.of_role('validation'))} validation, {len(spec.free)} free parameters"
        + (f", {unreported} not reported by the model" if unreported else "")
        + (f"; by level: {by_level}" if by_level else "")
        + (f"; priors from {spec.priors}" if spec.priors else "")
        + ")"
    )
    return 0
