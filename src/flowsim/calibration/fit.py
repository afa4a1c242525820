"""``flowsim calibrate``: estimate the free parameters against the calibration targets.

**Method.** Optuna's TPE sampler (a Bayesian optimiser; seeded from the targets
file's ``seed``) proposes parameter sets within the free parameters' bounds
(uniform, or log-uniform with ``log: true``). Each proposal — a *trial* — runs the
scenario ``replicates`` times with the *same* replicate seeds as every other trial
(common random numbers, so two trials differ only where their parameters act).
Its score is the objective of :func:`flowsim.calibration.evaluate.objective`: the
weight-averaged squared distance of the replicate means from the real figures, in
tolerance bands, over the **calibration** targets only. Validation targets are
computed in the same runs and logged, but never enter the objective.

**ABC rejection** (``search.method: abc``): instead of TPE, each trial is an
independent draw from the free parameters' priors (their ``low``/``high``, uniform
or log-uniform), on a draw stream seeded from the file's ``seed``. A draw is
accepted when every calibration target is within tolerance (the ABC tolerance),
and the ensemble is the accepted draws in draw order: a sample of the approximate
posterior, whose spread is parameter uncertainty, not the neighbourhood of an
optimum. The acceptance rate is in the manifest's ``selection``.

**A refocused wave** (``proposals=``, ABC only): the draws are taken, in order, from a
table of parameter sets instead of the priors -- the sets a wave of history matching
did not rule out (:func:`flowsim.calibration.history.history_match`), which are a
uniform sample of the prior restricted to that region. Its accepted draws are then a
sample of the accepted region (the ABC posterior restricted to the NROY region, which
holds every set that can meet the targets unless the emulators are wrong), found with
far fewer runs than plain rejection from the priors. ``scripts/fit_v3.py`` runs both
waves.

Trials run on the sweep executors (:mod:`flowsim.sweep.executor`): in this process,
a local Dask cluster or an existing scheduler; a batch of trials (one per worker
thread) is asked of Optuna at a time and told back as each finishes.

**Trial log.** Each finished trial is appended to ``OUT/trials.jsonl`` (one JSON
object a line: ``trial``, ``params``, ``seeds``, ``values`` — one ``{target id:
value}`` per replicate — ``objective``, ``errors``) and flushed at once. ``--resume``
reads the log back, tells Optuna every finished trial and runs only the rest of
the budget: no finished trial is run again; a trial cut off mid-way is run anew.

**Ensemble.** The accepted set: every trial whose replicate means put *all*
calibration targets within tolerance, best first, at most ``search.ensemble``
members (the manifest's ``selection`` says how many were accepted; fewer than
:data:`MIN_ACCEPTED` is flagged as a small ensemble). Written as
:mod:`flowsim.calibration.ensemble` describes.

**A calibration that fails.** When no trial puts every calibration target within
tolerance, :func:`finish` writes the reports (``report.txt`` begins with
``CALIBRATION FAILED``) and ``best.yaml`` marked as failed, but *no* ensemble (an
ensemble left from an earlier ``--report`` is removed), and ``flowsim calibrate``
exits 1: an ensemble of misfits would carry the model's misfit into every policy
effect without a word.

**The output folder.** ``--out`` must be new, empty, or a calibration folder (it
holds ``calibration.json``); a folder with other files is refused, so nothing a
user keeps there is overwritten. Every output is written to a temporary file and
renamed (:func:`flowsim.diskio.atomic_path`): an interruption or a full disk leaves
the previous file, never half of one.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from flowsim.calibration.evaluate import distance, model_values, objective
from flowsim.calibration.targets import Target, Targets, load_targets
from flowsim.params import Scenario, with_overrides
from flowsim.provenance import git_commit, versions
from flowsim.streams import replicate_seeds
from flowsim.sweep.tasks import RunTask

LOG = "trials.jsonl"
MANIFEST = "calibration.json"
MIN_ACCEPTED = 3
"""Fewest accepted trials for the ensemble to be the accepted set (else: the best ones)."""


class CalibrationError(ValueError):
    """A calibration that cannot start or resume; the message says what to do."""


OUTPUTS: tuple[str, ...] = (
    LOG,
    MANIFEST,
    "trials.csv",
    "fit.csv",
    "validation.csv",
    "fit.png",
    "best.yaml",
    "report.txt",
    "ensemble.csv",
    "ensemble.yaml",
    "history_match.csv",
)
"""Files ``flowsim calibrate`` writes into its folder."""


def check_out_folder(folder: Path, marker: str = MANIFEST, what: str = "calibration") -> None:
    """Refuse ``folder`` if it is a file, or holds files but no ``marker`` (not ours).

    Raises:
        CalibrationError: naming the folder and a few of the files found there.
    """
    if folder.exists() and not folder.is_dir():
        raise CalibrationError(f"{folder} is a file; give a folder to --out")
    if not folder.is_dir() or (folder / marker).exists():
        return
    try:
        found = sorted(p.name for p in folder.iterdir())
    except OSError as err:
        raise CalibrationError(f"{folder}: cannot be read ({err.strerror})") from None
    if found:
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        raise CalibrationError(
            f"{folder} holds files that are not a {what} ({shown}); give a new or empty "
            "--out folder (nothing there was changed)"
        )


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    from flowsim.diskio import atomic_path

    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False)


@dataclass(frozen=True)
class TargetModel:
    """Runs the scenario once and returns every target's model value (a sweep *model*).

    Attributes:
        base: the scenario with the targets file's run settings.
        targets: every target (calibration and validation).
    """

    base: Scenario
    targets: tuple[Target, ...]

    def __call__(self, overrides: dict[str, Any], seed: int) -> tuple[dict[str, float], None]:
        """One run's target values (NaN where the run cannot give one)."""
        from flowsim.run import run

        scenario = with_overrides(self.base, overrides) if overrides else self.base
        # every point is another behaviour: its warm-up is never reused, so never cached
        values, _ = model_values(list(self.targets), run(scenario, seed, cache=False))
        return values, None


