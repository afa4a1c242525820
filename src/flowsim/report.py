"""A brief for a planner: one self-contained HTML page comparing a policy with its baseline.

:func:`build_report` reads two run folders (the policy's and the baseline's, run on the
same seeds), compares them with :func:`flowsim.comparison.comparison` (the engine of
``flowsim compare``: the numbers are the same as its tables) and writes one HTML page
that needs nothing else: CSS inline, figures inline as base64 PNG, no script, no font
or image from another host. It says, in this order:

1. the question and the policy in words, generated from the scenarios (every value the
   policy changes, with the parameter's meaning and unit from :mod:`flowsim.params`);
2. the headline effects with their 95% intervals (over replicates; with an ensemble,
   also the interval across parameter sets);
3. the path over time, year by year;
4. a map of the cities' differences, significant ones marked;
5. the fields that gain and lose;
6. the channels (from a ``flowsim explain`` folder, if given);
7. what decides the answer (with an ensemble: a screening of which parameters' values
   move the effect most; else a statement that parameter uncertainty is not included);
8. how it was made: scale, replicates, seeds, versions, manifests.

Every text that comes from a file (scenario names, descriptions, sources) is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.cells import FDR, FDR_METHOD
from flowsim.comparison import METHODS, Comparison, comparison
from flowsim.numbers import (
    format_interval,
    format_number,
    format_p,
    format_percent,
    format_value,
)
from flowsim.outputs import COMPARED

REPORT_OUTPUTS: tuple[str, ...] = COMPARED
"""Outputs of the headline table (those of ``flowsim compare``)."""

KEY_OUTPUTS: tuple[str, ...] = ("papers", "invention_patents", "startups", "commercialized")
"""Outputs drawn in the path figure, on the maps and in the field chart (when compared)."""

SCENARIO_FILE = "scenario.resolved.yaml"
"""The scenario a run folder was made from, as ``flowsim run`` writes it."""

NOT_A_LEVER: frozenset[str] = frozenset(
    {"name", "description", "sources", "seed", "steps", "scale", "warmup_steps", "start_year"}
)
"""Scenario keys that are not part of the policy (names, run length, size, seed)."""

CHROMIUM: tuple[str, ...] = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
"""Where a headless Chromium that can print the brief as PDF is looked for."""

PDF_TIMEOUT_S = 60
"""Longest wait for Chromium to print the PDF (seconds)."""


class ReportError(ValueError):
    """A report cannot be made from these folders (the message says why and what to do)."""


# --------------------------------------------------------------------------- the policy in words


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


def describe_path(scenario: Any, dotted: str) -> str:
    """The meaning (and unit) of a dotted scenario path, from the parameters' descriptions."""
    from pydantic import BaseModel

    node: Any = scenario
    found = ""
    for part in dotted.split("."):
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            name = next(
                (n for n, f in fields.items() if n == part or f.alias == part),
                None,
            )
            if name is None:
                break
            if fields[name].description:
                found = fields[name].description
            node = getattr(node, name)
        elif isinstance(node, dict):
            node = node.get(part)
        else:
            break
    return found


def _exact(value: float) -> str:
    """A float in full precision and plain notation, for a data attribute (never 1.5e-05)."""
    return np.format_float_positional(float(value), unique=True, trim="-")


def _plain_value(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "none"}[value]
    if isinstance(value, int | float):
        return format_number(float(value))
    if isinstance(value, list):
        return ", ".join(_plain_value(v) for v in value) or "none"
    return str(value)


def policy_changes(policy: Any, baseline: Any) -> list[dict[str, str]]:
    """Every value the policy scenario sets differently from the baseline, in words.

    Returns:
        One record per dotted path: ``path``, ``what`` (the path as words), ``meaning``
        (the parameter's description with its unit), ``baseline`` and ``policy`` (values).
    """
    mine = _flat(policy.model_dump(mode="json", by_alias=True))
    theirs = _flat(baseline.model_dump(mode="json", by_alias=True))
    rows = []
    for path in sorted(set(mine) | set(theirs)):
        if path.split(".")[0] in NOT_A_LEVER or mine.get(path) == theirs.get(path):
            continue
        if path == "policy.rules":
            rows += rule_changes(policy, baseline)
            continue
        if isinstance(mine.get(path), dict) or isinstance(theirs.get(path), dict):
            continue  # an empty section on one side: its keys are rows of their own
        rows.append(
            {
                "path": path,
                "what": _path_words(path),
                "meaning": describe_path(policy, path) or describe_path(baseline, path),
                "baseline": _plain_value(theirs.get(path)),
                "policy": _plain_value(mine.get(path)),
            }
        )
    return rows


SETS = (("approval", "approval", ""), ("delay_days", "delay", " days"),
        ("cost", "cost", " thousand yuan"), ("quota", "quota", " a month"))  # fmt: skip
"""What a rule sets, in words, with its unit."""


