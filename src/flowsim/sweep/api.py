"""The Python API of sweeps: ``flowsim.sweep(...)`` and ``flowsim.read_sweep(path)``.

::

    import flowsim
    result = flowsim.sweep("scenarios/sweeps/policy_comparison.yaml", workers=2, scale=0.002)
    result.runs            # one row per run: ids, seed, factor values, outcomes, error
    result.timeseries      # long format: run_id, step, year, variable, value
    result.failures        # the runs that raised, with their errors
    again = flowsim.read_sweep(result.path)

The command ``flowsim sweep`` is a thin layer over :func:`sweep`.
"""

from __future__ import annotations

import json
import platform
import re
import shlex
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from flowsim.diskio import FolderLockedError, WriterLock, lock_holder
from flowsim.ensemble import Ensemble
from flowsim.folders import (
    VERIFIED_SWEEP_FILES,
    FolderError,
    check_run_ids,
    sha256_file,
    verify_files,
)
from flowsim.sweep import executor
from flowsim.sweep.executor import default_workers, execute
from flowsim.sweep.manifest import (
    DamagedManifestError,
    git_commit,
    now,
    read_manifest,
    versions,
    write_manifest,
)
from flowsim.sweep.plan import SweepPlan, plan_sweep
from flowsim.sweep.spec import SweepSpec
from flowsim.sweep.store import DamagedPartError, SweepStore, runs_schema
from flowsim.sweep.tasks import Model


class SweepError(Exception):
    """A sweep cannot start or be read (e.g. its folder holds other results); says what to do."""


class SchedulerError(SweepError, executor.SchedulerError):
    """The ``--scheduler`` address is not a Dask address, or nothing answers there."""


CONNECT_SECONDS = executor.CONNECT_SECONDS
"""How long :func:`check_scheduler` waits for a ``--scheduler`` to connect and greet."""


def check_scheduler(address: str, timeout: float = CONNECT_SECONDS, security: Any = None) -> None:
    """:func:`flowsim.sweep.executor.check_scheduler`, raising :class:`SchedulerError`.

    Raises:
        SchedulerError: saying what is wrong and what to do.
    """
    try:
        executor.check_scheduler(address, timeout, security)
    except executor.SchedulerError as err:
        raise SchedulerError(str(err)) from None


def _check_out(folder: Path) -> None:
    """Refuse an ``--out`` that is a file, the current folder (or holds it), or unwritable."""
    if folder.name in ("", ".", ".."):
        raise SweepError(
            f"{folder}: give --out a new folder's name (e.g. --out results/my-sweep), not the "
            "current folder"
        )
    try:
        here = Path.cwd().resolve()
        if folder.resolve() == here or folder.resolve() in here.parents:
            raise SweepError(
                f"{folder}: is the current folder or holds it; give --out a new folder's name"
            )
    except OSError:
        pass
    if folder.exists() and not folder.is_dir():
        raise SweepError(f"{folder}: exists and is not a folder; choose another --out")


@dataclass
class SweepResult:
    """A sweep's results folder, read on demand.

    Attributes:
        path: the folder.
        manifest: the content of ``manifest.json``.
    """

    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @cached_property
    def runs(self) -> pd.DataFrame:
        """One row per run, sorted by run id (``runs.parquet``)."""
        return pd.read_parquet(self.path / "runs.parquet")

    @property
    def timeseries(self) -> pd.DataFrame:
        """Monthly outputs of every run, long format (``timeseries.parquet``, read each time)."""
        return pd.read_parquet(self.path / "timeseries.parquet")

    @cached_property
    def design(self) -> pd.DataFrame:
        """The design points (``design.parquet``)."""
        return pd.read_parquet(self.path / "design.parquet")

    @property
    def failures(self) -> pd.DataFrame:
        """The runs that raised: run id, design point, replicate, seed, error."""
        runs = self.runs
        return runs.loc[runs["error"].notna(), ["run_id", "point_id", "replicate", "seed", "error"]]

    @property
    def outcomes(self) -> list[str]:
        """The outcome columns of :attr:`runs`."""
        return list(self.manifest["outcomes"])

    @property
    def factors(self) -> list[str]:
        """The varied parameters (dotted paths), levers first."""
        return list(self.manifest["factors"])


