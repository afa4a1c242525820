"""Where a policy works: scenario discovery with PRIM over a sweep or an ensemble run.

Scenario discovery (as EMA Workbench users do it) asks: under which ranges of the
levers and the uncertain parameters does an outcome pass a threshold? Each run of a
sweep (or each replicate of an ensemble run) is a *case*; the cases where the
outcome is above (or below) the threshold are the *cases of interest*. PRIM, the
Patient Rule Induction Method (Friedman and Fisher 1999), peels thin slices off
the box of all cases, one parameter at a time, keeping the box where the share of
cases of interest grows, and then pastes back what it can. Each step of this
*peeling trajectory* is a box with

- **coverage**: the share of all cases of interest that fall in the box;
- **density**: the share of the cases in the box that are of interest;
- **mass**: the share of all cases in the box.

The implementation is the EMA Workbench's (:class:`ema_workbench.analysis.prim.Prim`,
Kwakkel 2017); this module only prepares the cases, picks a box on the trajectory
and reports it. By default the box picked is the one with the highest coverage among
those with a density of at least ``min_density`` (0.8); ``box=`` picks another.
"""

from __future__ import annotations

import difflib
import inspect
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from flowsim.folders import FolderError, folder_kind, read_run_folder
from flowsim.sidecar import write_provenance

Aggregate = Literal["run", "point"]

MISSING_EMA = (
    "flowsim discover needs the EMA Workbench (its PRIM): install the discover extra, "
    "pip install 'flowsim[discover]' (from a clone: pip install -e '.[discover]')"
)
"""What ``flowsim discover`` says when the ``discover`` extra is not installed."""

FEW_VALUES = 12
"""A parameter with at most this many distinct values is reported by the values in the box."""


class DiscoverError(ValueError):
    """Scenario discovery cannot be done as asked; the message says why and what to do."""


@dataclass
class Cases:
    """The cases PRIM sees: one row per run (or design point) with its parameters and outcome.

    Attributes:
        x: the parameters of each case (levers and uncertain parameters, dotted paths).
        outcome: the outcome of each case.
        kinds: each parameter's kind: ``lever``, ``uncertainty`` or ``ensemble``.
        source: what the cases are (``sweep`` or ``ensemble run``).
    """

    x: pd.DataFrame
    outcome: np.ndarray
    kinds: dict[str, str]
    source: str


@dataclass
class Discovery:
    """A box found by PRIM.

    Attributes:
        folder: the sweep or ensemble run.
        outcome: the outcome's name.
        threshold: the threshold.
        above: cases of interest have the outcome above (True) or below the threshold.
        cases: number of cases (runs, or design points with ``aggregate="point"``).
        of_interest: cases of interest.
        aggregate: ``run`` or ``point``.
        trajectory: the peeling trajectory: ``box`` (its number), ``coverage``, ``density``,
            ``mass``, ``n`` (cases in the box), ``k`` (cases of interest in it), ``res_dim``
            (restricted parameters).
        chosen: the number of the box reported.
        limits: one row per parameter: ``parameter``, ``kind``, ``restricted``, ``low``,
            ``high`` (the box), ``min``, ``max`` (all cases), ``values`` (for a parameter
            with at most :data:`FEW_VALUES` distinct values, those the cases in the box have).
        min_density: the density the box was chosen for.
        all_limits: the limits of every box on the trajectory (``box``, ``parameter``, ``low``,
            ``high``), for drawing.
    """

    folder: Path
    outcome: str
    threshold: float
    above: bool
    cases: int
    of_interest: int
    aggregate: str
    trajectory: pd.DataFrame
    chosen: int
    limits: pd.DataFrame
    all_limits: pd.DataFrame = field(repr=False)
    min_density: float = 0.8

    @property
    def coverage(self) -> float:
        """Coverage of the chosen box."""
        return float(self.trajectory.loc[self.chosen, "coverage"])

    @property
    def density(self) -> float:
        """Density of the chosen box."""
        return float(self.trajectory.loc[self.chosen, "density"])

    @property
    def mass(self) -> float:
        """Mass of the chosen box."""
        return float(self.trajectory.loc[self.chosen, "mass"])

    @property
    def restricted(self) -> pd.DataFrame:
        """The limits of the parameters the chosen box restricts."""
        return self.limits[self.limits["restricted"]].reset_index(drop=True)

    @property
    def condition(self) -> str:
        """``outcome > threshold`` or ``outcome < threshold``."""
        return f"{self.outcome} {'>' if self.above else '<'} {self.threshold:g}"


