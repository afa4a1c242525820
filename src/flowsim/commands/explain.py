"""``flowsim explain POLICY_DIR BASELINE_DIR``: a policy's effect split by channel."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from tqdm import tqdm

from flowsim.outputs import REPORTED
from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError

NAME = "explain"
HELP = (
    "split a policy's effect on each headline output by channel (collaboration, inputs, "
    "capital, mobility, knowledge, relocation into zones), re-running it with one channel at a "
    "time held at the baseline's behaviour; table, CSV and waterfall chart with 95 percent CIs"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim explain``."""
    parser.add_argument("policy", metavar="POLICY_DIR", help="run folder of the policy")
    parser.add_argument("baseline", metavar="BASELINE_DIR", help="run folder of its baseline")
    parser.add_argument(
        "--outputs", nargs="+", metavar="NAME", help="outputs to decompose (default: headline)"
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        help="folder for explain.csv and explain.png (default: results/explain-<policy>-<time>)",
    )


def _scenario_and_seeds(folder: str):
    from flowsim.folders import FolderError, read_run_folder

    data = read_run_folder(folder)
    path = Path(folder) / "scenario.resolved.yaml"
    scenario = load_scenario(path)
    seeds = [int(s) for s in data.manifest.get("seeds", [])]
    if not seeds:
        raise FolderError(f"{folder}/manifest.json lists no seeds; write the folder again")
    return scenario, seeds


def main(args: argparse.Namespace) -> int:
    """Print the decomposition, write the CSV and the chart; exit 2 on bad input."""
    from flowsim.diskio import FolderLockedError, atomic_files, output_lock, write_error_message
    from flowsim.explain import HEADLINE, decompose, format_table, summarise, waterfall
    from flowsim.folders import FolderError, safe_name

    outputs = args.outputs or list(HEADLINE)
    unknown = [o for o in outputs if o not in REPORTED]
    if unknown:
        print(f"flowsim explain: error: unknown output(s) {unknown}", file=sys.stderr)
        return 2
    try:
        policy, seeds = _scenario_and_seeds(args.policy)
        baseline, base_seeds = _scenario_and_seeds(args.baseline)
    except (FolderError, ConfigError, OSError) as err:
        print(f"flowsim explain: error: {err}", file=sys.stderr)
        return 2
    if seeds != base_seeds:
        print(
            "flowsim explain: error: the two folders were run with different seeds; run both "
            "with the same seed and replications (common random numbers)",
            file=sys.stderr,
        )
        return 2
    for key in ("scale", "steps", "warmup_steps"):
        if getattr(policy, key) != getattr(baseline, key):
            print(
                f"flowsim explain: error: {key} differs ({getattr(policy, key)} vs "
                f"{getattr(baseline, key)}); run both at the same {key}",
                file=sys.stderr,
            )
            return 2
    out = (
        Path(args.out)
        if args.out
        else Path("results")
        / (f"explain-{safe_name(policy.name)}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}")
    )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        print(f"flowsim explain: error: {out} exists and is not empty; give --out", file=sys.stderr)
        return 2
    with tqdm(total=len(seeds), desc="explain", unit="replicate", file=sys.stderr) as bar:
        parts = decompose(policy, baseline, seeds, outputs, progress=bar.update)
    summary = summarise(parts)
    print(
        f"{policy.name} vs {baseline.name}: effect on the run's totals by channel, % of the "
        f"baseline with 95% CI over {len(seeds)} replicates"
    )
    print(format_table(summary))
    files = [out / "explain_replicates.csv", out / "explain.csv", out / "explain.png"]
    try:  # all three or none: a full disk leaves the previous files (flowsim.diskio)
        with output_lock(out), atomic_files(files) as (replicates_csv, table_csv, chart_png):
            parts.to_csv(replicates_csv, index=False)
            summary.to_csv(table_csv, index=False)
            waterfall(summary, chart_png, f"{policy.name} vs {baseline.name}")
    except FolderLockedError as err:
        print(f"flowsim explain: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"flowsim explain: error: {write_error_message(err)}", file=sys.stderr)
        return 1
    print(f"wrote {out / 'explain.csv'} and {out / 'explain.png'}")
    return 0
