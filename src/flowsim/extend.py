"""``flowsim compare --until``: more replicates of every scenario until the interval is narrow.

The run folders say what ran (``scenario.resolved.yaml``) and from which root seed;
replicate k's seed depends only on the root seed and k
(:func:`flowsim.streams.replicate_seeds`), so replicates n, n+1, ... of every
scenario can be added later, on the same seeds for all scenarios, and the pairing
of the comparison is kept. The folders given are never changed: the extended runs
(old replicates read back, new ones run) are written as new run folders.

The stopping rule: for each chosen output and each scenario against the reference,
the half-width of the 95% interval of the mean paired difference (whole run, per
year) must be at most the target: a fraction of the reference's mean (``2%``) or an
absolute number in the output's unit. Each round estimates, from the replicates so
far, how many pairs the widest interval needs (:func:`flowsim.replication.
replicates_for_halfwidth`), runs at most as many new replicates as there are (the
estimate from few replicates is itself noisy), and checks again, until the target or
``max_replicates`` is reached.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.compare import whole_run
from flowsim.replication import Target, halfwidth, replicates_for_halfwidth
from flowsim.results import RunFolder, read_run
from flowsim.run import RunResult, run
from flowsim.streams import replicate_seeds

ID_COLUMNS = ("replicate", "seed")


class ExtendError(ValueError):
    """The folders cannot be extended (ensemble runs, different seeds, too few replicates)."""


@dataclass
class Round:
    """The state after one round: replicates per scenario and each output's widest interval.

    Attributes:
        replicates: replicates of every scenario.
        widths: per output, the widest half-width over scenarios (output units).
        targets: per output, the target half-width (output units).
    """

    replicates: int
    widths: dict[str, float]
    targets: dict[str, float]

    @property
    def reached(self) -> bool:
        """Whether every output's interval is at most its target."""
        return all(np.isfinite(w) and w <= self.targets[o] for o, w in self.widths.items())

    def line(self, reference_means: dict[str, float]) -> str:
        """A progress line: each output's half-width, in % of the reference where known."""
        from flowsim.numbers import format_number

        parts = []
        for output, width in self.widths.items():
            mean = reference_means.get(output, float("nan"))
            relative = 100.0 * width / abs(mean) if mean else float("nan")
            target = 100.0 * self.targets[output] / abs(mean) if mean else float("nan")
            parts.append(
                f"{output} +/-{format_number(width)} ({format_number(relative)}% of the "
                f"reference; target {format_number(target)}%)"
            )
        return f"{self.replicates} replicates: " + "; ".join(parts)


def results_of(folder: RunFolder) -> list[RunResult]:
    """A run folder's replicates as :class:`~flowsim.run.RunResult`, to write them again."""
    yearly = pd.DataFrame.from_records(folder.summary.get("yearly", []))
    tables = {
        "timeseries": folder.timeseries,
        "flows": folder.flows,
        "yearly": yearly,
        "by_city": folder.by_city,
        "links": folder.links,
    }
    seeds = [int(s) for s in folder.manifest.get("seeds", [])]
    out = []
    for replicate, seed in enumerate(seeds):
        parts = {
            name: table[table["replicate"] == replicate]
            .drop(columns=[c for c in ID_COLUMNS if c in table.columns])
            .reset_index(drop=True)
            for name, table in tables.items()
        }
        out.append(
            RunResult(
                scenario=folder.scenario,
                seed=seed,
                timeseries=parts["timeseries"],
                flows=parts["flows"],
                yearly=parts["yearly"],
                n_agents=0,
                by_city=parts["by_city"],
                links=parts["links"],
            )
        )
    return out


def _check(folders: Sequence[RunFolder]) -> list[int]:
    """The common seeds of the folders; refuse what cannot be extended pairwise."""
    for folder in folders:
        if folder.manifest.get("ensemble"):
            raise ExtendError(
                f"{folder.path}: an ensemble run; --until extends plain runs only (run more "
                "replicates with `flowsim run FILE --ensemble DIR --replications N`)"
            )
    roots = {int(f.manifest.get("root_seed", -1)) for f in folders}
    seeds = [list(map(int, f.manifest.get("seeds", []))) for f in folders]
    if len(roots) != 1 or any(s != seeds[0] for s in seeds):
        raise ExtendError(
            "--until adds replicates on the same seeds to every scenario, so the folders must "
            "share their root seed and replicates: run them with the same --seed and "
            "--replications"
        )
    return seeds[0]