@contextmanager
def runner(
    workers: int | None, scheduler: str | None, security: Any = None
) -> Iterator[Callable[[list[RunTask], Any, Callable[[dict[str, Any]], None]], None]]:
    """``run(tasks, model, on_result)`` on the sweep executors, one cluster for all batches.

    ``security`` reaches ``scheduler`` (None: Dask's configuration); local clusters always
    use temporary TLS credentials.
    """
    from flowsim.sweep.executor import dask_client, default_workers, run_in_process, run_on_dask

    if scheduler is None and (workers or default_workers()) == 1:
        yield run_in_process
        return
    with dask_client(workers, scheduler, security=security) as client:

        def on_dask(tasks, model, on_result):
            run_on_dask(client, tasks, model, on_result)

        on_dask.threads = sum(client.nthreads().values()) or 1  # type: ignore[attr-defined]
        yield on_dask


def file_hash(path: Path) -> str:
    """sha256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


MAX_LOG_BYTES = 200_000_000
"""Largest trial log read (a trial's line is a few kB; 100,000 trials fit)."""


def _check_record(record: Any, names: list[str] | None) -> str | None:
    """What is wrong with one logged trial, or None."""
    if not isinstance(record, dict):
        return f"a trial must be a JSON object, not {type(record).__name__}"
    trial = record.get("trial")
    if not isinstance(trial, int) or isinstance(trial, bool) or trial < 0:
        return "`trial` must be a whole number >= 0"
    params = record.get("params")
    if not isinstance(params, dict):
        return "`params` must be an object of parameter values"
    for name in names or params:
        value = params.get(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return f"`params` lacks a finite number for {name!r}"
    value = record.get("objective")
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return "`objective` must be a number"
    values = record.get("values")
    if not isinstance(values, list) or not values or not all(isinstance(v, dict) for v in values):
        return "`values` must be a list of {target id: value} objects, one per replicate"
    for replicate in values:
        for v in replicate.values():
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                return "`values` must hold numbers"
    seeds = record.get("seeds")
    if not isinstance(seeds, list) or not seeds:
        return "`seeds` must be the list of replicate seeds"
    return None


def read_log(folder: Path, names: list[str] | None = None) -> list[dict[str, Any]]:
    """The finished trials of a calibration folder, in log order.

    A torn *last* line (an interruption while appending) is dropped: that trial is run
    again. Any other line that is not a whole trial is refused.

    Args:
        folder: the calibration folder.
        names: the free parameters every trial must give (None: not checked).

    Raises:
        CalibrationError: the log cannot be read, is too large, or a line that is not
            the last is not a trial; the message names the file and the line.
    """
    path = folder / LOG
    if not path.is_file():
        return []
    try:
        size = path.stat().st_size
        if size > MAX_LOG_BYTES:
            raise CalibrationError(
                f"{path}: {size:,} bytes, more than the {MAX_LOG_BYTES:,} a trial log may be; "
                "is this the right folder?"
            )
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise CalibrationError(
            f"{path}: not UTF-8 text ({err.reason}); the log is damaged: restore it, or start "
            "a new --out"
        ) from None
    except OSError as err:
        raise CalibrationError(f"{path}: cannot be read ({err.strerror})") from None
    lines = text.splitlines()
    trials = []
    for number, line in enumerate(lines, start=1):
        last = number == len(lines)
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            if last and not text.endswith("\n"):
                continue  # a line cut off by an interruption: that trial is run again
            problem = "not a JSON object"
        else:
            problem = _check_record(record, names)
        if problem is not None:
            raise CalibrationError(
                f"{path}:{number}: {problem}; the trial log is damaged: remove that line to "
                "run the trial again with --resume, or start a new --out"
            )
        trials.append(record)
    numbers = [r["trial"] for r in trials]
    if len(set(numbers)) != len(numbers):
        raise CalibrationError(
            f"{path}: a trial number is logged twice; the log is damaged: start a new --out"
        )
    seeds = {tuple(r["seeds"]) for r in trials}
    if len(seeds) > 1:
        raise CalibrationError(
            f"{path}: trials were run with different replicate seeds; the log mixes two "
            "calibrations: start a new --out"
        )
    return trials


def read_manifest(folder: Path) -> dict[str, Any]:
    """The folder's ``calibration.json``.

    Raises:
        CalibrationError: it is missing, unreadable, not JSON or not an object.
    """
    path = folder / MANIFEST
    if not path.is_file():
        raise CalibrationError(
            f"{folder}: not a calibration folder ({MANIFEST} is missing); give the --out of an "
            "earlier `flowsim calibrate`, or drop --resume/--report to start a new one"
        )
    try:
        data = json.loads(path.read_bytes()[:10_000_000].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CalibrationError(
            f"{path}: damaged ({type(err).__name__}); it cannot be resumed: start a new --out"
        ) from None
    except OSError as err:
        raise CalibrationError(f"{path}: cannot be read ({err.strerror})") from None
    if not isinstance(data, dict):
        raise CalibrationError(
            f"{path}: damaged (holds {type(data).__name__}, not an object); start a new --out"
        )
    return data


def _proposals_hash(proposals: pd.DataFrame | None) -> str | None:
    """sha256 of a proposals table's values (None: draws from the priors)."""
    if proposals is None:
        return None
    data = np.ascontiguousarray(proposals.to_numpy(dtype=np.float64)).tobytes()
    return hashlib.sha256(data + ",".join(proposals.columns).encode()).hexdigest()


def _sampler(method: str, proposals: pd.DataFrame | None) -> str:
    """What proposed the trials, in words (the manifest's ``sampler``)."""
    if method != "abc":
        return "optuna TPESampler"
    if proposals is not None:
        return f"ABC rejection on {len(proposals)} given proposals (a refocused wave)"
    return "ABC rejection: independent draws from the priors"


def _manifest(
    targets: Targets,
    budget: int,
    workers: int | None,
    scheduler: Any,
    proposals: pd.DataFrame | None = None,
) -> dict:
    from flowsim.sweep.executor import scheduler_address

    commit, dirty = git_commit()
    spec = targets.spec
    return {
        "kind": "flowsim-calibration",
        "targets_file": str(targets.path),
        "targets_sha256": file_hash(targets.path),
        "scenario_file": str(targets.scenario_path),
        "free": {k: v.model_dump() for k, v in spec.free.items()},
        "replicates": spec.replicates,
        "seeds": replicate_seeds(spec.seed, spec.replicates),
        "budget": budget,
        "workers": workers,
        "scheduler": scheduler_address(scheduler),
        "sampler": _sampler(spec.search.method, proposals),
        "proposals_sha256": _proposals_hash(proposals),
        "versions": {**versions(), "optuna": _optuna_version()},
        "git_commit": commit,
        "git_dirty": dirty,
    }


def _optuna_version() -> str:
    import optuna

    return optuna.__version__


def _prepare(folder: Path, targets: Targets, resume: bool, manifest: dict) -> list[dict]:
    from flowsim.diskio import write_text_atomic

    log = folder / LOG
    if not resume:
        check_out_folder(folder)
    if (log.exists() or (folder / MANIFEST).exists()) and not resume:
        raise CalibrationError(
            f"{folder} holds a calibration already ({MANIFEST}); pass --resume to continue it, "
            "or another --out (nothing is overwritten)"
        )
    if resume:
        if not folder.is_dir():
            raise CalibrationError(f"{folder}: no such folder, nothing to resume; drop --resume")
        old = read_manifest(folder)
        for key in ("targets_sha256", "free", "replicates", "seeds"):
            if old.get(key) != manifest[key]:
                raise CalibrationError(
                    f"{folder}: the calibration there was started with another {key} "
                    "(the targets file changed); resume needs the same file — start a new "
                    "--out instead"
                )
        if old.get("proposals_sha256") != manifest["proposals_sha256"]:
            raise CalibrationError(
                f"{folder}: the calibration there was started with other proposals (or "
                "without them); resume needs the same proposals — start a new --out instead"
            )
    folder.mkdir(parents=True, exist_ok=True)
    done = read_log(folder, targets.free_names()) if resume else []
    write_text_atomic(folder / MANIFEST, json.dumps(manifest, indent=2))
    if resume:  # drop a line torn by the interruption, so new trials start on a fresh line
        text = "".join(json.dumps(rec) + "\n" for rec in done)
        tmp = log.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(log)
    return done


def _append(folder: Path, record: dict[str, Any]) -> None:
    with open(folder / LOG, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def trial_means(trial: dict[str, Any]) -> dict[str, float]:
    """Replicate mean of each target in a logged trial (NaN if no replicate has one)."""
    frame = pd.DataFrame(trial["values"], dtype=float)
    return {k: float(v) for k, v in frame.mean(skipna=True).items()}


@dataclass(frozen=True)
class _Draw:
    """One ABC draw, shaped like an Optuna trial (``number``, ``params``)."""

    number: int
    params: dict[str, float]


def _draw(rng: np.random.Generator, free: dict[str, Any]) -> dict[str, float]:
    """One independent draw from the free parameters' priors (uniform, or log-uniform)."""
    out = {}
    for name, b in free.items():
        if b.log:
            out[name] = float(np.exp(rng.uniform(np.log(b.low), np.log(b.high))))
        else:
            out[name] = float(rng.uniform(b.low, b.high))
    return out


def _check_proposals(proposals: pd.DataFrame, spec: Any, budget: int) -> pd.DataFrame:
    """The proposals' free-parameter columns, checked against the priors and the budget.

    Raises:
        CalibrationError: not ABC, a missing column, too few rows, or a value off its prior.
    """
    if spec.search.method != "abc":
        raise CalibrationError(
            "proposals are for ABC (`search: {method: abc}`); TPE proposes its own trials"
        )
    missing = [n for n in spec.free if n not in proposals.columns]
    if missing:
        raise CalibrationError(f"the proposals lack the free parameters {missing}")
    if len(proposals) < budget:
        raise CalibrationError(
            f"{len(proposals)} proposals for a budget of {budget} trials; give at least as "
            "many proposals as trials"
        )
    table = proposals[list(spec.free)].reset_index(drop=True).astype(float)
    for name, prior in spec.free.items():
        values = table[name].to_numpy()
        span = prior.high - prior.low
        if (
            not np.isfinite(values).all()
            or ((values < prior.low - 1e-9 * span) | (values > prior.high + 1e-9 * span)).any()
        ):
            raise CalibrationError(
                f"proposals of {name} leave its prior {prior.low:g}-{prior.high:g}"
            )
    return table


def calibrate(
    path: str | Path | Targets,
    out: str | Path,
    *,
    budget: int | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    client: Any = None,
    security: Any = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    proposals: pd.DataFrame | None = None,
) -> Path:
    """Run (or resume) a calibration into ``out``, holding the folder's writer lock.

    The arguments are :func:`_calibrate_locked`'s, and ``client``: instead of
    ``scheduler``, a ``dask.distributed.Client`` or a cluster object with a
    ``scheduler_address`` (dask-jobqueue's ``SLURMCluster``, ...), left open. While one
    process writes ``out`` (a :class:`~flowsim.diskio.WriterLock`), a second ``calibrate``
    or ``--resume`` on it is refused with a :class:`CalibrationError` naming the holder.
    """
    from flowsim.diskio import FolderLockedError, WriterLock
    from flowsim.sweep.executor import scheduler_address

    if client is not None:
        if scheduler is not None:
            raise CalibrationError("give scheduler= (an address) or client=, not both")
        scheduler_address(client)  # a TypeError naming what to pass
        scheduler = client

    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise CalibrationError(f"{folder} is a file; give a folder to --out")
    if not resume:
        check_out_folder(folder)  # before the lock file is made beside it
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = WriterLock(folder, what="calibration folder")
    try:
        lock.acquire()
    except FolderLockedError as err:
        raise CalibrationError(str(err)) from None
    try:
        return _calibrate_locked(
            path,
            out,
            budget=budget,
            workers=workers,
            scheduler=scheduler,
            security=security,
            resume=resume,
            progress=progress,
            stop_after=stop_after,
            proposals=proposals,
        )
    finally:
        lock.release()


def _calibrate_locked(
    path: str | Path | Targets,
    out: str | Path,
    *,
    budget: int | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    security: Any = None,
    resume: bool = False,
    progress: bool = True,
    stop_after: int | None = None,
    proposals: pd.DataFrame | None = None,
) -> Path:
    """Run (or resume) a calibration into ``out``; see the module doc.

    Args:
        path: the targets file (or a loaded :class:`Targets`).
        out: the output folder.
        budget: trials in all (default: the file's ``search.budget``).
        workers: 1 runs in this process; N a local Dask cluster; None every core.
        scheduler: an existing Dask scheduler's address (overrides ``workers``).
        security: a ``distributed.security.Security`` to reach ``scheduler``.
        resume: continue the calibration in ``out`` from its trial log.
        progress: show the finished trials (a bar on a terminal, plain lines in a log).
        stop_after: stop after this many new trials (to test interruption).
        proposals: ABC only: the parameter sets to try, one row per trial in order (a
            column per free parameter, each value within its prior), e.g. the NROY sets
            of a history-matching wave; the budget is at most its number of rows.

    Returns:
        ``out``, holding the trial log; call :func:`finish` for the reports.
    """
    import optuna

    from flowsim.progress import progress_bar

    targets = path if isinstance(path, Targets) else load_targets(path)
    spec = targets.spec
    if not spec.free:
        raise CalibrationError(
            f"{targets.path}: `free:` names no parameter to estimate; run "
            "`flowsim calibrate FILE --screen` and copy the parameters it selects"
        )
    budget = budget or spec.search.budget
    if proposals is not None:
        proposals = _check_proposals(proposals, spec, budget)
    folder = Path(out)
    manifest = _manifest(targets, budget, workers, scheduler, proposals)
    done = _prepare(folder, targets, resume, manifest)
    calibration = spec.of_role("calibration")
    names = targets.free_names()
    distributions = {
        n: optuna.distributions.FloatDistribution(b.low, b.high, log=b.log)
        for n, b in spec.free.items()
    }
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=(spec.seed + len(done)) % 2**32, multivariate=True)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    for rec in done:
        study.add_trial(
            optuna.trial.create_trial(
                params={n: rec["params"][n] for n in names},
                distributions=distributions,
                value=rec["objective"],
            )
        )
    abc = spec.search.method == "abc"
    # ABC rejection: a draw stream of its own, advanced past the draws already logged
    rng = np.random.default_rng([spec.seed % 2**63, 7919])
    if abc:
        for _ in done:
            _draw(rng, spec.free)
    seeds = replicate_seeds(spec.seed, spec.replicates)
    model = TargetModel(targets.base_scenario(), tuple(spec.targets))
    remaining = max(0, budget - len(done))
    if stop_after is not None:
        remaining = min(remaining, stop_after)
    bar = progress_bar(
        budget,
        initial=min(len(done), budget),
        desc=f"calibrate {spec.name}",
        unit="trial",
        disable=not progress,
    )
    next_number = max([r["trial"] for r in done], default=-1) + 1
    drawn = len(done)  # proposals used so far (a resumed wave goes on where it stopped)
    with runner(workers, scheduler, security) as run_tasks:
        batch = spec.search.batch or getattr(run_tasks, "threads", 1)
        while remaining > 0:
            k = min(batch, remaining)
            if proposals is not None:  # row i of the proposals is the i-th trial logged
                asked = [
                    _Draw(next_number + i, proposals.iloc[drawn + i].to_dict()) for i in range(k)
                ]
            elif abc:
                asked = [_Draw(next_number + i, _draw(rng, spec.free)) for i in range(k)]
            else:
                asked = [study.ask(distributions) for _ in range(k)]
            numbers = {t.number: next_number + i for i, t in enumerate(asked)}
            next_number += k
            by_trial = {t.number: t for t in asked}
            pending: dict[int, list[dict[str, Any] | None]] = {
                t.number: [None] * len(seeds) for t in asked
            }
            tasks = [
                RunTask(
                    run_id=numbers[t.number] * len(seeds) + r,
                    point_id=t.number,
                    replicate=r,
                    seed=s,
                    overrides=dict(t.params),
                )
                for t in asked
                for r, s in enumerate(seeds)
            ]

            def on_result(
                record: dict[str, Any], pending=pending, by_trial=by_trial, numbers=numbers
            ):
                slots = pending[record["point_id"]]
                slots[record["replicate"]] = record
                if any(s is None for s in slots):
                    return
                trial = by_trial[record["point_id"]]
                values = [
                    {t.id: s["outcomes"].get(t.id, math.nan) for t in spec.targets} for s in slots
                ]
                entry = {
                    "trial": numbers[trial.number],
                    "params": {n: float(trial.params[n]) for n in names},
                    "seeds": seeds,
                    "values": values,
                    "errors": [s["error"] for s in slots if s["error"]],
                }
                entry["objective"] = float(objective(calibration, trial_means(entry)))
                if not abc:
                    study.tell(trial, entry["objective"])
                _append(folder, entry)
                bar.update(1)

            run_tasks(tasks, model, on_result)
            remaining -= k
            drawn += k
    bar.close()
    return folder


# ------------------------------------------------------------------------ results


def trials_frame(trials: list[dict[str, Any]], targets: Targets) -> pd.DataFrame:
    """One row per logged trial: ``trial``, ``objective``, ``within_all``, the parameters."""
    calibration = targets.spec.of_role("calibration")
    rows = []
    for rec in trials:
        means = trial_means(rec)
        within = all(
            np.isfinite(means.get(t.id, math.nan)) and abs(distance(t, means[t.id])) <= 1.0
            for t in calibration
        )
        rows.append(
            {
                "trial": rec["trial"],
                "objective": rec["objective"],
                "within_all": bool(within),
                **rec["params"],
            }
        )
    return pd.DataFrame(rows)


def select_ensemble(
    frame: pd.DataFrame, size: int, method: str = "tpe"
) -> tuple[pd.DataFrame, str]:
    """The ensemble's rows of :func:`trials_frame` and the rule that chose them.

    Only accepted trials (every calibration target within tolerance) are members; when
    none is accepted the ensemble is empty: the calibration failed. With ``method="abc"``
    the trials are independent prior draws, so the accepted ones are kept in draw order
    (an unbiased sample of the ABC posterior); with ``"tpe"`` the lowest objectives.
    """
    if method == "abc":
        ordered = frame.sort_values("trial", kind="stable")
    else:
        ordered = frame.sort_values(["objective", "trial"], kind="stable")
    accepted = ordered[ordered["within_all"]]
    chosen = accepted.head(size)
    if chosen.empty:
        rule = (
            f"FAILED: none of the {len(frame)} trials put every calibration target within "
            "tolerance; no ensemble is written"
        )
    else:
        rule = (
            f"accepted set: the {len(chosen)} trials (of {len(frame)}, {len(accepted)} accepted) "
            "whose replicate means put every calibration target within tolerance, "
            + (
                "in draw order (ABC rejection: independent draws from the priors; acceptance "
                f"rate {len(accepted) / len(frame):.3f})"
                if method == "abc"
                else "lowest objective first"
            )
        )
        if len(accepted) < MIN_ACCEPTED:
            rule += (
                f"; a small ensemble (fewer than {MIN_ACCEPTED} accepted trials): its spread "
                "understates parameter uncertainty, run a larger --budget"
            )
    return chosen.reset_index(drop=True), rule


def best_scenario_yaml(targets: Targets, params: dict[str, float], out: Path) -> str:
    """A scenario file that ``extends`` the calibrated scenario with the best parameters."""
    from flowsim.params import set_path

    nested: dict[str, Any] = {}
    for name, value in params.items():
        nested = set_path(nested, name, float(value))
    rel = os.path.relpath(targets.scenario_path, out.resolve())
    header = (
        f"# Best parameter set of `flowsim calibrate {targets.path}`: the calibrated\n"
        f"# scenario is {targets.scenario_path.name} with these values. Written by flowsim.\n"
    )
    body = {
        "extends": rel,
        "name": f"{targets.scenario.name}-calibrated",
        "description": f"{targets.scenario.name} with the free parameters fitted to the "
        f"calibration targets of {targets.path.name} ({targets.spec.name})",
        **nested,
    }
    return header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=100)


@dataclass
class Outcome:
    """What :func:`finish` wrote: the tables, the best parameters and the ensemble's rule."""

    folder: Path
    fit: pd.DataFrame
    validation: pd.DataFrame
    best: dict[str, float]
    best_objective: float
    ensemble: pd.DataFrame
    selection: str
    trials: int
    history: pd.DataFrame | None = None
    history_note: str = ""

    @property
    def failed(self) -> bool:
        """No trial put every calibration target within tolerance (no ensemble)."""
        return self.ensemble.empty

    def text(self) -> str:
        """The printed report."""
        from flowsim.calibration.report import format_table

        best = ", ".join(f"{k} = {v:.4g}" for k, v in self.best.items())
        verdict = (
            [
                f"CALIBRATION FAILED: none of the {self.trials} trials put every calibration "
                "target within tolerance. No ensemble was written; best.yaml is the closest "
                "miss, not a calibrated scenario. Check the targets, widen the free "
                "parameters' bounds, free other parameters, or run a larger --budget."
            ]
            if self.failed
            else []
        )
        return "\n\n".join(
            [
                *verdict,
                f"{self.trials} trials; best objective {self.best_objective:.3g}: {best}",
                f"ensemble: {len(self.ensemble)} members ({self.selection})",
                format_table(self.fit, "FIT (calibration targets, best parameter set)"),
                format_table(
                    self.validation,
                    "VALIDATION (held-out targets, never in the fit; ensemble prediction)",
                ),
                *([self._history_text()] if self.history_note else []),
            ]
        )

    def _history_text(self) -> str:
        """What the calibration targets pin, from one wave of history matching."""
        if self.history is None:
            return f"HISTORY MATCHING: not done ({self.history_note})"
        lines = [f"HISTORY MATCHING ({self.history_note})"]
        for row in self.history.itertuples():
            lines.append(
                f"  {row.parameter}: 95% {row.low:.4g}-{row.high:.4g} of prior "
                f"{row.prior_low:.4g}-{row.prior_high:.4g} ({row.narrowing:.2f}x narrower)"
            )
        return "\n".join(lines)


def _history(
    targets: Targets, trials: list[dict[str, Any]], refocused: bool = False
) -> tuple[pd.DataFrame | None, str]:
    """One wave of history matching on ABC draws: (intervals, note), or (None, why not).

    Only for ``search.method: abc`` (independent draws from the priors, which the wave's
    emulators need); TPE's trials cluster near an optimum, and a refocused wave's
    (``refocused``: trials from given proposals) cover only the region they were drawn in.
    """
    from flowsim.calibration.history import history_match

    if targets.spec.search.method != "abc":
        return None, ""
    if refocused:
        return None, (
            "the trials are a refocused wave (given proposals), not draws from the priors; "
            "see the wave that proposed them"
        )
    try:
        match = history_match(
            trials, targets.spec.of_role("calibration"), targets.spec.free, seed=targets.spec.seed
        )
    except ValueError as err:
        return None, str(err)
    if match.nroy.empty:
        return None, "every candidate set is ruled out: no parameter set can give the targets"
    note = (
        f"one wave on the {len(trials)} draws: {match.share:.1%} of the prior is not ruled out "
        "by the calibration targets; history_match.csv"
    )
    return match.intervals(targets.spec.free), note


def finish(path: str | Path | Targets, folder: str | Path) -> Outcome:
    """Write the best scenario, the ensemble, the fit and validation reports into ``folder``.

    Files: ``best.yaml`` (extends the calibrated scenario), ``ensemble.csv`` and
    ``ensemble.yaml`` (:mod:`flowsim.calibration.ensemble`), ``trials.csv``,
    ``fit.csv``, ``validation.csv`` (:mod:`flowsim.calibration.report`), ``fit.png``,
    ``report.txt`` and, for ABC, ``history_match.csv`` (what the calibration targets pin:
    each free parameter's 95% interval over the sets one wave of history matching does not
    rule out, :mod:`flowsim.calibration.history`).
    """
    from flowsim.calibration.ensemble import CSV as ENSEMBLE_CSV
    from flowsim.calibration.ensemble import MANIFEST as ENSEMBLE_MANIFEST
    from flowsim.calibration.ensemble import write_ensemble
    from flowsim.calibration.report import fit_figure, target_table
    from flowsim.diskio import atomic_path, write_text_atomic
    from flowsim.run import run

    targets = path if isinstance(path, Targets) else load_targets(path)
    folder = Path(folder)
    if not folder.is_dir():
        raise CalibrationError(f"{folder}: no such calibration folder; check --out")
    old = read_manifest(folder)
    names = targets.free_names()
    if old.get("free") is not None and sorted(old["free"]) != sorted(names):
        raise CalibrationError(
            f"{folder}: the calibration there estimated {sorted(old['free'])}, the targets "
            f"file frees {sorted(names)}; give the targets file it was run with"
        )
    trials = read_log(folder, names)
    if not trials:
        raise CalibrationError(f"{folder}: no finished trial in {LOG}")
    frame = trials_frame(trials, targets)
    _write_csv(frame, folder / "trials.csv")
    chosen, rule = select_ensemble(frame, targets.spec.search.ensemble, targets.spec.search.method)
    by_number = {rec["trial"]: rec for rec in trials}
    best_row = frame.sort_values(["objective", "trial"], kind="stable").iloc[0]
    best_rec = by_number[int(best_row["trial"])]
    members = [by_number[int(t)] for t in chosen["trial"]]
    scenario = with_overrides(targets.base_scenario(), best_rec["params"])
    _, reasons = model_values(list(targets.spec.targets), run(scenario, best_rec["seeds"][0]))
    table = target_table(targets, best_rec, members, reasons)
    fit = table[table["role"] == "calibration"].reset_index(drop=True)
    validation = table[table["role"] == "validation"].reset_index(drop=True)
    _write_csv(fit, folder / "fit.csv")
    _write_csv(validation, folder / "validation.csv")
    with atomic_path(folder / "fit.png") as tmp:
        fit_figure(table, tmp, title=f"{targets.spec.name}: {len(trials)} trials")
    best_text = best_scenario_yaml(targets, best_rec["params"], folder)
    if chosen.empty:
        best_text = (
            "# CALIBRATION FAILED: no trial met every calibration target; this is the closest\n"
            "# miss, not a calibrated scenario (see report.txt).\n" + best_text
        )
    write_text_atomic(folder / "best.yaml", best_text)
    if chosen.empty:  # an ensemble of misfits is never written; one left from before goes
        for name in (ENSEMBLE_CSV, ENSEMBLE_MANIFEST):
            (folder / name).unlink(missing_ok=True)
    else:
        write_ensemble(
            folder,
            chosen,
            names,
            bounds={n: (b.low, b.high) for n, b in targets.spec.free.items()},
            scenario=str(targets.scenario_path),
            targets=str(targets.path),
            selection=rule,
        )
    history, history_note = _history(targets, trials, bool(old.get("proposals_sha256")))
    (folder / "history_match.csv").unlink(missing_ok=True)
    if history is not None:
        _write_csv(history, folder / "history_match.csv")
    outcome = Outcome(
        folder=folder,
        fit=fit,
        validation=validation,
        best={n: float(best_rec["params"][n]) for n in names},
        best_objective=float(best_rec["objective"]),
        ensemble=chosen,
        selection=rule,
        trials=len(trials),
        history=history,
        history_note=history_note,
    )
    write_text_atomic(folder / "report.txt", outcome.text() + "\n")
    return outcome


__all__ = [
    "LOG",
    "OUTPUTS",
    "Outcome",
    "check_out_folder",
    "read_manifest",
    "finish",
    "MANIFEST",
    "CalibrationError",
    "TargetModel",
    "best_scenario_yaml",
    "calibrate",
    "read_log",
    "select_ensemble",
    "trial_means",
    "trials_frame",
]