# ------------------------------------------------------------------ cases


def _unknown_outcome(outcome: str, available: list[str], folder: Path) -> DiscoverError:
    close = difflib.get_close_matches(outcome, available, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return DiscoverError(
        f"{folder}: no outcome {outcome!r}; {hint}this folder has: {', '.join(available)}"
    )


def _sweep_cases(folder: Path, outcome: str, aggregate: Aggregate) -> Cases:
    from flowsim.sweep.api import SweepError, read_sweep

    try:
        result = read_sweep(folder)
    except SweepError as err:
        raise DiscoverError(str(err)) from None
    manifest = result.manifest
    runs = result.runs
    outcomes = [o for o in manifest.get("outcomes", []) if o in runs.columns]
    if outcome not in outcomes:
        raise _unknown_outcome(outcome, outcomes, folder)
    runs = runs[runs["error"].isna() & runs[outcome].notna()]
    kinds: dict[str, str] = {}
    for kind, key in (
        ("lever", "levers"),
        ("uncertainty", "uncertainties"),
        ("ensemble", "ensemble_parameters"),
    ):
        kinds |= {str(name): kind for name in manifest.get(key) or [] if name in runs.columns}
    if not kinds:
        kinds = {str(name): "lever" for name in manifest.get("factors", []) if name in runs}
    if aggregate == "point":
        runs = runs.groupby("point_id", as_index=False).agg(
            {**{name: "first" for name in kinds}, outcome: "mean"}
        )
    return Cases(runs[list(kinds)].reset_index(drop=True), runs[outcome].to_numpy(), kinds, "sweep")


def _ensemble_run_cases(folder: Path, outcome: str, aggregate: Aggregate) -> Cases:
    from flowsim.compare import whole_run
    from flowsim.outputs import REPORTED, YEARLY_SHARES

    data = read_run_folder(folder)
    ensemble = data.manifest.get("ensemble")
    yearly = data.yearly
    if not ensemble or "parameter_set" not in yearly.columns:
        raise DiscoverError(
            f"{folder}: a run folder without an ensemble has no parameters that vary; give a "
            "sweep folder (`flowsim sweep`) or an ensemble run (`flowsim run FILE --ensemble DIR`)"
        )
    available = [o for o in dict.fromkeys(REPORTED + YEARLY_SHARES) if o in yearly.columns]
    if outcome not in available:
        raise _unknown_outcome(outcome, available, folder)
    per_run = whole_run(yearly, [outcome])
    sets = pd.DataFrame.from_records(ensemble["sets"])
    parameters = [str(p) for p in ensemble["parameters"]]
    if aggregate == "point":
        per_run = per_run.groupby("parameter_set", as_index=False)[outcome].mean()
    cases = per_run.merge(sets, on="parameter_set", how="left", validate="many_to_one")
    return Cases(
        cases[parameters].reset_index(drop=True),
        cases[outcome].to_numpy(),
        dict.fromkeys(parameters, "ensemble"),
        "ensemble run",
    )


def read_cases(folder: str | Path, outcome: str, aggregate: Aggregate = "run") -> Cases:
    """The cases of a sweep folder or an ensemble run folder, for one outcome.

    Args:
        folder: a finished sweep (``flowsim sweep``) or an ensemble run
            (``flowsim run FILE --ensemble DIR``).
        outcome: an outcome of the sweep (its ``outcomes``) or an output of the run.
        aggregate: ``run``: one case per run; ``point``: one per design point (an ensemble
            run: per parameter set), the outcome averaged over its replicates.

    Raises:
        DiscoverError: the folder is neither, the outcome is unknown, or no parameter varies.
    """
    folder = Path(folder)
    try:
        kind = folder_kind(folder)
    except FolderError as err:
        raise DiscoverError(str(err)) from None
    reader = _sweep_cases if kind == "sweep" else _ensemble_run_cases
    try:
        cases = reader(folder, outcome, aggregate)
    except FolderError as err:
        raise DiscoverError(str(err)) from None
    varied = [c for c in cases.x.columns if cases.x[c].nunique(dropna=True) > 1]
    if not varied:
        raise DiscoverError(f"{folder}: no lever or parameter takes more than one value")
    cases.x = cases.x[varied]
    cases.kinds = {name: cases.kinds[name] for name in varied}
    return cases


def _prim_input(x: pd.DataFrame) -> pd.DataFrame:
    """Parameters as PRIM wants them: numbers as floats, text as categories."""
    out = pd.DataFrame(index=x.index)
    for name in x.columns:
        column = x[name]
        if pd.api.types.is_bool_dtype(column):
            out[name] = column.astype(np.float64)
        elif pd.api.types.is_numeric_dtype(column):
            out[name] = column.astype(np.float64)
        else:
            out[name] = column.astype(str).astype("category")
    return out


# ------------------------------------------------------------------ PRIM


def _prim_module() -> Any:
    """``ema_workbench.analysis.prim``, or a DiscoverError naming the extra that installs it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optional parallel back-ends it does not find
            from ema_workbench.analysis import prim
    except ImportError:
        raise DiscoverError(MISSING_EMA) from None
    return prim


def _prim(x: pd.DataFrame, y: np.ndarray, min_density: float, **options: float) -> Any:
    """The EMA Workbench's PRIM on these cases (its API differs a little across versions)."""
    prim = _prim_module()

    kwargs: dict[str, Any] = dict(options)
    if "threshold" in inspect.signature(prim.Prim.__init__).parameters:  # ema_workbench < 3
        kwargs["threshold"] = min_density
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y, **kwargs)
        return finder.find_box(), finder.box_init