def read_sweep(path: str | Path) -> SweepResult:
    """Open a finished sweep's folder.

    Raises:
        SweepError: if the folder holds no sweep, or an unfinished one.
    """
    folder = Path(path)
    try:
        manifest = read_manifest(folder)
    except DamagedManifestError as err:
        raise SweepError(f"{err}; run the sweep again (--force)") from None
    if manifest is None or manifest.get("kind") != "sweep":
        raise SweepError(f"{folder}: not a sweep results folder (no sweep manifest.json)")
    holder = lock_holder(folder)
    if holder is not None:
        raise SweepError(f"{folder}: is being written by {holder}; wait for it to finish")
    if manifest.get("status") != "complete":
        raise SweepError(
            f"{folder}: the sweep is unfinished; complete it with `flowsim sweep FILE --resume "
            f"--out {folder}`"
        )
    try:
        ids = pq.read_table(folder / "runs.parquet", columns=["run_id"]).to_pandas()
    except Exception as err:  # pyarrow raises several types for damaged files
        raise SweepError(
            f"{folder / 'runs.parquet'}: cannot be read ({err}); run the sweep again"
        ) from None
    try:
        check_run_ids(folder, ids, manifest)
        if "files" in manifest:
            verify_files(folder, manifest, VERIFIED_SWEEP_FILES, what="sweep")
    except FolderError as err:
        raise SweepError(str(err)) from None
    return SweepResult(folder, manifest)


def default_folder(name: str) -> Path:
    """``results/sweep-<name>-<UTC timestamp>``."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("results") / f"sweep-{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}-{stamp}"


SWEEP_INPUTS: tuple[str, ...] = ("design.parquet", "sweep.yaml", "base_scenario.json")
"""What a sweep writes into its folder before its manifest: its inputs."""

SWEEP_OWNED: frozenset[str] = frozenset(
    {
        *SWEEP_INPUTS,
        "manifest.json",
        "manifest.json.tmp",
        "runs.parquet",
        "runs.parquet.tmp",
        "timeseries.parquet",
        "timeseries.parquet.tmp",
        "parts",
        "sensitivity.csv",  # `flowsim sensitivity`: read back with the runs, so never kept
        "sensitivity.png",
    }
)
"""Every name flowsim writes in a sweep folder: all that ``--force`` removes."""

_SWEEP_FIELDS: tuple[str, ...] = ("spec_sha256", "runs", "design", "started", "status")
"""Fields every manifest of a flowsim sweep has (with ``"kind": "sweep"``)."""


def is_sweep_folder(folder: Path, manifest: dict[str, Any] | None) -> bool:
    """Whether ``folder`` is a sweep folder flowsim wrote, not merely one that says so.

    Its manifest has ``"kind": "sweep"`` and the fields flowsim writes, and the folder
    holds the design flowsim writes before the manifest (``design.parquet``).
    """
    return (
        isinstance(manifest, dict)
        and manifest.get("kind") == "sweep"
        and all(key in manifest for key in _SWEEP_FIELDS)
        and (folder / "design.parquet").is_file()
    )


def _only_inputs(folder: Path) -> bool:
    """Whether ``folder`` holds nothing but a sweep's inputs.

    That is a start that stopped before its manifest (a full disk, a kill): no run was
    done yet, so the sweep may be started there again.
    """
    from flowsim.diskio import TEMP_FILE

    names = [p.name for p in folder.iterdir()]
    return bool(names) and all(n in SWEEP_INPUTS or TEMP_FILE.match(n) for n in names)


def _prepare_folder(
    folder: Path, plan: SweepPlan, resume: bool, force: bool
) -> tuple[dict[str, Any] | None, list[str]]:
    """Check what the folder holds.

    Returns:
        the manifest to continue from (resume), else None; and the names ``--force``
        kept (what the user had added to the folder).
    """
    try:
        manifest = read_manifest(folder) if folder.exists() else None
    except DamagedManifestError as err:
        if force and _looks_like_sweep(folder):
            return None, _empty(folder)
        raise SweepError(
            f"{err}. This folder cannot be resumed; start the sweep again with --force "
            "(removes flowsim's files in it) or choose another --out"
        ) from None
    if manifest is None and folder.exists() and _only_inputs(folder):
        _empty(folder)  # a start that never got as far as its manifest: begin again
        return None, []
    if resume and manifest is None:
        raise SweepError(
            f"{folder}: nothing to resume (no sweep manifest.json); drop --resume to start it"
        )
    if manifest is None:
        if folder.exists() and any(folder.iterdir()):
            raise SweepError(
                f"{folder}: folder is not empty and holds no sweep; choose a new or empty --out"
            )
        return None, []
    if manifest.get("kind") != "sweep":
        raise SweepError(
            f"{folder}: holds other results (a {manifest.get('kind', 'run')}); choose another --out"
        )
    if not is_sweep_folder(folder, manifest):
        raise SweepError(
            f'{folder}: its manifest.json says "kind": "sweep" but the folder was not '
            "written by `flowsim sweep` (the manifest lacks flowsim's fields, or design.parquet "
            "is missing), so it is neither resumed nor replaced; nothing was changed. "
            "Choose another --out"
        )
    if force:
        return None, _empty(folder)
    if not resume:
        state = (
            "a complete sweep" if manifest.get("status") == "complete" else "an unfinished sweep"
        )
        raise SweepError(
            f"{folder}: already holds {state}; use --resume to continue it, --force to start it "
            "again from scratch, or another --out"
        )
    changed = [
        what
        for what, key, value in (
            ("the sweep file", "spec_sha256", plan.spec_sha256),
            ("the base scenario (or --scale/--steps)", "base_scenario_sha256", plan.base_sha256),
            ("the --ensemble", "ensemble_sha256", plan.ensemble_sha256),
        )
        if manifest.get(key) != value
    ]
    if changed:
        raise SweepError(
            f"{folder}: cannot resume: {' and '.join(changed)} changed since the sweep started; "
            "restore them, or start a new sweep with another --out (or --force)"
        )
    return manifest, []


def _looks_like_sweep(folder: Path) -> bool:
    """A folder with a sweep's inputs (design.parquet and parts/ or sweep.yaml)."""
    return (folder / "design.parquet").is_file() and (
        (folder / "parts").is_dir() or (folder / "sweep.yaml").is_file()
    )