def _selection_words(rule: Any) -> str:
    """A rule's selectors in words: ``data; field biomedicine; from Shenzhen, Hong Kong``."""
    parts = []
    for key, label in (
        ("element", ""),
        ("corridor", "corridor "),
        ("direction", "direction "),
        ("field", "field "),
        ("category", "category "),
        ("kind", "kind "),
        ("employer", "by "),
        ("from_", "from "),
        ("to", "to "),
        ("zone", "agents in "),
        ("whitelist", "listed on "),
    ):
        value = getattr(rule, key, None)
        if value is None:
            continue
        text = ", ".join(value) if isinstance(value, list) else str(value)
        parts.append(f"{label}{text}")
    return "; ".join(parts) or "every crossing"


def _rule_corridors(rule: Any) -> list[str]:
    """The corridors a rule's flows can cross (from its corridor, direction or places)."""
    from flowsim.geography import CITIES, CORRIDORS, JURISDICTIONS, ZONES, load_geography

    if rule.corridor is not None:
        return [rule.corridor]
    if rule.direction is not None:
        a, b = rule.direction.split("->")
        return [c for c in CORRIDORS if set(c.split("-")) == {a, b}]
    geo = load_geography()

    def jurisdictions(places: Any) -> set[str]:
        if places is None:
            return set(JURISDICTIONS)
        out = set()
        for place in places if isinstance(places, list) else [places]:
            city = CITIES.index(place) if place in CITIES else geo.zone_city[ZONES.index(place)]
            out.add(JURISDICTIONS[geo.city_jurisdiction[city]])
        return out

    ends_a, ends_b = jurisdictions(rule.from_), jurisdictions(rule.to)
    return [
        c
        for c in CORRIDORS
        if any({a, b} == set(c.split("-")) for a in ends_a for b in ends_b if a != b)
    ]


def rule_changes(policy: Any, baseline: Any) -> list[dict[str, str]]:
    """One row per border rule of the policy that the baseline does not have, in words.

    The baseline column gives the corridor friction the rule replaces for its element
    (per corridor where they differ); ``flowsim describe`` gives any single flow's.
    """
    from flowsim.geography import ELEMENTS

    have = {r.model_dump_json() for r in baseline.policy.rules}
    rows = []
    for number, rule in enumerate(policy.policy.rules, start=1):
        if rule.model_dump_json() in have:
            continue
        elements = rule.element if isinstance(rule.element, list) else [rule.element]
        elements = [e for e in elements if e is not None] or list(ELEMENTS)
        corridors = _rule_corridors(rule)
        new, old = [], []
        for key, label, unit in SETS:
            value = getattr(rule, key)
            if value is None:
                continue
            new.append(f"{label} {_plain_value(value)}{unit}")
            before = sorted(
                {
                    _plain_value(
                        getattr(getattr(baseline.policy.corridors.for_corridor(c), e), key)
                    )
                    for c in corridors
                    for e in elements
                }
            )
            old.append(f"{label} {' or '.join(before) or 'none'}{unit}")
        rows.append(
            {
                "path": "policy.rules",
                "what": f"border rule {number}" + (f": {rule.name}" if rule.name else ""),
                "meaning": f"selects {_selection_words(rule)}",
                "baseline": "; ".join(old) or "none",
                "policy": "; ".join(new) or "none",
            }
        )
    return rows


def _path_words(path: str) -> str:
    """``policy.corridors.GD-HK.data.approval`` -> ``GD-HK corridor, data: approval``."""
    parts = path.split(".")
    if parts[:2] == ["policy", "corridors"] and len(parts) >= 4:
        return f"{parts[2]} corridor, {parts[3]}: {' '.join(parts[4:]).replace('_', ' ')}"
    if parts[:2] == ["policy", "zones"] and len(parts) >= 4:
        return f"zone {parts[2]}, {parts[3]}: {' '.join(parts[4:]).replace('_', ' ')}".rstrip(": ")
    return " ".join(p.replace("_", " ") for p in parts)


def load_run_scenario(folder: str | Path) -> Any:
    """The scenario a run folder was made from (its ``scenario.resolved.yaml``)."""
    from flowsim.scenario import load_scenario
    from flowsim.yamlio import ConfigError

    path = Path(folder) / SCENARIO_FILE
    if not path.is_file():
        raise ReportError(
            f"{folder}: no {SCENARIO_FILE}; give a run folder written by `flowsim run`"
        )
    try:
        return load_scenario(path)
    except ConfigError as err:
        raise ReportError(f"{path}: cannot read the scenario: {err}") from None


# --------------------------------------------------------------------------- ensemble screening