def _limits_frame(box_lims: pd.DataFrame, box_init: pd.DataFrame, x: pd.DataFrame) -> list[dict]:
    rows = []
    for name in x.columns:
        low, high = box_lims[name].iloc[0], box_lims[name].iloc[1]
        if isinstance(x[name].dtype, pd.CategoricalDtype):
            inside = sorted(box_lims[name].iloc[0]) if isinstance(low, set) else [low]
            rows.append(
                {"parameter": name, "low": ", ".join(map(str, inside)), "high": None, "min": None}
            )
            continue
        rows.append(
            {
                "parameter": name,
                "low": float(low),
                "high": float(high),
                "min": float(box_init[name].iloc[0]),
                "max": float(box_init[name].iloc[1]),
            }
        )
    return rows


def discover(
    folder: str | Path,
    outcome: str,
    threshold: float,
    *,
    above: bool = True,
    aggregate: Aggregate = "run",
    min_density: float = 0.8,
    box: int | None = None,
    peel_alpha: float = 0.05,
    paste_alpha: float = 0.05,
    mass_min: float = 0.05,
) -> Discovery:
    """Find with PRIM the ranges of levers and parameters where ``outcome`` passes ``threshold``.

    Args:
        folder: a finished sweep or an ensemble run (see :func:`read_cases`).
        outcome: the outcome (a yearly mean over the run, real-world units).
        threshold: cases of interest have the outcome above it (or below, ``above=False``).
        above: the direction of the threshold.
        aggregate: ``run`` (each run a case) or ``point`` (each design point, averaged).
        min_density: the box chosen is the one of highest coverage among those with at
            least this density (if none has it, the densest box).
        box: choose this box of the peeling trajectory instead (0 is all cases).
        peel_alpha: the share of cases peeled off at each step.
        paste_alpha: the share of cases pasted back at each step.
        mass_min: PRIM stops peeling below this share of all cases in the box.

    Raises:
        DiscoverError: bad folder, unknown outcome, no case (or every case) of interest,
            a ``box`` that is not on the trajectory, or no EMA Workbench installed (the
            ``discover`` extra; checked first, before the folder is read).
    """
    _prim_module()
    folder = Path(folder)
    if not 0.0 < min_density <= 1.0:
        raise DiscoverError(f"the minimum density must be in (0, 1], not {min_density}")
    cases = read_cases(folder, outcome, aggregate)
    values = cases.outcome.astype(np.float64)
    y = values > threshold if above else values < threshold
    n_interest = int(y.sum())
    side = "above" if above else "below"
    if n_interest == 0 or n_interest == y.size:
        what = "no case has" if n_interest == 0 else "every case has"
        raise DiscoverError(
            f"{folder}: {what} {outcome} {side} {threshold:g} (the {y.size} cases range from "
            f"{values.min():.6g} to {values.max():.6g}); choose a threshold inside that range"
        )
    x = _prim_input(cases.x)
    found, box_init = _prim(
        x, y, min_density, peel_alpha=peel_alpha, paste_alpha=paste_alpha, mass_min=mass_min
    )
    peeling = found.peeling_trajectory
    trajectory = pd.DataFrame(
        {
            "box": np.arange(len(peeling)),
            **{c: peeling[c].to_numpy() for c in ("coverage", "density", "mass", "n", "k")},
            "res_dim": peeling["res_dim"].to_numpy(dtype=np.int64),
        }
    )
    if box is None:
        dense = trajectory[trajectory["density"] >= min_density - 1e-12]
        if dense.empty:
            chosen = int(trajectory["density"].idxmax())
        else:
            chosen = int(dense.sort_values(["coverage", "density"]).index[-1])
    else:
        if not 0 <= box < len(trajectory):
            raise DiscoverError(
                f"box {box} is not on the peeling trajectory (boxes 0 to {len(trajectory) - 1})"
            )
        chosen = int(box)
    all_limits = []
    for number, lims in enumerate(found.box_lims):
        for row in _limits_frame(lims, box_init, x):
            all_limits.append({"box": number, **row})
    every = pd.DataFrame.from_records(all_limits)
    limits = every[every["box"] == chosen].drop(columns="box").reset_index(drop=True)
    limits.insert(1, "kind", [cases.kinds[p] for p in limits["parameter"]])
    numeric = limits["min"].notna()
    restricted = np.zeros(len(limits), dtype=bool)
    restricted[numeric.to_numpy()] = (
        (limits.loc[numeric, "low"].astype(float) > limits.loc[numeric, "min"] + 1e-12)
        | (limits.loc[numeric, "high"].astype(float) < limits.loc[numeric, "max"] - 1e-12)
    ).to_numpy()
    limits.insert(2, "restricted", restricted)
    limits["values"] = _values_inside(x, limits)
    return Discovery(
        folder=folder,
        outcome=outcome,
        threshold=float(threshold),
        above=above,
        cases=int(y.size),
        of_interest=n_interest,
        aggregate=aggregate,
        trajectory=trajectory,
        chosen=chosen,
        limits=limits,
        all_limits=every,
        min_density=min_density,
    )