def _empty(folder: Path) -> list[str]:
    """Remove what flowsim wrote in a sweep folder (:data:`SWEEP_OWNED`); return what is kept.

    The user's own files (notes, figures, a notebook) stay; the lock lives beside the
    folder and stays held.
    """
    from flowsim.diskio import TEMP_FILE, foreign_entries

    for entry in folder.iterdir():
        if entry.name in SWEEP_OWNED or TEMP_FILE.match(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    return foreign_entries(folder, lambda name: name in SWEEP_OWNED)


def _new_manifest(plan: SweepPlan, workers: int | None, scheduler: str | None) -> dict[str, Any]:
    spec = plan.spec
    git = git_commit()
    return {
        "kind": "sweep",
        "status": "running",
        "name": spec.name,
        "description": spec.description,
        "flowsim": versions().get("flowsim"),
        "versions": versions(),
        "platform": platform.platform(),
        "git_commit": (git or {}).get("commit"),
        "git_dirty": (git or {}).get("dirty"),
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "spec_file": str(plan.spec_file) if plan.spec_file else None,
        "spec_sha256": plan.spec_sha256,
        "spec": spec.model_dump(mode="json"),
        "base_scenario_file": str(plan.base_file) if plan.base_file else None,
        "base_scenario_sha256": plan.base_sha256,
        "base_overrides": plan.base_overrides,
        "model": "flowsim" if plan.base is not None else _describe(plan.model),
        "scale": plan.base.scale if plan.base is not None else None,
        "steps": plan.base.steps if plan.base is not None else None,
        "warmup_steps": plan.base.warmup_steps if plan.base is not None else None,
        "design": spec.design,
        "samples": spec.samples,
        "design_points": plan.n_points,
        "replications": spec.replications,
        "runs": plan.n_runs,
        "root_seed": spec.seed,
        "replicate_seeds": plan.seeds,
        "factors": plan.design.factor_names,
        "levers": list(spec.levers),
        "uncertainties": list(spec.uncertainties),
        "salib_problem": plan.design.problem,
        "outcomes": list(spec.outcomes),
        "ensemble_sha256": plan.ensemble_sha256,
        "ensemble": plan.ensemble.record(spec.replications) if plan.ensemble else None,
        "ensemble_parameters": list(plan.design.ensemble_parameters),
        "executor": {"scheduler": scheduler}
        if scheduler
        else {"workers": workers or default_workers()},
        "started": now(),
        "sessions": [],
        "finished": None,
        "failures": [],
    }


def _describe(model: Model) -> str:
    """A short name for a custom model (its class or function), for the manifest."""
    kind = model if callable(model) and hasattr(model, "__qualname__") else type(model)
    return f"{kind.__module__}.{kind.__qualname__}"


def _write_inputs(folder: Path, plan: SweepPlan) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.Table.from_pandas(plan.design.points, preserve_index=False), folder / "design.parquet"
    )
    if plan.spec_file is not None:
        shutil.copyfile(plan.spec_file, folder / "sweep.yaml")
    if plan.base is not None:
        text = json.dumps(plan.base.model_dump(by_alias=True, mode="json"), indent=2)
        (folder / "base_scenario.json").write_text(text + "\n", encoding="utf-8")


