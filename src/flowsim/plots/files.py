"""Draw every figure that applies to results folders and write them as files."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from flowsim.compare import DEFAULT_OUTPUTS, compare
from flowsim.folders import (
    FolderError,
    folder_kind,
    read_run_folder,
    read_sweep_folder,
    sweep_columns,
)
from flowsim.outputs import REPORTED, YEARLY_SHARES
from flowsim.plots.bay_map import plot_map
from flowsim.plots.comparison import SHOWN_OUTPUTS, plot_comparison
from flowsim.plots.heatmap import plot_corridor_heatmap
from flowsim.plots.labels import FORMATS, save
from flowsim.plots.sweep import plot_sensitivity, plot_sweep_outcomes
from flowsim.plots.timeseries import DEFAULT_OUTPUTS as SERIES_OUTPUTS
from flowsim.plots.timeseries import plot_timeseries
from flowsim.sidecar import write_provenance

FigureMaker = Callable[[], Figure]


def run_figures(folder: str | Path, outputs: Sequence[str] | None = None) -> dict[str, FigureMaker]:
    """The figures of a run folder, by file stem: time series, map and corridor heat map.

    ``outputs`` chooses the time series drawn (default :data:`~flowsim.plots.timeseries.
    DEFAULT_OUTPUTS`); those a run records only per year (the GII shares) are left out
    of it, and with none left there is no time-series figure.
    """
    data = read_run_folder(folder)
    series = (
        list(SERIES_OUTPUTS)
        if outputs is None
        else [o for o in outputs if o in data.timeseries.columns]
    )
    makers: dict[str, FigureMaker] = {}
    if series:
        makers["timeseries"] = lambda: plot_timeseries(
            data.timeseries, series, title=f"{data.name}: outputs over time"
        )
    return makers | {
        "map": lambda: plot_map(data.flows, data.months, title=f"{data.name}: cross-border flows"),
        "corridors": lambda: plot_corridor_heatmap(
            data.flows, data.months, title=f"{data.name}: border crossings"
        ),
    }


def sweep_figures(
    folder: str | Path, outputs: Sequence[str] | None = None
) -> dict[str, FigureMaker]:
    """The figures of a sweep folder: outcomes against levers, and sensitivity once analysed.

    ``outputs`` chooses the outcomes drawn (default all of the sweep's); with none of
    them in the sweep there is no figure.
    """
    data = read_sweep_folder(folder)
    parameters, outcomes = sweep_columns(data.runs, data.manifest)
    if outputs is not None:
        outcomes = [o for o in outputs if o in outcomes]
    if not outcomes:
        return {}
    makers: dict[str, FigureMaker] = {
        "outcomes": lambda: plot_sweep_outcomes(data.runs, parameters, outcomes)
    }
    if data.sensitivity is not None:
        table = data.sensitivity[data.sensitivity["outcome"].isin(outcomes)]
        if not table.empty:
            makers["sensitivity"] = lambda: plot_sensitivity(table)
    return makers


def _check_outputs(outputs: Sequence[str], paths: Sequence[Path], kinds: Sequence[str]) -> None:
    """Refuse names that are no output of a run and no outcome of any sweep given."""
    known = set(REPORTED) | set(YEARLY_SHARES)
    for folder, kind in zip(paths, kinds, strict=True):
        if kind == "sweep":
            data = read_sweep_folder(folder)
            known |= set(sweep_columns(data.runs, data.manifest)[1])
    unknown = [o for o in outputs if o not in known]
    if unknown:
        close = {o: difflib.get_close_matches(o, sorted(known), n=1) for o in unknown}
        hints = "; ".join(f"{o!r}: did you mean {c[0]!r}?" for o, c in close.items() if c)
        where = ", ".join(str(p) for p in paths)
        raise ValueError(
            f"--outputs: unknown output(s) {unknown} for {where}"
            + (f" ({hints})" if hints else "")
            + "; outputs are listed in flowsim.outputs (REPORTED, YEARLY_SHARES)"
            + (" and a sweep's outcomes in its manifest.json" if "sweep" in kinds else "")
        )


PROVENANCE = "provenance.json"
"""File beside the figures that names the results folders they were drawn from."""


def plot_folder(
    folders: str | Path | Sequence[str | Path],
    out: str | Path | None = None,
    *,
    fmt: str = "png",
    force: bool = False,
    progress: Callable[[str], None] | None = None,
    outputs: Sequence[str] | None = None,
    allow_mixed_scales: bool = False,
) -> list[Path]:
    """Draw every figure that applies to results folders and write them.

    A run folder gets ``timeseries``, ``map`` and ``corridors``; a sweep folder gets
    ``outcomes`` and, once ``flowsim sensitivity`` has run, ``sensitivity``. Several run
    folders also get ``comparison`` and ``comparison-difference`` (the first is the reference).

    Args:
        folders: one folder or several.
        out: where to write; default ``FOLDER/figures/`` for one folder, and the first folder's
            ``figures/`` for the comparison of several.
        fmt: ``png`` or ``svg``.
        force: replace figures that exist already.
        progress: called with each file's path before it is drawn.
        outputs: the outputs to draw (time series, comparison panels, sweep outcomes);
            default each figure's own selection.
        allow_mixed_scales: compare run folders of different agent scales (see
            :func:`flowsim.compare.compare`).

    Returns:
        The paths written.

    Raises:
        FolderError: a folder is not a run or sweep folder.
        FileExistsError: a figure exists and ``force`` is false (nothing is written then).
    """
    if fmt not in FORMATS:
        raise ValueError(f"cannot write figures as {fmt!r}; use one of {', '.join(FORMATS)}")
    paths = [Path(folders)] if isinstance(folders, (str, Path)) else [Path(f) for f in folders]
    if not paths:
        raise FolderError(
            "no folder given; give a folder written by `flowsim run` or `flowsim sweep`"
        )
    kinds = [folder_kind(p) for p in paths]
    if outputs is not None:
        outputs = list(dict.fromkeys(outputs))
        _check_outputs(outputs, paths, kinds)
    planned: dict[Path, FigureMaker] = {}
    for folder, kind in zip(paths, kinds, strict=True):
        target = Path(out) if out is not None else folder / "figures"
        # With one output folder for several inputs, each input's figures carry its folder name.
        prefix = f"{folder.name}-" if out is not None and len(paths) > 1 else ""
        makers = run_figures(folder, outputs) if kind == "run" else sweep_figures(folder, outputs)
        for stem, maker in makers.items():
            planned[target / f"{prefix}{stem}.{fmt}"] = maker
    runs = [p for p, k in zip(paths, kinds, strict=True) if k == "run"]
    if len(runs) > 1:
        target = Path(out) if out is not None else runs[0] / "figures"
        shown = list(SHOWN_OUTPUTS) if outputs is None else outputs
        table = compare(
            runs,
            list(dict.fromkeys([*shown, *DEFAULT_OUTPUTS])),
            allow_mixed_scales=allow_mixed_scales,
        )
        planned[target / f"comparison.{fmt}"] = lambda: plot_comparison(table, shown)
        planned[target / f"comparison-difference.{fmt}"] = lambda: plot_comparison(
            table, shown, kind="difference"
        )
        planned[target / f"comparison-overview.{fmt}"] = lambda: plot_comparison(
            table, shown, kind="overview"
        )
    existing = [str(p) for p in planned if p.exists()]
    if existing and not force:
        raise FileExistsError(
            f"figures exist already: {', '.join(existing)}; "
            "choose another --out or replace them with --force"
        )
    written = []
    for path, maker in planned.items():
        if progress is not None:
            progress(str(path))
        try:
            written.append(save(maker(), path))
        except OSError as err:  # a full disk: say which figure could not be written
            if not err.filename:
                err.filename = str(path)
            raise
    # each figures folder says which results folders its figures were drawn from
    for target in sorted({p.parent for p in written}):
        figures = [p for p in written if p.parent == target]
        write_provenance(target / PROVENANCE, paths, figures, "figures drawn by flowsim plot")
    return written