def _values_inside(x: pd.DataFrame, limits: pd.DataFrame) -> list[str | None]:
    """For parameters with few distinct values, the values of the cases inside the box."""
    inside = np.ones(len(x), dtype=bool)
    for row in limits.itertuples():
        if pd.isna(row.min):
            continue
        inside &= (x[row.parameter] >= float(row.low)) & (x[row.parameter] <= float(row.high))
    out: list[str | None] = []
    for row in limits.itertuples():
        column = x[row.parameter]
        if pd.isna(row.min) or column.nunique() > FEW_VALUES:
            out.append(None)
            continue
        out.append(", ".join(f"{v:g}" for v in sorted(column[inside].unique())))
    return out


# ------------------------------------------------------------------ report


def format_discovery(found: Discovery) -> str:
    """The box as text: the condition, its coverage, density and mass, and its limits."""
    unit = "design points" if found.aggregate == "point" else "runs"
    lines = [
        f"Scenario discovery (PRIM) in {found.folder}: {found.condition}",
        f"  {found.of_interest} of {found.cases} {unit} are of interest "
        f"({found.of_interest / found.cases:.0%})",
        f"  box {found.chosen} of {len(found.trajectory) - 1} on the peeling trajectory: "
        f"coverage {found.coverage:.2f}, density {found.density:.2f}, mass {found.mass:.2f}",
    ]
    restricted = found.restricted
    if found.density < found.min_density:
        lines.append(
            f"  no box on the trajectory reaches a density of {found.min_density:g}: within these "
            "ranges PRIM finds no region where the outcome reliably passes the threshold"
        )
    if restricted.empty:
        lines.append("  the box restricts no parameter")
    else:
        lines.append("  where it holds (restricted parameters; the rest may take any value):")
        width = max(len(p) for p in restricted["parameter"])
        for row in restricted.itertuples():
            if row.min is None or pd.isna(row.min):
                lines.append(f"    {row.parameter:<{width}}  in {{{row.low}}}  ({row.kind})")
                continue
            text = f"    {row.parameter:<{width}}  {row.low:>10.4g} to {row.high:<10.4g} "
            text += f"(of {row.min:.4g} to {row.max:.4g}; {row.kind})"
            if row.values:
                text += f"  values in the box: {row.values}"
            lines.append(text)
    return "\n".join(lines)