def _batch_size(n_runs: int) -> int:
    """About a hundred parts per sweep, 5 to 500 runs each."""
    return min(500, max(5, n_runs // 100))


def sweep(
    spec: SweepSpec | dict[str, Any] | str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    out: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    scale: float | None = None,
    steps: int | None = None,
    progress: bool = True,
    model: Model | None = None,
    batch_size: int | None = None,
    samples: int | None = None,
    replications: int | None = None,
    security: Any = None,
    yes: bool = False,
    ensemble: str | Path | Ensemble | None = None,
    cache: bool = True,
) -> SweepResult:
    """Run a sweep and stream its results to disk; return them as DataFrames.

    Args:
        spec: a sweep file, a :class:`~flowsim.sweep.spec.SweepSpec`, or a dict of one.
        workers: 1 runs in this process; N starts a local Dask cluster of N single-threaded
            processes on 127.0.0.1; None uses every core.
        scheduler: address of an existing Dask scheduler (``tls://host:port``).
        client: instead of ``scheduler``, a ``dask.distributed.Client`` (used as it is,
            left open) or a cluster object with a ``scheduler_address`` (a
            ``LocalCluster``, dask-jobqueue's ``SLURMCluster``, dask-kubernetes'
            ``KubeCluster``; left running). The manifest records its address.
        out: results folder; default ``results/sweep-<name>-<UTC timestamp>``.
        resume: complete the unfinished sweep in ``out`` (finished runs are not redone).
        force: delete what a previous sweep left in ``out`` and start again (only flowsim's
            files, :data:`SWEEP_OWNED`; what the user added is kept and listed; a folder
            that merely claims to be a sweep is refused, see :func:`is_sweep_folder`).
        scale: override the base scenario's scale (quick trials).
        steps: override the base scenario's months.
        progress: show the finished runs (a bar on a terminal, plain lines in a log).
        model: a custom model instead of flowsim (see :mod:`flowsim.sweep.tasks`).
        batch_size: runs per Parquet part (default: about 100 parts per sweep).
        samples: override the sweep file's ``samples:`` (quick looks; not for factorial).
        replications: override the sweep file's ``replications:``.
        security: a ``distributed.security.Security`` to reach ``scheduler`` (default:
            Dask's configuration). Local clusters always use temporary TLS credentials.
        yes: run a sweep of more than :data:`~flowsim.sweep.plan.MAX_RUNS` runs.
        ensemble: an ensemble folder (or :class:`~flowsim.ensemble.Ensemble`): every design
            point is run with every parameter set, each with the sweep's replicate seeds
            (see :func:`~flowsim.sweep.plan.plan_sweep`).
        cache: share warm-ups through the warm-start cache (:mod:`flowsim.warmstart`): the
            warm-up does not depend on the policy, so N policy points x R replicates pay R
            warm-ups; False runs every one (results are bit-identical either way).

    The folder is held by a :class:`~flowsim.diskio.WriterLock` while this writes it:
    a second ``sweep`` (or ``--resume``) on the same folder is refused.

    Raises:
        ConfigError: the sweep file or its base scenario is wrong.
        SweepError: the output folder cannot be used as asked, another process writes
            it, or the scheduler cannot be reached.
        OSError: writing failed (e.g. a full disk); finished runs are kept for ``resume``.
    """
    plan = plan_sweep(
        spec,
        scale=scale,
        steps=steps,
        model=model,
        samples=samples,
        replications=replications,
        yes=yes,
        ensemble=ensemble,
        cache=cache,
    )
    if resume and out is None:
        raise SweepError("--resume needs --out: the folder of the sweep to complete")
    folder = Path(out) if out is not None else default_folder(plan.spec.name)
    _check_out(folder)
    if client is not None:
        if scheduler is not None:
            raise SweepError("give scheduler= (an address) or client=, not both")
        executor.scheduler_address(client)  # a TypeError naming what to pass
        scheduler = client
    elif scheduler is not None:
        check_scheduler(scheduler, security=security)
    lock = WriterLock(folder, what="sweep folder")
    try:
        lock.acquire()
    except FolderLockedError as err:
        raise SweepError(str(err)) from None
    except OSError as err:
        raise SweepError(
            f"{folder}: cannot write here ({err.strerror or err}); choose another --out"
        ) from None
    try:
        return _sweep_locked(
            plan, folder, lock, workers, scheduler, resume, force, progress, batch_size, security
        )
    finally:
        lock.release()


def _sweep_locked(
    plan: SweepPlan,
    folder: Path,
    lock: WriterLock,
    workers: int | None,
    scheduler: executor.Scheduler | None,
    resume: bool,
    force: bool,
    progress: bool,
    batch_size: int | None,
    security: Any = None,
) -> SweepResult:
    """:func:`sweep` once the folder's lock is held."""
    from flowsim.progress import progress_bar

    manifest, kept = _prepare_folder(folder, plan, resume, force)
    if kept:
        print(
            f"note: --force replaced only flowsim's files in {folder}; kept what you had added: "
            f"{', '.join(kept)} (anything made from the earlier sweep is now out of date)",
            file=sys.stderr,
        )
    if manifest is not None and manifest.get("status") == "complete":
        return SweepResult(folder, manifest)
    if manifest is None:
        try:
            _write_inputs(folder, plan)
        except PermissionError as err:
            raise SweepError(
                f"{folder}: cannot write here ({err.strerror}); choose another --out"
            ) from None
        manifest = _new_manifest(plan, workers, executor.scheduler_address(scheduler))
    session = {
        "started": now(),
        "workers": workers,
        "scheduler": executor.scheduler_address(scheduler),
    }
    if lock.stale:
        session["took_over_from"] = f"{lock.stale} (stopped without releasing its lock)"
    manifest["sessions"].append(session)
    write_manifest(folder, manifest)

    factor_columns = plan.design.points[plan.design.stored_columns]
    store = SweepStore(
        folder,
        runs_schema(factor_columns, plan.spec.outcomes),
        batch_size=batch_size or _batch_size(plan.n_runs),
    )
    try:
        done = store.finished_run_ids()
    except DamagedPartError as err:
        raise SweepError(str(err)) from None
    bar = progress_bar(
        plan.n_runs, initial=len(done), unit="run", desc=plan.spec.name, disable=not progress
    )
    failed = 0

    def on_result(record: dict[str, Any]) -> None:
        nonlocal failed
        store.add(record, plan.design.stored(record["point_id"]))
        failed += record["error"] is not None
        bar.update(1)
        if failed:
            bar.set_postfix(failed=failed)

    def record(result: dict[str, Any]) -> None:
        try:
            on_result(result)
        except OSError as err:  # writing the results (a full disk), not the cluster
            err.flowsim_writing = True  # type: ignore[attr-defined]
            raise

    try:
        execute(
            plan.tasks(done),
            plan.model,
            record,
            workers=workers,
            scheduler=scheduler,
            security=security,
        )
    except OSError as err:
        if scheduler is None or getattr(err, "flowsim_writing", False):
            raise
        reason = str(err) or type(err).__name__
        raise SchedulerError(
            f"--scheduler {executor.scheduler_address(scheduler)}: the Dask scheduler did not "
            f"answer as one ({reason}); "
            "the finished runs are kept: check the scheduler and add --resume"
        ) from None
    finally:
        store.flush()
        bar.close()
    store.consolidate()
    runs = pd.read_parquet(folder / "runs.parquet", columns=["run_id", "error"])
    try:
        check_run_ids(folder, runs, manifest)
    except FolderError as err:  # never mark a damaged folder complete
        raise SweepError(str(err)) from None
    errors = runs[runs["error"].notna()]
    manifest["failures"] = [
        {"run_id": int(r.run_id), "error": r.error} for r in errors.itertuples()
    ]
    manifest["files"] = {
        name: sha256_file(folder / name)
        for name in ("runs.parquet", "timeseries.parquet", "design.parquet")
        if (folder / name).is_file()
    }
    manifest["status"] = "complete"
    manifest["finished"] = now()
    manifest["sessions"][-1]["finished"] = manifest["finished"]
    write_manifest(folder, manifest)
    store.remove_parts()
    return SweepResult(folder, manifest)


__all__ = [
    "SchedulerError",
    "SweepError",
    "SweepResult",
    "check_scheduler",
    "default_folder",
    "is_sweep_folder",
    "read_sweep",
    "sweep",
]
