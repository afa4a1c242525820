"""Tables and files the dashboard shows or hands out, as plain pandas and bytes.

Kept apart from the Solara page so that they are tested without a browser, and so that
a notebook gets the same numbers: the difference table is :func:`flowsim.compare.compare`
(paired t-test over replicates that share seeds), the by-city and by-field tables are
read from :attr:`RunResult.by_city` when the run has one.
"""

from __future__ import annotations

import html
import io
import math
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from flowsim import __version__
from flowsim.compare import ALL_YEARS, DEFAULT_OUTPUTS, compare
from flowsim.params import Scenario
from flowsim.results import write_run
from flowsim.run import RunResult
from flowsim.scenario import dump_scenario, scenario_hash

DIFFERENCE_COLUMNS: tuple[str, ...] = (
    "output",
    "unit",
    "reference",
    "current",
    "difference",
    "ci_low",
    "ci_high",
    "difference_pct",
    "test",
)
"""Columns of :func:`difference_table`."""


def difference_table(
    current: Sequence[RunResult],
    reference: Sequence[RunResult],
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
) -> pd.DataFrame:
    """Whole-run yearly means of the page's settings against the reference, with 95% CIs.

    One row per output: the reference's and the current settings' mean per year over the
    run, their difference, its 95% confidence interval and the difference in percent
    (:func:`flowsim.compare.compare`, period ``"all"``).
    """
    table = compare({"reference": list(reference), "current": list(current)}, outputs=outputs)
    whole = table[table["period"] == ALL_YEARS]
    ref = whole[whole["scenario"] == "reference"].set_index("output")
    cur = whole[whole["scenario"] == "current"].set_index("output")
    out = pd.DataFrame(
        {
            "output": list(outputs),
            "unit": [cur.loc[o, "unit"] for o in outputs],
            "reference": [ref.loc[o, "mean"] for o in outputs],
            "current": [cur.loc[o, "mean"] for o in outputs],
            "difference": [cur.loc[o, "diff"] for o in outputs],
            "ci_low": [cur.loc[o, "diff_ci_low"] for o in outputs],
            "ci_high": [cur.loc[o, "diff_ci_high"] for o in outputs],
            "difference_pct": [cur.loc[o, "diff_pct"] for o in outputs],
            "test": [cur.loc[o, "test"] for o in outputs],
        }
    )
    return out


