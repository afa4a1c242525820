"""A whole comparison of run folders: headline, path, cells, replication advice, files.

:func:`comparison` puts together what ``flowsim compare`` prints and writes:

- ``headline``: each output over the whole run (per year), each scenario's difference
  from the reference with its 95% interval, p-value, Benjamini–Hochberg adjusted
  p-value (over the outputs), and the replication advice: the interval's half-width
  in % of the reference mean and the minimum detectable effect (MDE: 80% power,
  two-sided alpha 0.05, paired t-test, at the replicates used;
  :mod:`flowsim.replication`);
- ``path``: the same, year by year (BH over the outputs of each year);
- ``by_city_field`` and ``corridors``: every city x field x output and corridor x
  element x measure, BH over the cells of each table (:mod:`flowsim.cells`);
- ``by_city`` and ``by_field``: each city over all fields and each field over all
  cities (the map and "which fields gain and lose"), BH over each table.

:func:`write_tables` writes them as CSV files with a manifest. :func:`uncomparable`
says which outputs no interval can be given for (one replicate, no variation).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from flowsim.cells import FDR, FDR_METHOD, compare_cells, margins, read_tables
from flowsim.compare import ALL_YEARS, CONFIDENCE, compare
from flowsim.replication import ALPHA, POWER, minimum_detectable_effect

FILES: dict[str, str] = {
    "headline": "compare_headline.csv",
    "path": "compare_path.csv",
    "by_city_field": "compare_by_city_field.csv",
    "by_city": "compare_by_city.csv",
    "by_field": "compare_by_field.csv",
    "corridors": "compare_corridors.csv",
}
"""The tables :func:`write_tables` writes, by attribute of :class:`Comparison`."""

MANIFEST = "manifest.json"
"""Written last into the ``--out`` folder: sources, methods, files and their sha256."""

METHODS: dict[str, str] = {
    "interval": f"{CONFIDENCE:.0%} confidence interval over replicates (Student t)",
    "test": "paired t-test where replicates share seeds (common random numbers), else Welch",
    "multiple_comparisons": f"{FDR_METHOD} false discovery rate, q < {FDR:g}: over the "
    "outputs of each period (headline, path) and over the cells of each table",
    "mde": f"minimum detectable effect: {POWER:.0%} power, two-sided alpha {ALPHA:g}, "
    "paired t-test (noncentral t), at the replicates used",
    "whole_run": "counted outputs as a yearly rate over the run, stocks and shares as the "
    "mean over years",
}
"""How the numbers were made, as written in the manifest and the output."""


@dataclass
class Comparison:
    """Everything one comparison produced (see the module docstring)."""

    headline: pd.DataFrame
    path: pd.DataFrame
    by_city_field: pd.DataFrame
    corridors: pd.DataFrame
    table: pd.DataFrame
    by_city: pd.DataFrame = field(default_factory=pd.DataFrame)
    by_field: pd.DataFrame = field(default_factory=pd.DataFrame)
    scenarios: list[dict[str, Any]] = field(default_factory=list)

    @property
    def reference(self) -> str:
        """The reference scenario's name."""
        return str(self.table["scenario"].iloc[0])


def with_advice(table: pd.DataFrame) -> pd.DataFrame:
    """Add ``halfwidth_pct`` and ``mde``/``mde_pct`` to a :func:`flowsim.compare.compare` table.

    The standard deviation of the paired differences is read back from the interval
    (half-width = t(0.975, n - 1) x sd / sqrt(n)); for Welch rows the same is the
    standard error x sqrt(n), so the MDE is that of a paired design with that noise.
    """
    out = table.copy()
    n = out["replicates"].to_numpy(dtype=np.float64)
    half = (out["diff_ci_high"] - out["diff_ci_low"]).to_numpy(dtype=np.float64) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        crit = np.where(n >= 2, stats.t.ppf(0.5 + CONFIDENCE / 2.0, np.maximum(n - 1, 1)), np.nan)
        sd = half * np.sqrt(n) / crit
        reference_mean = out["mean"].to_numpy(dtype=np.float64) - out["diff"].to_numpy(
            dtype=np.float64
        )
    ensemble = (out["test"] == "paired-ensemble").to_numpy()
    mde = [
        float("nan") if ens or not math.isfinite(s) else minimum_detectable_effect(s, int(k))
        for s, k, ens in zip(sd, n, ensemble, strict=True)
    ]
    out["reference_mean"] = reference_mean
    out["sd_diff"] = sd
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(reference_mean != 0, 100.0 / np.abs(reference_mean), np.nan)
    out["halfwidth_pct"] = half * scale
    out["mde"] = mde
    out["mde_pct"] = np.asarray(mde) * scale
    return out


