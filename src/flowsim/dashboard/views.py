"""Tables and files the dashboard shows or hands out, as plain pandas and bytes.

Kept apart from the Solara page so that they are tested without a browser, and so that
a notebook gets the same numbers: the difference table is :func:`flowsim.compare.compare`
(paired t-test over replicates that share seeds), the by-city and by-field tables are
read from :attr:`RunResult.by_city` when the run has one.
"""

from __future__ import annotations

import html
import io
import json
import math
import os
import re
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from flowsim import __version__
from flowsim.compare import ALL_YEARS, DEFAULT_OUTPUTS, compare
from flowsim.params import Scenario
from flowsim.results import write_run
from flowsim.run import RunResult
from flowsim.scenario import scenario_dict, scenario_hash

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


class _Key(str):
    """A mapping key of a scenario file: written plain (keys come from flowsim's schema)."""


class _QuotedDumper(yaml.SafeDumper):
    """Safe YAML where every string value is double-quoted (escaped), keys plain."""


_QuotedDumper.add_representer(
    _Key, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value))
)
_QuotedDumper.add_representer(
    str, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
)


def _keyed(value: Any) -> Any:
    if isinstance(value, dict):
        return {_Key(k) if isinstance(k, str) else k: _keyed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_keyed(v) for v in value]
    return value


def quoted_yaml(data: Any) -> str:
    """``data`` as safe YAML with every string value double-quoted (no string formatting)."""
    return yaml.dump(
        _keyed(data), Dumper=_QuotedDumper, sort_keys=False, allow_unicode=True, width=100
    )


def scenario_yaml(scenario: Scenario, replications: int, reference: str | None = None) -> str:
    """The page's settings as a scenario file that ``flowsim validate`` accepts.

    Fully resolved (every value written), so it reproduces the run without the files it
    came from; the header says how to run it with the page's replicates. Every string is
    written by the YAML dumper, double-quoted; the comments hold no user text except the
    reference's name as a JSON string (escaped, one line).
    """
    lines = [
        f"# scenario saved by the flowsim {__version__} dashboard",
        f"# sha256 {scenario_hash(scenario)} (of the resolved scenario)",
        f"# reproduce the page's run: flowsim run FILE --replications {int(replications)}",
    ]
    if reference:
        lines.append(f"# compared in the page against: {json.dumps(reference)}")
    return "\n".join(lines) + "\n" + quoted_yaml(scenario_dict(scenario))


SAVE_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}\.yaml")
"""A file name *Save scenario* accepts: letters, digits, ``-`` and ``_``, then ``.yaml``."""


def save_name(text: str) -> str:
    """The file name typed into the page, checked (``.yaml`` added when left out).

    Raises:
        ValueError: not a plain name (a path, ``~``, ``..``, spaces or other characters).
    """
    name = (text or "").strip()
    if name and not name.endswith(".yaml") and "." not in name:
        name += ".yaml"
    if not SAVE_NAME.fullmatch(name):
        raise ValueError(
            f"{text!r} is not allowed as a file name: give a plain name of letters, digits, "
            "'-' and '_' ending in .yaml (at most 100 characters before it), such as "
            "my-policy.yaml; no folders, '~', '..' or spaces: the file goes into the save "
            "folder"
        )
    return name


def safe_name(name: str, fallback: str = "scenario") -> str:
    """``name`` made a plain file name: runs of other characters become ``_``; at most 60."""
    plain = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60]
    return plain or fallback