def discovery_figure(found: Discovery, path: str | Path | None = None) -> Any:
    """The peeling trajectory (density against coverage) and the chosen box's limits.

    Each parameter's limits are drawn on its whole range scaled to 0..1, with the box's
    ends printed; parameters the box does not restrict are drawn in grey ("any value").

    Returns:
        The matplotlib figure (also saved to ``path`` if given).
    """
    from matplotlib.ticker import MaxNLocator

    from flowsim.plots.labels import new_figure

    numeric = found.limits[found.limits["min"].notna()]
    numeric = pd.concat([numeric[numeric["restricted"]], numeric[~numeric["restricted"]]])
    rows = max(len(numeric), 1)
    fig = new_figure(11.0, max(3.6, 1.2 + 0.6 * rows))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.0, 1.25]})
    t = found.trajectory
    points = left.scatter(
        t["coverage"], t["density"], c=t["res_dim"], cmap="viridis", s=22, zorder=2
    )
    left.plot(t["coverage"], t["density"], color="0.7", lw=0.8, zorder=1)
    chosen = t.loc[found.chosen]
    left.scatter(
        [chosen["coverage"]], [chosen["density"]], s=120, facecolors="none",
        edgecolors="crimson", lw=1.6, zorder=3, label=f"box {found.chosen} (reported)",
    )  # fmt: skip
    left.axhline(found.min_density, color="0.6", lw=0.8, ls=":")
    left.set_xlabel("coverage (share of the cases of interest in the box)")
    left.set_ylabel("density (share of the box's cases of interest)")
    left.set_xlim(-0.02, 1.02)
    left.set_ylim(0.0, 1.02)
    left.set_title("Peeling trajectory")
    left.legend(loc="lower left", frameon=False)
    bar = fig.colorbar(points, ax=left, label="parameters restricted")
    bar.locator = MaxNLocator(integer=True)
    bar.update_ticks()
    right.set_title(
        f"Box {found.chosen}: coverage {found.coverage:.2f}, density {found.density:.2f}, "
        f"mass {found.mass:.2f}",
        fontsize=10,
    )
    for i, row in enumerate(numeric.itertuples()):
        y = rows - 1 - i
        span = (row.max - row.min) or 1.0
        right.plot([0, 1], [y, y], color="0.88", lw=7, solid_capstyle="butt")
        if not row.restricted:
            right.text(
                0.5, y + 0.25, "any value", ha="center", va="bottom", fontsize=8, color="0.4"
            )
            continue
        lo, hi = (row.low - row.min) / span, (row.high - row.min) / span
        right.plot([lo, hi], [y, y], color="tab:blue", lw=7, solid_capstyle="butt")
        label = f"values {row.values}" if row.values else f"{row.low:.3g} to {row.high:.3g}"
        right.text((lo + hi) / 2, y + 0.25, label, ha="center", va="bottom", fontsize=8)
    right.set_yticks(
        [rows - 1 - i for i in range(len(numeric))], list(numeric["parameter"]), fontsize=8
    )
    right.set_ylim(-0.6, rows - 0.2)
    right.set_xlim(-0.05, 1.05)
    right.set_xlabel("share of the parameter's range over all cases")
    if numeric.empty:
        right.text(0.5, 0.0, "no numeric parameter", ha="center", va="center")
    fig.suptitle(f"Where {found.condition}", fontsize=11)
    if path is not None:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    return fig