def screening(table: pd.DataFrame, ensemble: Any, outputs: Sequence[str]) -> pd.DataFrame:
    """Which parameters' uncertainty moves the effect most: a screening over ensemble members.

    For each output, the effect in each parameter set (the per-set rows of the
    comparison, whole run) is regressed on the sets' parameter values, one parameter at
    a time: ``r`` is the correlation across sets, ``r2`` the share of the effect's
    spread across sets that parameter alone accounts for, ``slope_sd`` the change of
    the effect for one standard deviation of the parameter across the ensemble.

    Returns:
        Columns ``output``, ``parameter``, ``sets``, ``r``, ``r2``, ``slope_sd``,
        ``effect_sd`` (sd of the effect across sets), sorted by output and ``r2``
        (largest first); empty if there are fewer than 3 sets.
    """
    columns = ["output", "parameter", "sets", "r", "r2", "slope_sd", "effect_sd"]
    rows = table[
        table["parameter_set"].notna()
        & (table["period"] == "all")
        & table["diff"].notna()
        & table["output"].isin(list(outputs))
    ]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    values = pd.DataFrame(list(ensemble.sets), index=[int(i) for i in ensemble.ids])
    out = []
    for output, group in rows.groupby("output", sort=False):
        effect = group.set_index(group["parameter_set"].astype(int))["diff"]
        common = effect.index.intersection(values.index)
        if len(common) < 3:
            continue
        y = effect.loc[common].to_numpy(dtype=float)
        for parameter in ensemble.parameters:
            x = values.loc[common, parameter].to_numpy(dtype=float)
            if np.std(x) == 0 or np.std(y) == 0:
                r = float("nan")
            else:
                r = float(np.corrcoef(x, y)[0, 1])
            out.append(
                {
                    "output": output,
                    "parameter": parameter,
                    "sets": len(common),
                    "r": r,
                    "r2": r * r if math.isfinite(r) else float("nan"),
                    "slope_sd": r * float(np.std(y, ddof=1)) if math.isfinite(r) else float("nan"),
                    "effect_sd": float(np.std(y, ddof=1)),
                }
            )
    frame = pd.DataFrame(out, columns=columns)
    if frame.empty:
        return frame
    frame["order"] = frame["output"].map({o: i for i, o in enumerate(outputs)})
    frame = frame.sort_values(["order", "r2"], ascending=[True, False], na_position="last")
    return frame.drop(columns="order").reset_index(drop=True)


# --------------------------------------------------------------------------- figures