def fmt(value: object) -> str:
    """A number as the page shows it: thousands separators, 3 significant digits below 100."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = float(value)  # type: ignore[arg-type]
    if abs(number) >= 100:
        return f"{number:,.0f}"
    return f"{number:.3g}"


def html_table(frame: pd.DataFrame, table_id: str, key: str | None = None) -> str:
    """An HTML table; each cell carries ``data-column`` (and ``data-key`` from column ``key``).

    The attributes let a test (or a user's script) read a value back from the page.
    """
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for _, row in frame.iterrows():
        key_attr = f' data-key="{html.escape(str(row[key]))}"' if key else ""
        cells = "".join(
            f'<td data-column="{html.escape(str(c))}"{key_attr}>{html.escape(fmt(row[c]))}</td>'
            for c in frame.columns
        )
        rows.append(f"<tr{key_attr}>{cells}</tr>")
    return (
        f'<table id="{html.escape(table_id)}" class="flowsim-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _by_city_frame(results: Sequence[RunResult]) -> pd.DataFrame | None:
    """Every replicate's by-city table stacked, or None when the runs have none."""
    frames = []
    for replicate, result in enumerate(results):
        table = getattr(result, "by_city", None)
        if table is None and isinstance(getattr(result, "extra", None), dict):
            table = result.extra.get("by_city")
        if not isinstance(table, pd.DataFrame) or table.empty:
            return None
        frame = table.copy()
        if "replicate" not in frame.columns:
            frame.insert(0, "replicate", replicate)
        frames.append(frame)
    if not frames:
        return None
    every = pd.concat(frames, ignore_index=True)
    needed = {"year", "city", "field", "output", "value"}
    return every if needed <= set(every.columns) else None


def by_city_tables(
    results: Sequence[RunResult], outputs: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(by city, by field): each output's mean per year over the run and the replicates.

    Read from the runs' ``by_city`` table (one row per year, city, field and output with a
    ``value``); None when the runs do not carry one. Rows are cities (fields), columns the
    outputs; a value is summed over fields (cities) within a year, then averaged over
    years and replicates.
    """
    every = _by_city_frame(results)
    if every is None:
        return None
    return by_city_summary(every, outputs)


def by_city_summary(
    every: pd.DataFrame, outputs: Sequence[str] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(by city, by field) from a stacked by-city table (e.g. a folder's ``by_city.parquet``).

    ``every`` has ``year``, ``city``, ``field``, ``output``, ``value`` and optionally
    ``replicate``; None when a column is missing.
    """
    if not {"year", "city", "field", "output", "value"} <= set(every.columns):
        return None
    if "replicate" not in every.columns:
        every = every.assign(replicate=0)
    if outputs is not None:
        every = every[every["output"].isin(list(outputs))]

    def table(by: str) -> pd.DataFrame:
        per_year = every.groupby(["replicate", "year", by, "output"], observed=True)["value"].sum()
        mean = per_year.groupby([by, "output"], observed=True).mean().unstack("output")
        mean = mean.reset_index()
        mean.columns.name = None
        return mean

    return table("city"), table("field")


def scenario_yaml(scenario: Scenario, replications: int, reference: str | None = None) -> str:
    """The page's settings as a scenario file that ``flowsim validate`` accepts.

    Fully resolved (every value written), so it reproduces the run without the files it
    came from; the header says how to run it with the page's replicates.
    """
    lines = [
        f"# scenario {scenario.name!r} saved by the flowsim {__version__} dashboard",
        f"# sha256 {scenario_hash(scenario)} (of the resolved scenario)",
        f"# reproduce the page's run: flowsim run FILE --replications {int(replications)}",
    ]
    if reference:
        lines.append(f"# compared in the page against: {reference}")
    return "\n".join(lines) + "\n" + dump_scenario(scenario)


def save_text(path: str | Path, text: str, *, replace: bool = False) -> Path:
    """Write ``text`` to ``path``; an existing file is only replaced when asked.

    Raises:
        FileExistsError: the file exists and ``replace`` is false.
    """
    target = Path(path).expanduser()
    if target.exists() and not replace:
        raise FileExistsError(
            f"{target} exists already; choose another name or tick 'replace' to overwrite it"
        )
    if target.exists() and target.is_dir():
        raise FileExistsError(f"{target} is a folder; give a file name ending in .yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def results_zip(results: list[RunResult], scenario: Scenario) -> bytes:
    """A results folder (as ``flowsim run`` writes it) of the page's run, zipped."""
    with tempfile.TemporaryDirectory(prefix="flowsim-dashboard-") as tmp:
        folder = write_run(
            results,
            scenario,
            Path(tmp) / scenario.name,
            command=["flowsim", "dashboard"],
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(folder.rglob("*")):
                if file.is_file():
                    archive.write(file, f"{folder.name}/{file.relative_to(folder)}")
        return buffer.getvalue()


def find_results_folders(root: str | Path, limit: int = 200) -> list[Path]:
    """Run and sweep folders under ``root`` (newest first), told by the files in them."""
    from flowsim.folders import RUN_FILES, SWEEP_FILES

    base = Path(root)
    if not base.is_dir():
        return []
    found = []
    for manifest in base.rglob("manifest.json"):
        folder = manifest.parent
        if folder.name.startswith("."):
            continue
        if all((folder / f).is_file() for f in SWEEP_FILES) or all(
            (folder / f).is_file() for f in RUN_FILES
        ):
            found.append(folder)
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return found[:limit]


__all__ = [
    "DIFFERENCE_COLUMNS",
    "by_city_summary",
    "by_city_tables",
    "difference_table",
    "find_results_folders",
    "fmt",
    "html_table",
    "results_zip",
    "save_text",
    "scenario_yaml",
]