def _widths(
    values: Sequence[pd.DataFrame], outputs: Sequence[str], target: Target
) -> tuple[Round, dict[str, float], dict[str, float]]:
    """This round's widest half-widths, their targets, the reference means and the noise."""
    reference = values[0]
    widths, targets, means, sds = {}, {}, {}, {}
    n = len(reference)
    for output in outputs:
        ref = reference[output].to_numpy(dtype=np.float64)
        means[output] = float(ref.mean())
        sd_max = 0.0
        for other in values[1:]:
            d = other[output].to_numpy(dtype=np.float64) - ref
            sd_max = max(sd_max, float(d.std(ddof=1)) if n >= 2 else float("nan"))
        sds[output] = sd_max
        widths[output] = halfwidth(sd_max, n)
        targets[output] = target.absolute(means[output])
    return Round(n, widths, targets), means, sds


def extend_until(
    folders: Sequence[str | Path],
    outputs: Sequence[str],
    target: Target,
    max_replicates: int,
    out_root: str | Path,
    *,
    command: list[str] | None = None,
    progress: bool = True,
    say: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> tuple[list[Path], Round]:
    """Add replicates to every scenario until the target half-width or the cap.

    Args:
        folders: run folders, the reference first (not changed).
        outputs: the outputs whose intervals must be narrow.
        target: the half-width to reach (:func:`flowsim.replication.parse_target`).
        max_replicates: the most replicates of each scenario.
        out_root: where the extended run folders go (``out_root/<folder name>``).
        command: the command line, for the new folders' manifests.
        progress: show a progress bar over the months to run.
        say: where the per-round lines go.

    Returns:
        The extended run folders (in the order given) and the last round.

    Raises:
        ExtendError: ensemble runs, folders with different seeds, or a folder of
            ``out_root`` in the way.
    """
    from flowsim.progress import progress_bar
    from flowsim.results import write_run

    read = [read_run(f) for f in folders]
    seeds = _check(read)
    root_seed = int(read[0].manifest["root_seed"])
    results = [results_of(f) for f in read]
    destinations = [Path(out_root) / Path(f).resolve().name for f in folders]
    if len(set(destinations)) != len(destinations):
        destinations = [Path(out_root) / f"{k}-{d.name}" for k, d in enumerate(destinations)]
    for path in destinations:
        if path.exists():
            raise ExtendError(f"{path} exists; choose another --out (nothing was run)")
    while True:
        values = [
            whole_run(
                pd.concat(
                    [r.yearly.assign(replicate=k, seed=r.seed) for k, r in enumerate(rs)],
                    ignore_index=True,
                ),
                outputs,
            )
            for rs in results
        ]
        state, means, sds = _widths(values, outputs, target)
        say(state.line(means))
        n = state.replicates
        if state.reached or n >= max_replicates:
            break
        needed = max(
            replicates_for_halfwidth(sds[o], state.targets[o], cap=max_replicates) for o in outputs
        )
        step_to = min(max_replicates, max(n + 1, min(needed, 2 * n)))
        new_seeds = replicate_seeds(root_seed, step_to)[n:]
        seeds = seeds + new_seeds
        say(
            f"running replicates {n + 1}-{step_to} of {len(read)} scenarios "
            f"(about {needed} needed by the noise so far; cap {max_replicates})"
        )
        months = sum(f.scenario.steps for f in read) * len(new_seeds)
        with progress_bar(months, unit="month", disable=not progress, file=sys.stderr) as bar:
            for folder, runs in zip(read, results, strict=True):
                for seed in new_seeds:
                    bar.set_description(f"{folder.scenario.name} seed {seed}")
                    runs.append(run(folder.scenario, seed, progress=bar.update))
    written = []
    for folder, runs, path in zip(read, results, destinations, strict=True):
        written.append(
            write_run(
                runs,
                folder.scenario,
                path,
                command=command,
                scenario_file=str(folder.path / "scenario.resolved.yaml"),
            )
        )
    return written, state