def output_stem(found: Discovery) -> str:
    """File name stem of a discovery's files: ``discover-<outcome>-<above|below>-<threshold>``."""
    side = "above" if found.above else "below"
    return f"discover-{found.outcome}-{side}-{found.threshold:g}"


def write_discovery(found: Discovery, out: str | Path, force: bool = False) -> list[Path]:
    """Write the box limits (CSV), the trajectory (CSV), the figure (PNG) and a provenance file.

    The four files are written together (:func:`flowsim.diskio.atomic_files`): each to a
    temporary file, and all renamed into place only once every one is complete, so a
    full disk or a kill leaves the previous files (or none), never a CSV without its PNG.

    Raises:
        FileExistsError: one of the files exists and ``force`` is false.
        flowsim.diskio.FolderLockedError: another process writes in ``out`` now.
        OSError: a file could not be written (nothing was replaced).
    """
    from flowsim.diskio import atomic_files, output_lock

    out = Path(out)
    stem = output_stem(found)
    paths = [out / f"{stem}.csv", out / f"{stem}-trajectory.csv", out / f"{stem}.png"]
    provenance = out / f"{stem}.provenance.json"
    existing = [str(p) for p in paths if p.exists()]
    if existing and not force:
        raise FileExistsError(
            f"{', '.join(existing)} exist; give --force to replace them or --out another folder"
        )
    limits = found.limits.copy()
    limits.insert(0, "box", found.chosen)
    limits["coverage"] = found.coverage
    limits["density"] = found.density
    limits["mass"] = found.mass
    record = {
        "condition": found.condition,
        "cases": found.cases,
        "of_interest": found.of_interest,
        "aggregate": found.aggregate,
        "box": found.chosen,
    }
    with (
        output_lock(out, what="folder of discover's outputs"),
        atomic_files([*paths, provenance]) as (box_csv, trajectory_csv, figure, sidecar),
    ):
        limits.to_csv(box_csv, index=False)
        found.trajectory.to_csv(trajectory_csv, index=False)
        discovery_figure(found, figure)
        write_provenance(
            sidecar,
            [found.folder],
            paths,
            f"scenario discovery by flowsim discover: {json.dumps(record)}",
        )
    return [*paths, provenance]


__all__ = [
    "Cases",
    "DiscoverError",
    "Discovery",
    "discover",
    "discovery_figure",
    "format_discovery",
    "read_cases",
    "write_discovery",
]