def save_text(folder: str | Path, name: str, text: str, *, replace: bool = False) -> Path:
    """Write ``text`` as ``folder/name``; ``name`` is checked by :func:`save_name`.

    Only ever writes inside ``folder``, which must exist (no folder is created). A new
    file is created exclusively (never following a link); an existing regular file is
    replaced only when ``replace`` is true, by writing a temporary file in ``folder`` and
    renaming it over the old one, so the old file stays whole until the new one is.

    Raises:
        ValueError: the name is not a plain file name.
        FileNotFoundError: the folder does not exist.
        FileExistsError: the file exists and ``replace`` is false, or it is not a regular
            file (a folder, a link).
    """
    base = Path(folder)
    if not base.is_dir():
        raise FileNotFoundError(
            f"the save folder {base} does not exist; the dashboard creates no folders "
            "(start it with --save-dir DIR to save elsewhere)"
        )
    target = base / save_name(name)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise FileExistsError(f"{target} is not a plain file; choose another name")
    if target.exists() and not replace:
        raise FileExistsError(
            f"{target} exists already; choose another name or tick 'replace' to overwrite it"
        )
    data = text.encode("utf-8")
    if not replace:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(target, flags, 0o644)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target
    fd, tmp = tempfile.mkstemp(dir=base, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def results_zip(
    current: list[RunResult],
    scenario: Scenario,
    reference: list[RunResult] | None = None,
    reference_scenario: Scenario | None = None,
) -> bytes:
    """The page's runs as results folders (as ``flowsim run`` writes them), zipped.

    The zip holds ``current-NAME/`` and, when given, ``reference-NAME/``, NAME the
    scenario's name made a plain file name (:func:`safe_name`). The folders are written in
    a temporary folder that is removed afterwards, whatever happens.
    """
    runs = [("current", current, scenario)]
    if reference is not None and reference_scenario is not None:
        runs.append(("reference", reference, reference_scenario))
    with tempfile.TemporaryDirectory(prefix="flowsim-dashboard-") as tmp:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for role, results, run_scenario in runs:
                name = f"{role}-{safe_name(run_scenario.name)}"
                folder = write_run(
                    results, run_scenario, Path(tmp) / name, command=["flowsim", "dashboard"]
                )
                for file in sorted(folder.rglob("*")):
                    if file.is_file():
                        archive.write(file, f"{name}/{file.relative_to(folder)}")
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
    "city_differences",
    "difference_grid",
    "difference_table",
    "find_results_folders",
    "fmt",
    "html_table",
    "quoted_yaml",
    "report_html",
    "results_zip",
    "safe_name",
    "save_name",
    "save_text",
    "scenario_yaml",
]


def city_differences(
    current: Sequence[RunResult],
    reference: Sequence[RunResult],
    outputs: Sequence[str] = DEFAULT_OUTPUTS,
) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(by city, by field): current - reference in each city and field, BH significance.

    The cells of ``flowsim compare``'s ``compare_by_city.csv`` and ``compare_by_field.csv``
    (:func:`flowsim.cells.margins`: paired 95% CIs over replicates, Benjamini-Hochberg
    over the cells of each table) for the page's runs; None when the runs carry no
    by-city table or no output has cells.
    """
    from flowsim.cells import margins, read_tables

    if _by_city_frame(current) is None or _by_city_frame(reference) is None:
        return None
    tables = [read_tables("reference", list(reference)), read_tables("current", list(current))]
    by_city, by_field = margins(tables, outputs)
    if by_city.empty:
        return None
    return by_city, by_field


def difference_grid(cells: pd.DataFrame, key: str) -> pd.DataFrame:
    """Rows ``key`` (city or field), a column per output: the effect in % with its mark.

    A cell reads ``+4.5% *`` when significant (BH), ``-1.2%`` when not, ``–`` when the
    cell had no activity in either run.
    """
    from flowsim.numbers import format_percent

    outputs = list(dict.fromkeys(cells["output"]))
    keys = list(dict.fromkeys(cells[key]))
    grid = pd.DataFrame({key: keys})
    for output in outputs:
        part = cells[cells["output"] == output].set_index(key)
        column = []
        for k in keys:
            if k not in part.index:
                column.append("–")
                continue
            row = part.loc[k]
            text = format_percent(float(row["diff_pct"]))
            column.append(f"{text} *" if bool(row["significant"]) else text)
        grid[output] = column
    return grid


def report_html(
    current: list[RunResult],
    scenario: Scenario,
    reference: list[RunResult],
    reference_scenario: Scenario,
) -> bytes:
    """The brief of ``flowsim report`` for the page's comparison, as UTF-8 HTML bytes.

    Both runs are written as run folders in a temporary folder (removed afterwards,
    whatever happens), exactly as the results zip does, and the brief is built from them.
    """
    from flowsim.report import build_report

    with tempfile.TemporaryDirectory(prefix="flowsim-report-") as tmp:
        folders = {}
        for role, results, run_scenario in (
            ("current", current, scenario),
            ("reference", reference, reference_scenario),
        ):
            name = f"{role}-{safe_name(run_scenario.name)}"
            folders[role] = write_run(
                results, run_scenario, Path(tmp) / name, command=["flowsim", "dashboard"]
            )
        brief = build_report(folders["current"], folders["reference"])
        return brief.html.encode("utf-8")