def _png(fig: Any) -> str:
    """A figure as an inline ``<img>`` (base64 PNG, no file, no host)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img class="figure" alt="figure" src="data:image/png;base64,{data}">'


def _path_figure(path: pd.DataFrame, outputs: Sequence[str], foot: str) -> str:
    from flowsim.plots.labels import new_figure, pretty

    shown = [o for o in outputs if o in set(path["output"])]
    if not shown:
        return ""
    cols = 2
    rows = -(-len(shown) // cols)
    fig = new_figure(7.2, 2.3 * rows + 0.5)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    for ax, output in zip(axes, shown, strict=False):
        part = path[path["output"] == output].sort_values("year")
        ref = part["reference_mean"].to_numpy(dtype=float)
        scale = np.where(ref != 0, 100.0 / np.abs(ref), np.nan)
        years = part["year"].astype(int).to_numpy()
        ax.fill_between(
            years,
            part["diff_ci_low"].to_numpy(dtype=float) * scale,
            part["diff_ci_high"].to_numpy(dtype=float) * scale,
            alpha=0.25,
            color="tab:blue",
            label="95% CI",
        )
        ax.plot(years, part["diff"].to_numpy(dtype=float) * scale, "o-", color="tab:blue")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(pretty(output), fontsize="medium")
        ax.set_ylabel("effect [% of baseline]", fontsize="small")
        ax.set_xticks(years)
        ax.tick_params(labelsize="x-small")
        ax.grid(alpha=0.2)
    fig.supxlabel(foot, fontsize="x-small")
    return _png(fig)


def _map_figure(by_city: pd.DataFrame, outputs: Sequence[str], foot: str) -> str:
    from flowsim.plots.bay_map import plot_difference_maps

    fig = plot_difference_maps(by_city, outputs, foot=foot)
    return "" if fig is None else _png(fig)


def _field_figure(by_field: pd.DataFrame, outputs: Sequence[str], foot: str) -> str:
    from flowsim.plots.labels import new_figure, pretty

    shown = [o for o in outputs if o in set(by_field["output"])]
    if not shown:
        return ""
    fields = list(dict.fromkeys(by_field["field"]))
    fig = new_figure(7.2, 0.35 * len(fields) * len(shown) / 2 + 1.8)
    ax = fig.subplots()
    height = 0.8 / len(shown)
    for k, output in enumerate(shown):
        part = by_field[by_field["output"] == output].set_index("field").reindex(fields)
        ref = part["reference_mean"].to_numpy(dtype=float)
        scale = np.where(ref != 0, 100.0 / np.abs(ref), np.nan)
        mid = part["diff"].to_numpy(dtype=float) * scale
        low = part["diff_ci_low"].to_numpy(dtype=float) * scale
        high = part["diff_ci_high"].to_numpy(dtype=float) * scale
        ypos = np.arange(len(fields)) + (k - (len(shown) - 1) / 2) * height
        sig = part["significant"].fillna(False).astype(bool).to_numpy()
        ax.barh(
            ypos,
            mid,
            height=height,
            xerr=np.vstack([mid - low, high - mid]),
            color=f"C{k}",
            alpha=0.85,
            label=pretty(output),
            error_kw={"linewidth": 0.7},
        )
        for y, m, s in zip(ypos, mid, sig, strict=True):
            if s and math.isfinite(m):
                ax.annotate("*", (m, y), fontsize="small", fontweight="bold", va="center")
    ax.set_yticks(np.arange(len(fields)), [f.replace("_", " ") for f in fields])
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlabel(f"effect [% of baseline], 95% CI; * significant ({FDR_METHOD})")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.2, axis="x")
    fig.supxlabel(foot, fontsize="x-small")
    return _png(fig)


# --------------------------------------------------------------------------- the page


@dataclass
class Brief:
    """A built brief: the HTML page and what it was made from."""

    html: str
    comparison: Comparison
    policy: str
    baseline: str


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _effect_words(row: Any) -> str:
    """One sentence about a headline effect, plain numbers, its interval and certainty."""
    from flowsim.outputs import COUNTERS
    from flowsim.plots.labels import pretty

    name = pretty(row.output)
    if not math.isfinite(row.diff):
        return f"{name}: no comparison possible."
    if row.diff == 0 and row.diff_ci_low == 0 and row.diff_ci_high == 0:
        return f"{name}: the same in every replicate of both scenarios (no effect at this scale)."
    per = " a year" if row.output in COUNTERS else ""
    size = format_value(row.output, abs(row.diff), difference=True).lstrip("+")
    verb = "rise" if row.diff > 0 else "fall"
    pct = f" ({format_percent(row.diff_pct)})" if math.isfinite(row.diff_pct) else ""
    interval = format_interval(row.output, row.diff_ci_low, row.diff_ci_high)
    sure = (
        "a clear effect"
        if row.p_adjusted < FDR
        else "not distinguishable from zero at these replicates"
    )
    return f"{name} {verb} by {size}{per}{pct}; 95% interval {interval}: {sure}."


def _table(head: list[str], rows: list[list[str]], cls: str = "") -> str:
    """An HTML table; cells are given as already-escaped HTML."""
    thead = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>'


def _mark(significant: bool) -> str:
    return '<span class="sig">significant</span>' if significant else '<span class="ns">no</span>'


def _headline_section(result: Comparison, policy: str, ensemble: bool) -> tuple[str, list[str]]:
    from flowsim.plots.labels import pretty

    head = result.headline[
        (result.headline["scenario"] == policy) & result.headline["diff"].notna()
    ]
    rows = []
    sentences = []
    for row in head.itertuples():
        q = row.p_adjusted
        sig = bool(math.isfinite(q) and q < FDR)
        cells = [
            _e(pretty(row.output)),
            _e(format_value(row.output, row.reference_mean)),
            f'<span class="num" data-output="{_e(row.output)}" data-diff="{_exact(row.diff)}">'
            f"{_e(format_value(row.output, row.diff, difference=True))}</span>",
            _e(format_interval(row.output, row.diff_ci_low, row.diff_ci_high)),
            _e(format_percent(row.diff_pct)),
            _e(format_p(q)),
            _mark(sig),
        ]
        if ensemble:
            cells.insert(4, _e(format_interval(row.output, row.diff_ui_low, row.diff_ui_high)))
        else:
            cells.append(_e(format_percent(row.mde_pct, signed=False)))
        rows.append(cells)
        sentences.append(_effect_words(row))
    head_cols = [
        "output",
        "baseline (per year)",
        "effect",
        "95% CI",
        "in %",
        f"q ({FDR_METHOD})",
        "significant",
    ]
    if ensemble:
        head_cols.insert(4, "95% across parameter sets")
    else:
        head_cols.append("MDE")
    return _table(head_cols, rows, "headline"), sentences


def _cells_table(cells: pd.DataFrame, key: str, outputs: Sequence[str]) -> str:
    """A key (city or field) x output table of % effects, significant ones marked."""
    from flowsim.plots.labels import pretty

    shown = [o for o in outputs if o in set(cells["output"])]
    keys = list(dict.fromkeys(cells[key]))
    rows = []
    for k in keys:
        line = [_e(str(k).replace("_", " "))]
        for output in shown:
            hit = cells[(cells[key] == k) & (cells["output"] == output)]
            if hit.empty:
                line.append("")
                continue
            r = hit.iloc[0]
            text = _e(format_percent(float(r["diff_pct"])))
            cls = "sig" if bool(r["significant"]) else ""
            star = " *" if bool(r["significant"]) else ""
            line.append(
                f'<span class="{cls}" title="{_e(format_number(float(r["diff"]), signed=True))} '
                f'{_e(r["unit"])}">{text}{star}</span>'
            )
        rows.append(line)
    return _table([key, *(_e(pretty(o)) for o in shown)], rows, "cells")


def _gain_lose(by_field: pd.DataFrame, policy: str) -> str:
    """Sentences: the fields with significant gains and losses, per output."""
    from flowsim.plots.labels import pretty

    sig = by_field[(by_field["scenario"] == policy) & by_field["significant"]]
    if sig.empty:
        return (
            "<p>No field's change is significant after the multiple-comparison control: at "
            "these replicates, no field can be said to gain or lose. Read the table for the "
            "direction of the estimates, and run more replicates for a firmer answer.</p>"
        )
    items = []
    for field_name, group in sig.groupby("field", sort=False):
        parts = [f"{pretty(r.output)} {format_percent(r.diff_pct)}" for r in group.itertuples()]
        kind = (
            "gains"
            if (group["diff"] > 0).all()
            else ("loses" if (group["diff"] < 0).all() else "gains and loses")
        )
        items.append(
            f"<li><b>{_e(field_name.replace('_', ' '))}</b> {kind}: {_e(', '.join(parts))}</li>"
        )
    return f"<ul>{''.join(items)}</ul>"


def _explain_section(explain: Path | None, policy_dir: Path, baseline_dir: Path) -> str:
    if explain is None:
        return (
            "<p>Not included in this brief. To see through which channels (talent, capital, "
            "data, samples, knowledge) the policy acts, run</p>"
            f"<pre>flowsim explain {_e(policy_dir)} {_e(baseline_dir)} --out EXPLAIN_DIR</pre>"
            "<p>and give the folder to the report with <code>--explain EXPLAIN_DIR</code>.</p>"
        )
    path = explain / "explain.csv"
    frame = pd.read_csv(path)
    head = [_e(c) for c in frame.columns]
    rows = []
    for record in frame.itertuples(index=False):
        line = []
        for value in record:
            if isinstance(value, float | int) and not isinstance(value, bool):
                line.append(_e(format_number(float(value))))
            else:
                line.append(_e(value))
        rows.append(line)
    note = ""
    for name in ("explain.md", "README.txt"):
        if (explain / name).is_file():
            note = f"<p>{_e((explain / name).read_text(encoding='utf-8')[:2000])}</p>"
    return (
        f"<p>Channel contributions from <code>{_e(path)}</code> (written by "
        f"<code>flowsim explain</code>; its columns as written there).</p>"
        + _table(head, rows, "explain")
        + note
    )


def _screening_section(result: Comparison, ensemble: Any, outputs: Sequence[str]) -> str:
    from flowsim.plots.labels import pretty

    if ensemble is None:
        return (
            "<p><b>Parameter uncertainty is not included.</b> The intervals above are over "
            "replicates only: they say how well the model's effect is known with its "
            "parameters at their set values, not whether those values are right. To see "
            "which assumptions decide the answer, run both scenarios on a calibrated "
            "ensemble (<code>flowsim run FILE --ensemble DIR</code>) and give "
            "<code>--ensemble DIR</code> to the report.</p>"
        )
    screen = screening(result.table, ensemble, outputs)
    if screen.empty:
        return (
            "<p>The ensemble has fewer than 3 parameter sets with an effect: no screening is "
            "possible.</p>"
        )
    rows = []
    for output, group in screen.groupby("output", sort=False):
        for r in group.head(3).itertuples():
            rows.append(
                [
                    _e(pretty(output)),
                    _e(r.parameter),
                    _e(f"{r.r:+.2f}" if math.isfinite(r.r) else "n/a"),
                    _e(f"{100 * r.r2:.0f}%" if math.isfinite(r.r2) else "n/a"),
                    _e(format_value(output, r.slope_sd, difference=True)),
                    _e(format_value(output, r.effect_sd)),
                    _e(str(r.sets)),
                ]
            )
    return (
        f"<p>Across the {len(ensemble.ids)} parameter sets of the ensemble "
        f"<code>{_e(ensemble.path)}</code>, the effect of the policy varies. A screening "
        "(one parameter at a time, linear, across sets) shows which parameters' values go "
        "with the largest changes of the effect: the three strongest per output. It is a "
        "screening, not a variance decomposition: correlated parameters share credit, and "
        "with few sets a correlation is uncertain by about 1/&radic;sets.</p>"
        + _table(
            [
                "output",
                "parameter",
                "correlation r",
                "share of spread (r²)",
                "effect change per sd of parameter",
                "sd of effect across sets",
                "sets",
            ],
            rows,
            "screen",
        )
    )


def _made_section(result: Comparison, folders: Sequence[Path], changes: int) -> str:
    from flowsim.provenance import git_commit, package_version

    rows = []
    for record, folder in zip(result.scenarios, folders, strict=True):
        manifest = {}
        try:
            manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
        seeds = record.get("seeds") or []
        rows.append(
            [
                _e(record["scenario"]),
                _e(folder.resolve()),
                _e(record.get("scale")),
                _e(record.get("steps")),
                _e(manifest.get("warmup_steps", "?")),
                _e(record.get("replicates")),
                _e(record.get("root_seed")),
                _e(", ".join(str(s) for s in seeds)),
                _e(manifest.get("flowsim", "?")),
                _e(str(manifest.get("git_commit", "?"))[:12]),
                f"<code>{_e(str(record.get('scenario_sha256', '?'))[:16])}</code>",
            ]
        )
    commit, dirty = git_commit()
    methods = "".join(
        f"<li><b>{_e(k.replace('_', ' '))}</b>: {_e(v)}</li>" for k, v in METHODS.items()
    )
    return (
        _table(
            [
                "scenario",
                "run folder",
                "agent scale",
                "months",
                "warm-up months",
                "replicates",
                "root seed",
                "seeds",
                "flowsim",
                "git commit",
                "scenario sha256",
            ],
            rows,
            "made",
        )
        + f"<ul>{methods}</ul>"
        + f"<p>Brief written by flowsim {_e(package_version('flowsim'))} (git "
        f"{_e(str(commit)[:12])}{' with uncommitted changes' if dirty else ''}) on "
        f"{_e(datetime.now(UTC).replace(microsecond=0).isoformat())}; the numbers are those "
        "of <code>flowsim compare "
        f"{_e(folders[0])} {_e(folders[1])} --out DIR</code>. The policy differs from the "
        f"baseline in {changes} value(s). The run folders' manifests list every file with "
        "its sha256.</p>"
    )


CSS = """
body{font-family:Georgia,'Times New Roman','Noto Serif CJK SC','Noto Sans CJK SC',serif;
max-width:52em;margin:2em auto;padding:0 1em;
color:#1a1a1a;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.25em;border-bottom:1px solid #999;
margin-top:1.6em}
.sub{color:#444;margin-top:0}
table{border-collapse:collapse;margin:.6em 0;font-family:Helvetica,Arial,sans-serif;
font-size:.8em}
th,td{border:1px solid #bbb;padding:.2em .45em;text-align:right;vertical-align:top}
th{background:#eee}td:first-child,th:first-child{text-align:left}
table.changes td,table.made td{text-align:left}
.sig{font-weight:bold;color:#0b4f8a}.ns{color:#777}
img.figure{max-width:100%;display:block;margin:.5em auto}
.key{background:#f3f6fa;border-left:4px solid #0b4f8a;padding:.4em 1em}
.foot{color:#555;font-size:.85em}
.caution{border:2px solid #b35900;background:#fff6ec;padding:.3em 1em}
pre,code{font-family:'DejaVu Sans Mono',monospace;font-size:.85em}
pre{background:#f5f5f5;padding:.5em;white-space:pre-wrap}
@page{size:A4;margin:16mm 14mm}
@media print{body{max-width:none;margin:0;font-size:10.5pt}
h2{break-after:avoid;page-break-after:avoid}
section.page{break-before:page;page-break-before:always}
table,img.figure,.key{break-inside:avoid;page-break-inside:avoid}
a{color:inherit;text-decoration:none}}
"""


def build_report(
    policy_dir: str | Path,
    baseline_dir: str | Path,
    *,
    outputs: Sequence[str] | None = None,
    ensemble: str | Path | None = None,
    explain: str | Path | None = None,
    allow_mixed_scales: bool = False,
) -> Brief:
    """The brief comparing a policy's run folder with its baseline's, as one HTML page.

    Raises:
        ReportError: a folder is not a run folder, or no comparison can be made (one
            replicate, no output with variation); the message says what to do.
    """
    from flowsim.comparison import basis, uncomparable
    from flowsim.folders import FolderError
    from flowsim.plots.labels import pretty

    policy_dir, baseline_dir = Path(policy_dir), Path(baseline_dir)
    outputs = list(outputs or REPORTED_DEFAULT)
    policy_scenario = load_run_scenario(policy_dir)
    baseline_scenario = load_run_scenario(baseline_dir)
    ens = None
    if ensemble is not None:
        from flowsim.ensemble import EnsembleError, read_parameter_sets

        try:
            ens = read_parameter_sets(ensemble)
        except EnsembleError as err:
            raise ReportError(f"--ensemble {err}") from None
    try:
        result = comparison(
            [baseline_dir, policy_dir],
            outputs,
            allow_mixed_scales=allow_mixed_scales,
            ensemble=ens.sha256 if ens is not None else None,
        )
    except (FolderError, FileExistsError, ValueError) as err:
        raise ReportError(str(err)) from None
    problems = uncomparable(result.table, outputs)
    outputs = [o for o in outputs if o not in problems]
    if not outputs:
        listed = "; ".join(f"{k}: {v}" for k, v in problems.items())
        raise ReportError(
            f"no comparison can be made ({listed}); run both scenarios with 2 or more "
            "replicates on the same seeds (`flowsim run FILE --replications 8`)"
        )
    explain_dir = Path(explain) if explain is not None else None
    if explain_dir is not None and not (explain_dir / "explain.csv").is_file():
        raise ReportError(
            f"--explain {explain_dir}: no explain.csv there; give the --out folder of "
            "`flowsim explain`"
        )
    names = list(dict.fromkeys(result.table["scenario"]))
    baseline, policy = names[0], names[1]
    ensemble_runs = bool((result.table["test"] == "paired-ensemble").any())
    changes = policy_changes(policy_scenario, baseline_scenario)
    foot = f"{basis(result)}."
    key = [o for o in KEY_OUTPUTS if o in outputs] or outputs[:4]
    start = int(policy_scenario.start_year)
    years = sorted(int(y) for y in result.path["year"].unique())
    end = years[-1] if years else start

    headline_table, sentences = _headline_section(result, policy, ensemble_runs)
    significant = result.headline[
        (result.headline["scenario"] == policy) & (result.headline["p_adjusted"] < FDR)
    ]
    change_rows = [
        [
            _e(c["what"]),
            _e(c["meaning"]),
            _e(c["baseline"]),
            _e(c["policy"]),
            f"<code>{_e(c['path'])}</code>",
        ]
        for c in changes
    ]
    if change_rows:
        changes_html = _table(
            ["what", "meaning [unit]", _e(baseline), _e(policy), "scenario key"],
            change_rows,
            "changes",
        )
    else:
        changes_html = (
            "<p><b>The two scenarios set every policy value alike</b>: any difference below "
            "is noise.</p>"
        )
    description = (policy_scenario.description or "").strip()
    sources = list(getattr(policy_scenario, "sources", []) or [])
    path_rows = []
    policy_path = result.path[result.path["scenario"] == policy]
    for year in years:
        line = [_e(year)]
        for output in key:
            hit = policy_path[
                (policy_path["year"].astype(int) == year) & (policy_path["output"] == output)
            ]
            if hit.empty:
                line.append("")
                continue
            r = hit.iloc[0]
            line.append(
                _e(
                    f"{format_value(output, float(r['diff']), difference=True)} "
                    f"{format_interval(output, float(r['diff_ci_low']), float(r['diff_ci_high']))}"
                )
                + (' <span class="sig">*</span>' if float(r["p_adjusted"]) < FDR else "")
            )
        path_rows.append(line)
    by_city = (
        result.by_city[result.by_city["scenario"] == policy]
        if not result.by_city.empty
        else result.by_city
    )
    by_field = (
        result.by_field[result.by_field["scenario"] == policy]
        if not result.by_field.empty
        else result.by_field
    )
    n_city_sig = int(by_city["significant"].sum()) if not by_city.empty else 0
    replicates = sorted({int(r.get("replicates") or 0) for r in result.scenarios})
    scale = sorted({r.get("scale") for r in result.scenarios if r.get("scale") is not None})

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "img-src data:; style-src 'unsafe-inline'\">",
        f"<title>{_e(policy)} against {_e(baseline)}: a brief</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{_e(policy)}: what would it change?</h1>",
        f'<p class="sub">A brief comparing the policy scenario <b>{_e(policy)}</b> with '
        f"<b>{_e(baseline)}</b> in the flowsim model of the Greater Bay Area, {start}–{end}. "
        f"Agent scale {_e(', '.join(f'{s:g}' for s in scale))}, "
        f"{_e(', '.join(map(str, replicates)))} replicates per scenario on common seeds"
        f"{', run on an ensemble of parameter sets' if ensemble_runs else ''}.</p>",
        _caution(replicates, scale),
        '<section id="question"><h2>1. The question and the policy</h2>',
        f"<p><b>The question:</b> if the Greater Bay Area adopted <i>{_e(policy)}</i> instead of "
        f"<i>{_e(baseline)}</i>, how much would its research and innovation outputs change "
        f"from {start} to {end}, where, in which fields and through which channels — and "
        "how sure can we be?</p>",
        "<p><b>The policy in words:</b> "
        f"{_e(description) or '(the scenario has no description)'}</p>",
        f"<p><b>What the policy changes in the model</b> ({len(changes)} value(s), generated "
        "from the scenario files):</p>",
        changes_html,
    ]
    if sources:
        parts.append("<p><b>Sources given by the scenario:</b></p><ul>")
        parts.extend(f"<li>{_e(s)}</li>" for s in sources)
        parts.append("</ul>")
    parts += [
        "</section>",
        '<section id="headline"><h2>2. The headline effects</h2>',
        '<div class="key"><p><b>In short:</b> '
        + (
            f"{len(significant)} of {len(result.headline[result.headline['scenario'] == policy])} "
            "outputs change clearly (significant after the multiple-comparison control)."
            if len(significant)
            else "no output changes clearly at these replicates."
        )
        + "</p><ul>"
        + "".join(f"<li>{_e(s)}</li>" for s in sentences)
        + "</ul></div>",
        headline_table,
        '<p class="foot">Effect: the mean over replicates of policy minus baseline on the '
        "same seed, per year over the whole run (shares: the mean over years, in percentage "
        "points, pp). 95% CI: Student t over the paired replicates"
        + (
            "; with an ensemble, the CI is that of the mean effect over parameter sets and "
            "'across parameter sets' the 95% range of the effect between sets (parameter "
            "uncertainty and noise)"
            if ensemble_runs
            else ""
        )
        + f". q: the p-value adjusted for testing {len(outputs)} outputs ({FDR_METHOD}); "
        f"significant when q &lt; {FDR:g}. MDE: the smallest effect found with 80% power at "
        "these replicates; a non-significant effect may be real but smaller than that.</p>",
        f'<p class="foot">{_e(foot)}</p>',
        "</section>",
        '<section id="path" class="page"><h2>3. The path over time</h2>',
        "<p>The effect year by year, in % of the baseline's value that year, with its 95% "
        "interval (the shaded band). Effects of a border policy build up as projects, "
        "collaborations and firms form.</p>",
        _path_figure(policy_path, key, foot),
        _table(
            ["year", *(_e(pretty(o)) for o in key)],
            path_rows,
            "path",
        ),
        f'<p class="foot">Effect per year [95% CI]; * significant ({FDR_METHOD} over the '
        "outputs of that year).</p>",
        "</section>",
        '<section id="map" class="page"><h2>4. Where: the cities</h2>',
    ]
    if by_city.empty:
        parts.append("<p>No by-city comparison could be made for these outputs.</p>")
    else:
        parts += [
            f"<p>The effect in each city, summed over fields, in % of the city's baseline "
            f"(blue: gain, red: loss). A thick black ring and an asterisk mark the "
            f"{n_city_sig} city × output cells that are significant after "
            f"{FDR_METHOD} control over all {len(by_city)} cells; grey: no activity.</p>",
            _map_figure(by_city, key, foot),
            _cells_table(by_city, "city", key),
            '<p class="foot">% of the city\'s baseline; * significant. Hover a cell for the '
            "effect in its units. All cells: <code>compare_by_city.csv</code>.</p>",
        ]
    parts += ["</section>", '<section id="fields"><h2>5. The fields that gain and lose</h2>']
    if by_field.empty:
        parts.append("<p>No by-field comparison could be made for these outputs.</p>")
    else:
        parts += [
            _gain_lose(by_field, policy),
            _field_figure(by_field, key, foot),
            _cells_table(by_field, "field", key),
        ]
    parts += [
        "</section>",
        '<section id="channels" class="page"><h2>6. The channels</h2>',
        _explain_section(explain_dir, policy_dir, baseline_dir),
        "</section>",
        '<section id="decides"><h2>7. What decides the answer</h2>',
        _screening_section(result, ens, outputs),
        "</section>",
        '<section id="made"><h2>8. How it was made</h2>',
        _made_section(result, [baseline_dir, policy_dir], len(changes)),
        "</section>",
        "</body></html>",
    ]
    return Brief(html="\n".join(parts), comparison=result, policy=policy, baseline=baseline)


REPORTED_DEFAULT = REPORT_OUTPUTS


def _caution(replicates: Sequence[int], scale: Sequence[float]) -> str:
    """A warning box when the brief rests on fewer replicates or a smaller scale than advised."""
    from flowsim.params import Scenario
    from flowsim.replication import DEFAULT_REPLICATES

    default_scale = Scenario().scale
    problems = []
    if replicates and min(replicates) < DEFAULT_REPLICATES:
        problems.append(
            f"{min(replicates)} replicates per scenario, fewer than the {DEFAULT_REPLICATES} "
            "advised (docs/compare.md): the intervals are wide and small effects go unseen"
        )
    if scale and min(scale) < default_scale:
        problems.append(
            f"agent scale {min(scale):g}, below the default {default_scale:g}: a lever acting "
            "on few agents may be decided by which agents happen to exist"
        )
    if not problems:
        return ""
    items = "".join(f"<li>{_e(p)}</li>" for p in problems)
    return f'<div class="caution"><b>Read with care:</b> this brief rests on<ul>{items}</ul></div>'


def write_report(text: str, out: str | Path, *, force: bool = False) -> Path:
    """Write the page atomically (temporary file, then rename); never replace without force."""
    from flowsim.diskio import write_text_atomic

    out = Path(out)
    if out.exists() and not force:
        raise FileExistsError(f"{out} exists; choose another --out or ask to replace it (--force)")
    if out.exists() and out.is_dir():
        raise FileExistsError(f"{out} is a folder; give --out a file name ending in .html")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out, text)
    return out


def find_chromium() -> str | None:
    """A Chromium that can print PDF here, or None."""
    for candidate in CHROMIUM:
        if Path(candidate).is_file():
            return candidate
    return shutil.which("chromium")


def print_pdf(html_path: str | Path, pdf_path: str | Path, *, force: bool = False) -> Path:
    """Print the brief as PDF with headless Chromium (the print CSS applies).

    Raises:
        RuntimeError: no Chromium, it failed, or it wrote no PDF (the message says which).
        FileExistsError: ``pdf_path`` exists and ``force`` is false.
    """
    from flowsim.diskio import atomic_path

    chromium = find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found (/usr/bin/chromium); the PDF was not made")
    pdf_path = Path(pdf_path)
    if pdf_path.exists() and not force:
        raise FileExistsError(f"{pdf_path} exists; ask to replace it (--force)")
    with tempfile.TemporaryDirectory(prefix="flowsim-pdf-") as profile:
        with atomic_path(pdf_path) as tmp:
            command = [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={tmp}",
                Path(html_path).resolve().as_uri(),
            ]
            try:
                done = subprocess.run(
                    command, capture_output=True, text=True, timeout=PDF_TIMEOUT_S, check=False
                )
            except subprocess.TimeoutExpired:
                raise RuntimeError(f"Chromium took over {PDF_TIMEOUT_S} s; no PDF") from None
            if done.returncode != 0 or not Path(tmp).is_file() or Path(tmp).stat().st_size == 0:
                raise RuntimeError(
                    f"Chromium failed (exit {done.returncode}): {done.stderr.strip()[-300:]}"
                )
            if not Path(tmp).read_bytes()[:5] == b"%PDF-":
                raise RuntimeError("Chromium wrote something that is not a PDF")
    return pdf_path