def uncomparable(table: pd.DataFrame, outputs: Sequence[str]) -> dict[str, str]:
    """Outputs for which no interval can be given, with the reason.

    One replicate in a scenario gives no interval for anything; an output that has the
    same value in every replicate of the reference and of a scenario has no noise to
    measure an effect against.
    """
    whole = table[(table["period"] == ALL_YEARS) & table["parameter_set"].isna()]
    problems: dict[str, str] = {}
    for output in outputs:
        rows = whole[whole["output"] == output]
        few = rows[rows["replicates"] < 2]
        if len(few):
            names = ", ".join(dict.fromkeys(few["scenario"]))
            problems[output] = f"one replicate only ({names}): no interval"
            continue
        flat = rows["ci_low"] == rows["ci_high"]
        if len(rows) and flat.all():
            value = rows["mean"].iloc[0]
            problems[output] = (
                f"the same value ({value:g}) in every replicate of every scenario: "
                "no variation to measure an effect against"
            )
    return problems


def comparison(
    folders: Sequence[str | Path],
    outputs: Sequence[str],
    *,
    allow_mixed_scales: bool = False,
    ensemble: str | None = None,
    cells: bool = True,
) -> Comparison:
    """Compare run folders (the reference first): headline, path, cells, advice.

    Args:
        folders: run folders, the reference first.
        outputs: region-wide outputs; the by-city cells use those of them that the
            by-city table has.
        allow_mixed_scales: as for :func:`flowsim.compare.compare`.
        ensemble: as for :func:`flowsim.compare.compare`.
        cells: also compare city x field and corridor cells.
    """
    table = compare(
        list(folders),
        list(outputs),
        allow_mixed_scales=allow_mixed_scales,
        by_set=True,
        ensemble=ensemble,
    )
    advised = with_advice(table[table["parameter_set"].isna()])
    headline = advised[advised["period"] == ALL_YEARS].drop(columns=["period"])
    path = advised[advised["period"] != ALL_YEARS].rename(columns={"period": "year"})
    path = path.drop(columns=["mde", "mde_pct", "halfwidth_pct", "sd_diff"])
    names = list(dict.fromkeys(table["scenario"]))
    by_city_field = corridors = by_city = by_field = pd.DataFrame()
    if cells:
        tables = [read_tables(name, folder) for name, folder in zip(names, folders, strict=True)]
        by_city_field, corridors = compare_cells(tables, outputs)
        by_city, by_field = margins(tables, outputs)
    scenarios = [_describe(name, Path(folder)) for name, folder in zip(names, folders, strict=True)]
    return Comparison(
        headline=headline.reset_index(drop=True),
        path=path.reset_index(drop=True),
        by_city_field=by_city_field,
        corridors=corridors,
        table=table,
        scenarios=scenarios,
        by_city=by_city,
        by_field=by_field,
    )


def _describe(name: str, folder: Path) -> dict[str, Any]:
    """What a scenario's comparison rests on: folder, scale, replicates, seeds, policy timing."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    return {
        "scenario": name,
        "folder": str(folder.resolve()),
        "scale": manifest.get("scale"),
        "steps": manifest.get("steps"),
        "replicates": manifest.get("replications"),
        "root_seed": manifest.get("root_seed"),
        "seeds": manifest.get("seeds"),
        "scenario_sha256": manifest.get("scenario_sha256"),
        "policy_timing": manifest.get("policy_timing"),
    }


def basis(result: Comparison) -> str:
    """One line saying what the numbers rest on: scenarios, replicates, scale, intervals."""
    parts = []
    for record in result.scenarios:
        n = record.get("replicates")
        parts.append(f"{record['scenario']} ({n if n is not None else '?'} replicates)")
    scales = {r.get("scale") for r in result.scenarios if r.get("scale") is not None}
    scale = ", ".join(f"{s:g}" for s in sorted(scales)) if scales else "unknown"
    return (
        f"{' vs '.join(parts)}; agent scale {scale}; {CONFIDENCE:.0%} CI over replicates, "
        f"paired on seeds; {FDR_METHOD} FDR {FDR:.0%}"
    )


def write_tables(
    result: Comparison,
    out_dir: str | Path,
    *,
    force: bool = False,
    command: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the four tables as CSV into ``out_dir`` and a ``manifest.json`` last.

    Raises:
        FileExistsError: a table of an earlier comparison is there and ``force`` is false
            (nothing is written then).
    """
    from flowsim.diskio import atomic_path, write_text_atomic
    from flowsim.folders import sha256_file
    from flowsim.provenance import git_commit, package_version

    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a folder; give --out a folder's name")
    there = [name for name in [*FILES.values(), MANIFEST] if (out / name).exists()]
    if there and not force:
        raise FileExistsError(
            f"{out} already holds {', '.join(there)}; choose another --out or ask to replace "
            "them (--force)"
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for attribute, name in FILES.items():
        with atomic_path(out / name) as tmp:
            getattr(result, attribute).to_csv(tmp, index=False)
        written.append(out / name)
    commit, dirty = git_commit()
    record = {
        "what": "comparison by flowsim compare",
        "flowsim": package_version("flowsim"),
        "git_commit": commit,
        "git_dirty": dirty,
        "command": command,
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "reference": result.reference,
        "scenarios": result.scenarios,
        "methods": METHODS,
        **(extra or {}),
        "files": {p.name: sha256_file(p) for p in written},
    }
    write_text_atomic(out / MANIFEST, json.dumps(record, indent=1, default=str) + "\n")
    return [*written, out / MANIFEST]
