"""The ensemble folder: parameter sets consistent with the calibration targets.

``flowsim calibrate`` writes one into its output folder; ``--ensemble DIR`` of
``run``/``sweep``/``compare`` reads it back with :func:`load_ensemble`. The format
(version ``flowsim-ensemble/1``) is two files side by side::

    DIR/ensemble.csv    one row per member:
                          member      0, 1, ... (the order members are used in)
                          trial       the calibration trial it comes from (-1: not from a trial)
                          objective   that trial's weighted distance (lower is better)
                          within_all  true if every calibration target was within tolerance
                          <dotted.path> ...  one column per free parameter, e.g.
                                      research.inventions_per_project_firm
    DIR/ensemble.yaml   the manifest:
                          format: flowsim-ensemble/1
                          parameters: [dotted paths, the same as the csv's parameter columns]
                          bounds: {dotted path: [low, high]}
                          scenario: the scenario file the parameters apply to (as given)
                          targets: the targets file the ensemble was fitted to
                          selection: how members were chosen (text)
                          members: number of rows in ensemble.csv
                          created, versions, git commit

A member is a plain ``{dotted path: value}`` dictionary: applied with
:func:`flowsim.params.with_overrides` on top of the scenario it was fitted for.
Nothing else in the folder is needed to use the ensemble.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from flowsim.diskio import write_csv_atomic, write_text_atomic
from flowsim.provenance import git_commit, versions

FORMAT = "flowsim-ensemble/1"
"""Version tag of the folder format, written in ``ensemble.yaml``."""

CSV = "ensemble.csv"
MANIFEST = "ensemble.yaml"
META_COLUMNS: tuple[str, ...] = ("member", "trial", "objective", "within_all")
"""Columns of ``ensemble.csv`` that are not parameters."""


class EnsembleError(ValueError):
    """An ensemble folder that cannot be read; the message says what to do."""


def write_ensemble(
    folder: str | Path,
    members: pd.DataFrame,
    parameters: Sequence[str],
    *,
    bounds: dict[str, tuple[float, float]] | None = None,
    scenario: str | None = None,
    targets: str | None = None,
    selection: str = "",
) -> Path:
    """Write ``ensemble.csv`` and ``ensemble.yaml`` into ``folder`` (created if needed).

    Args:
        folder: where to write (the ``--out`` folder of ``flowsim calibrate``).
        members: one row per member with the :data:`META_COLUMNS` (``trial``, ``objective``
            and ``within_all`` may be missing) and one column per parameter.
        parameters: the dotted paths, in column order.
        bounds: each parameter's (low, high) in the fit.
        scenario: the scenario file the members apply to.
        targets: the targets file they were fitted to.
        selection: how the members were chosen, in words.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    frame = members.reset_index(drop=True).copy()
    frame["member"] = range(len(frame))
    for name, default in (("trial", -1), ("objective", float("nan")), ("within_all", False)):
        if name not in frame:
            frame[name] = default
    missing = [p for p in parameters if p not in frame]
    if missing:
        raise EnsembleError(f"members lack the parameter columns {missing}")
    frame = frame[[*META_COLUMNS, *parameters]]
    write_csv_atomic(frame, folder / CSV, index=False)
    commit, dirty = git_commit()
    manifest = {
        "format": FORMAT,
        "parameters": list(parameters),
        "bounds": {k: [float(v[0]), float(v[1])] for k, v in (bounds or {}).items()},
        "scenario": scenario,
        "targets": targets,
        "selection": selection,
        "members": len(frame),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "versions": versions(),
        "git_commit": commit,
        "git_dirty": dirty,
    }
    write_text_atomic(folder / MANIFEST, yaml.safe_dump(manifest, sort_keys=False))
    return folder


def load_ensemble(folder: str | Path) -> list[dict[str, float]]:
    """The parameter sets of an ensemble folder, in member order: ``[{dotted path: value}]``.

    The folder is read by :func:`flowsim.ensemble.read_parameter_sets`, the one reader of
    the format (imported on first use: it needs the model).

    Raises:
        EnsembleError: the folder, its manifest or its table is missing or inconsistent.
    """
    from flowsim.ensemble import load_ensemble as read

    return read(folder)


__all__ = [
    "CSV",
    "FORMAT",
    "MANIFEST",
    "META_COLUMNS",
    "EnsembleError",
    "load_ensemble",
    "write_ensemble",
]
