"""The Solara page of ``flowsim dashboard``: levers, background runs, figures, results folders.

Run it with ``flowsim dashboard [SCENARIO]``, which serves it behind the gate of
:mod:`flowsim.dashboard.guard` (token, Host and Origin checks); a bare
``solara run flowsim.dashboard.app`` has none of those and is not how to serve it.
The environment variables set by :mod:`flowsim.dashboard.server` say which scenario
opens first (``FLOWSIM_DASHBOARD_SCENARIO``) and where results folders are looked for
(``FLOWSIM_DASHBOARD_RESULTS``).

Every figure is drawn by the same function as ``flowsim plot`` (:mod:`flowsim.plots`);
every bad value gets the scenario loader's message (:class:`flowsim.yamlio.ConfigError`).
"""

from __future__ import annotations

import html
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import solara
import solara.lab
import yaml

from flowsim.compare import compare
from flowsim.dashboard import levers as lv
from flowsim.dashboard import limits, runner, views
from flowsim.folders import FolderError, folder_kind, read_run_folder
from flowsim.params import Scenario
from flowsim.plots import (
    plot_comparison,
    plot_corridor_heatmap,
    plot_map,
    plot_timeseries,
)
from flowsim.plots.bay_map import plot_difference_maps
from flowsim.plots.files import run_figures, sweep_figures
from flowsim.replication import DEFAULT_REPLICATES
from flowsim.run import stack_replicates
from flowsim.scenario import apply_overrides, load_scenario, scenario_hash
from flowsim.yamlio import ConfigError

SOURCE = "dashboard"
"""The 'file' the scenario loader names for values typed into the page."""

REFERENCES = ("the scenario as opened", "flowsim defaults (baseline)")
"""What the page's settings are compared against, both with the page's run settings."""

MAP_OUTPUTS: tuple[str, ...] = ("papers", "invention_patents", "startups", "commercialized")
"""Outputs the Map tab draws a difference map of (those the runs have by city)."""

LEVERS = lv.levers()
GROUPS = lv.groups(LEVERS)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def shipped_scenarios() -> list[str]:
    """Scenario files next to the working folder (``scenarios/*.yaml``) and the one asked for."""
    found: list[str] = []
    given = _env_path("FLOWSIM_DASHBOARD_SCENARIO")
    if given is not None:
        found.append(str(given))
    for folder in (Path.cwd() / "scenarios", Path(__file__).resolve().parents[3] / "scenarios"):
        if folder.is_dir():
            found += [str(p) for p in sorted(folder.glob("*.yaml"))]
    unique = list(dict.fromkeys(found))
    return unique or [""]


def results_root() -> Path:
    """Where the page looks for results folders."""
    return _env_path("FLOWSIM_DASHBOARD_RESULTS") or Path.cwd() / "results"


def save_folder() -> Path:
    """The one folder *Save scenario* writes into (``flowsim dashboard --save-dir``)."""
    from flowsim.dashboard.server import save_folder as default

    return _env_path("FLOWSIM_DASHBOARD_SAVE_DIR") or default(None)


RUN_SLOTS = threading.BoundedSemaphore(2)
"""Runs computed at once by the server, whatever the number of pages (the machine's cores
are shared); a page's run waits for a slot, and can be cancelled while it waits."""


def current_kernel() -> Any:
    """The Solara kernel context of the page being rendered, or None outside a server."""
    try:
        from solara.server import kernel_context

        if kernel_context.has_current_context():
            return kernel_context.get_current_context()
    except Exception:  # pragma: no cover - another Solara version: no disconnect check
        return None
    return None


def page_closed(context: Any) -> bool:
    """Whether the page of ``context`` has no open socket left (or its kernel was closed)."""
    if context is None:
        return False
    if context.closed_event.is_set():
        return True
    from solara.server.kernel_context import PageStatus

    try:
        statuses = list(context.page_status.values())
    except RuntimeError:  # changed while read: ask again at the next month
        return False
    return bool(statuses) and PageStatus.CONNECTED not in statuses


@dataclass(frozen=True)
class Opened:
    """A scenario file as opened, or the loader's report of what is wrong with it."""

    path: str
    scenario: Scenario | None
    error: str | None


def open_scenario(path: str) -> Opened:
    """Load a scenario file; a bad file gives the same report as ``flowsim validate``."""
    if not path:
        return Opened(path, Scenario(), None)
    try:
        return Opened(path, load_scenario(path), None)
    except ConfigError as err:
        return Opened(path, None, err.report())


def parse_value(text: str) -> Any:
    """A typed value as YAML (``0.7``, ``null``, empty = null); text that is not YAML stays text."""
    if text is None or not text.strip():
        return None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def shown(value: Any) -> str:
    """A scenario value as the page writes it in a field."""
    if value is None:
        return ""
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


RUN_SETTINGS = ("seed", "steps", "scale", "warmup_steps", "start_year")


def lever_edits(edits: dict[str, str]) -> dict[str, str]:
    """The edits that change the model or the policy (not the run settings)."""
    return {path: text for path, text in edits.items() if path not in RUN_SETTINGS}


def default_name(opened: Scenario, edits: dict[str, str]) -> str:
    """The page's scenario's name unless one is typed: ``NAME-edited`` once a lever changed."""
    return f"{opened.name}-edited" if lever_edits(edits) else opened.name


def default_description(opened: Scenario, edits: dict[str, str]) -> str:
    """Unless one is typed: the opened description, or what was changed from which scenario."""
    changed = lever_edits(edits)
    if not changed:
        return opened.description
    listed = "; ".join(f"{path} = {text or 'none'}" for path, text in sorted(changed.items()))
    return f"{opened.name} with, set in the dashboard: {listed}"


def current_scenario(
    opened: Scenario, edits: dict[str, str], name: str, description: str = ""
) -> tuple[Scenario | None, str | None]:
    """The opened scenario with the page's edits, or the loader's report of the bad values.

    Its name and description are the typed ones, or :func:`default_name` and
    :func:`default_description`: an edited scenario never goes by the name of the one it
    was built from.
    """
    overrides = {path: parse_value(text) for path, text in edits.items()}
    wanted_name = name or default_name(opened, edits)
    if wanted_name != opened.name:
        overrides["name"] = wanted_name
    wanted_description = description or default_description(opened, edits)
    if wanted_description != opened.description:
        overrides["description"] = wanted_description
    try:
        return apply_overrides(opened, overrides, source=SOURCE), None
    except ConfigError as err:
        return None, err.report()


def reference_scenario(opened: Scenario, current: Scenario, which: str) -> Scenario:
    """The reference: the opened scenario or the defaults, with the page's run settings."""
    base = opened if which == REFERENCES[0] else Scenario()
    settings = {key: getattr(current, key) for key in RUN_SETTINGS}
    return base.model_copy(update=settings)


def _error_box(text: str, testid: str) -> None:
    with solara.Error(classes=["flowsim-error", testid]):
        solara.Preformatted(text, style_="white-space: pre-wrap; word-break: break-word")


def _html(template: str, *texts: str, classes: list[str] | None = None) -> None:
    """A line of HTML whose user-given parts (``texts``, filled into ``{}``) are escaped."""
    solara.HTML(
        tag="div",
        unsafe_innerHTML=template.format(*(html.escape(str(t)) for t in texts)),
        classes=classes or [],
    )


def _table(frame: pd.DataFrame, table_id: str, key: str | None = None) -> None:
    solara.HTML(
        tag="div",
        unsafe_innerHTML=views.html_table(frame, table_id, key),
        style={"overflow-x": "auto", "font-size": "0.85em"},
    )


@solara.component
def LeverInputs(group: str, opened: Scenario, edits: solara.Reactive[dict]):
    """The controls of one section: a field per lever with unit, range and default."""
    data = opened.model_dump(by_alias=True, mode="json")
    for lever in [item for item in LEVERS if item.group == group]:
        value = edits.value.get(lever.path, shown(lv.value_at(data, lever.path)))
        unit = f" [{lever.unit}]" if lever.unit else ""
        problem = None
        if lever.path in edits.value:
            try:
                apply_overrides(opened, {lever.path: parse_value(value)}, source=SOURCE)
            except ConfigError as err:
                problem = err.report()

        def change(text: str | None, path: str = lever.path) -> None:
            edits.value = {**edits.value, path: text or ""}

        solara.InputText(
            f"{lever.name}{unit}",
            value=value,
            on_value=change,
            error=problem or False,
            message=lever.hint,
            classes=["flowsim-lever", f"lever-{lever.path}"],
            dense=True,
        )


def _figure(fig) -> None:
    solara.FigureMatplotlib(fig, format="png", dpi=90)


@solara.component
def RunResults(pair: runner.Pair, current: Scenario, reference: Scenario, replications: int):
    """What a run shows: the difference table, figures and tables, and downloads."""
    table = solara.use_memo(
        lambda: compare(
            {"reference": pair.reference, "current": pair.current},
        ),
        [id(pair)],
    )
    diff = solara.use_memo(lambda: views.difference_table(pair.current, pair.reference), [id(pair)])
    cells = solara.use_memo(
        lambda: views.city_differences(pair.current, pair.reference), [id(pair)]
    )
    cached = " (from the cache)" if all(pair.cached) else ""
    _html(
        "<b>current settings</b> (<span class='flowsim-current-name'>{}</span>) against "
        "<b>reference</b> (<span class='flowsim-reference-name'>{}</span>): {}",
        current.name,
        reference.name,
        f"{replications} replicate(s) of {current.steps} months at scale {current.scale:g}"
        f"{cached}. Difference = current - reference, mean per year over the run with its 95% "
        "confidence interval (paired over replicates that share seeds).",
        classes=["flowsim-run-caption"],
    )
    _table(diff, "difference", key="output")
    months = current.steps
    with solara.lab.Tabs(lazy=True):
        with solara.lab.Tab("Over time"):
            _figure(
                plot_timeseries(
                    {
                        "reference": stack_replicates(pair.reference, "timeseries"),
                        "current": stack_replicates(pair.current, "timeseries"),
                    },
                    title=f"current settings ({current.name}) against reference "
                    f"({reference.name}): outputs over time",
                )
            )
        with solara.lab.Tab("Difference"):
            _figure(plot_comparison(table, kind="difference"))
        with solara.lab.Tab("Map"):
            if cells is None:
                solara.Info("These runs carry no by-city table: no map of differences.")
            else:
                maps = plot_difference_maps(
                    cells[0],
                    [o for o in MAP_OUTPUTS if o in set(cells[0]["output"])],
                    foot=f"current ({current.name}) - reference ({reference.name}), "
                    f"{replications} replicate(s), scale {current.scale:g}; ring and *: "
                    "significant (paired 95% CI, Benjamini-Hochberg over the city cells)",
                )
                if maps is not None:
                    _figure(maps)
            with solara.Details("Cross-border flows of the current settings (levels)"):
                _figure(
                    plot_map(
                        stack_replicates(pair.current, "flows"),
                        months,
                        title=f"{current.name}: cross-border flows",
                    )
                )
        with solara.lab.Tab("Corridors"):
            _figure(
                plot_corridor_heatmap(
                    stack_replicates(pair.current, "flows"),
                    months,
                    title=f"{current.name}: border crossings",
                )
            )
        with solara.lab.Tab("By city / field"):
            tables = views.by_city_tables(pair.current)
            if tables is None or cells is None:
                solara.Info(
                    "This version's runs carry no by-city table (RunResult.by_city); the "
                    "tables appear here once they do."
                )
            else:
                solara.Markdown(
                    "**Difference by city** (current - reference, % of the reference, all "
                    "fields; `*` significant: paired 95% CI, Benjamini-Hochberg over the cells)"
                )
                _table(views.difference_grid(cells[0], "city"), "by-city-diff", key="city")
                solara.Markdown("**Difference by field** (all cities; `*` significant)")
                _table(views.difference_grid(cells[1], "field"), "by-field-diff", key="field")
                with solara.Details("Levels: current settings, mean per year over the run"):
                    _table(tables[0], "by-city", key="city")
                    _table(tables[1], "by-field", key="field")
    with solara.Row():
        solara.FileDownload(
            lambda: views.results_zip(pair.current, current, pair.reference, reference),
            filename=f"{views.safe_name(current.name)}-results.zip",
            label="Download results (zip: both runs)",
        )
        solara.FileDownload(
            lambda: views.report_html(pair.current, current, pair.reference, reference),
            filename=f"{views.safe_name(current.name)}-report.html",
            label="Report (HTML brief)",
        )
        solara.FileDownload(
            views.scenario_yaml(current, replications, reference.name),
            filename=f"{views.safe_name(current.name)}.yaml",
            label="Download scenario (YAML)",
        )


@solara.component
def SaveScenario(current: Scenario | None, replications: int, reference: str):
    """Save the page's settings as a scenario file in the save folder, checked as validate does.

    Only a plain file name is taken (:func:`flowsim.dashboard.views.save_name`); the file
    goes into :func:`save_folder` and nowhere else.
    """
    path = solara.use_reactive("")
    replace = solara.use_reactive(False)
    message = solara.use_reactive(("", ""))
    folder = save_folder()
    default = f"{views.safe_name(current.name)}.yaml" if current is not None else "scenario.yaml"

    def save() -> None:
        if current is None:
            message.value = ("error", "fix the values marked in red first")
            return
        try:
            written = views.save_text(
                folder,
                path.value.strip() or default,
                views.scenario_yaml(current, replications, reference),
                replace=replace.value,
            )
        except (ValueError, OSError) as err:
            message.value = ("error", str(err))
            return
        try:
            loaded = load_scenario(written)
        except ConfigError as err:  # would be a bug: say so plainly
            message.value = ("error", err.report())
            return
        message.value = (
            "ok",
            f"saved {written}; flowsim validate: ok ({loaded.name}); "
            f"run it with: flowsim run {written} --replications {replications}",
        )

    with solara.Card("Save as a scenario file"):
        solara.Text(f"into {folder}", classes=["flowsim-save-folder"])
        solara.InputText(
            "file name (letters, digits, - and _, .yaml)",
            value=path,
            placeholder=default,
            classes=["flowsim-save-path"],
            dense=True,
        )
        solara.Checkbox(label="replace the file if it exists", value=replace)
        solara.Button("Save scenario", on_click=save, classes=["flowsim-save"], outlined=True)
        kind, text = message.value
        if kind == "ok":
            solara.Success(text, classes=["flowsim-saved"])
        elif kind == "error":
            _error_box(text, "flowsim-save-error")


@solara.component
def ScenarioTab():
    """Pick a scenario, set levers, run against the reference, see the results."""
    choices = solara.use_memo(shipped_scenarios, [])
    path = solara.use_reactive(choices[0])
    typed = solara.use_reactive("")
    edits = solara.use_reactive({})
    name = solara.use_reactive("")
    description = solara.use_reactive("")
    group = solara.use_reactive(GROUPS[0])
    replications = solara.use_reactive(DEFAULT_REPLICATES)  # why 8: flowsim.replication
    which = solara.use_reactive(REFERENCES[0])
    status = solara.use_reactive("")
    opened = solara.use_memo(lambda: open_scenario(path.value), [path.value])

    def pick(value: str) -> None:
        path.value = value
        edits.value = {}
        name.value = ""
        description.value = ""

    def open_typed() -> None:
        if typed.value.strip():
            pick(typed.value.strip())

    current, problems = (
        current_scenario(opened.scenario, edits.value, name.value, description.value)
        if opened.scenario is not None
        else (None, None)
    )
    reference = (
        reference_scenario(opened.scenario, current, which.value)
        if current is not None and opened.scenario is not None
        else None
    )

    kernel = current_kernel()
    too_large = limits.refusal(current, replications.value) if current is not None else None

    def work(cur: Scenario, ref: Scenario, reps: int) -> runner.Pair:
        problem = limits.refusal(cur, reps)
        if problem is not None:  # the button is disabled; a crafted message is refused here
            raise ValueError(problem)
        closed = False
        done = 0.0

        def stop() -> bool:
            nonlocal closed
            if page_closed(kernel):
                closed = True
                return True
            return not task.is_current()

        def progress(fraction: float, what: str) -> None:
            nonlocal done
            done = fraction
            task.progress = 100.0 * fraction
            status.value = what

        status.value = "waiting for another page's run to finish:"
        while not RUN_SLOTS.acquire(timeout=0.2):
            if stop():
                raise runner.Cancelled
        try:
            return runner.run_pair(cur, ref, reps, progress=progress, cancelled=stop)
        except runner.Cancelled:
            if closed:
                print(
                    f"flowsim dashboard: stopped the run of {cur.name!r} at {100 * done:.0f}%: "
                    "its page closed",
                    file=sys.stderr,
                    flush=True,
                )
            raise
        finally:
            RUN_SLOTS.release()

    task = solara.lab.use_task(work, dependencies=None, raise_error=False)

    with solara.Columns([5, 7]):
        with solara.Column():
            with solara.Card("Scenario"):
                solara.Select(
                    "shipped or given scenario", values=choices, value=path, on_value=pick
                )
                with solara.Row():
                    solara.InputText(
                        "or open a scenario file",
                        value=typed,
                        classes=["flowsim-open-path"],
                        dense=True,
                    )
                    solara.Button("Open", on_click=open_typed, classes=["flowsim-open"])
                if opened.error:
                    _error_box(opened.error, "flowsim-scenario-error")
                    return
                assert opened.scenario is not None
                solara.InputText(
                    "scenario name",
                    value=name.value or default_name(opened.scenario, edits.value),
                    on_value=lambda v: name.set(v or ""),
                    classes=["flowsim-name"],
                    dense=True,
                )
                with solara.Div(classes=["flowsim-description-input"]):
                    solara.InputTextArea(
                        "description",
                        value=description.value
                        or default_description(opened.scenario, edits.value),
                        on_value=lambda v: description.set(v or ""),
                        rows=2,
                        auto_grow=True,
                    )
                # the opened file's description, as text (never rendered as HTML/Markdown)
                solara.Text(
                    opened.scenario.description or "",
                    classes=["flowsim-description"],
                    style={"white-space": "pre-wrap"},
                )
            with solara.Card("Levers"):
                solara.Select("section", values=GROUPS, value=group)
                if edits.value:
                    with solara.Row():
                        solara.Text(f"{len(edits.value)} value(s) changed from the scenario")
                        solara.Button(
                            "Undo all", on_click=lambda: edits.set({}), text=True, small=True
                        )
                if problems:
                    _error_box(problems, "flowsim-lever-error")
                LeverInputs(group.value, opened.scenario, edits)
        with solara.Column():
            with solara.Card("Run"):
                solara.InputInt("replicates", value=replications, classes=["flowsim-replicates"])
                solara.Select("compare against", values=list(REFERENCES), value=which)
                with solara.Row():
                    solara.Button(
                        "Run",
                        on_click=lambda: task(current, reference, max(1, replications.value)),
                        disabled=current is None or task.pending or too_large is not None,
                        color="primary",
                        classes=["flowsim-run"],
                    )
                    solara.Button(
                        "Cancel",
                        on_click=task.cancel,
                        disabled=not task.pending,
                        classes=["flowsim-cancel"],
                    )
                if too_large is not None:
                    solara.Warning(too_large, classes=["flowsim-too-large"])
                if task.pending:
                    solara.ProgressLinear(task.progress if task.progress is not None else True)
                    solara.Text(
                        f"running {status.value} ... {task.progress or 0:.0f}%",
                        classes=["flowsim-progress"],
                    )
                elif task.cancelled:
                    solara.Warning("cancelled: nothing was kept", classes=["flowsim-cancelled"])
                elif task.error and not isinstance(task.exception, runner.Cancelled):
                    _error_box(
                        f"the run failed: {type(task.exception).__name__}: {task.exception}",
                        "flowsim-run-error",
                    )
                if current is not None:
                    solara.Text(
                        f"scenario sha256 {scenario_hash(current)[:12]}",
                        style={"font-size": "0.8em", "color": "grey"},
                    )
            pair = task.latest if isinstance(task.latest, runner.Pair) else None
            if pair is not None and current is not None and reference is not None:
                shown_cur, shown_ref = pair.current[0].scenario, pair.reference[0].scenario
                if scenario_hash(shown_cur) != scenario_hash(current):
                    solara.Info("the levers changed since this run: press Run to update")
                with solara.Card("Results"):
                    RunResults(pair, shown_cur, shown_ref, len(pair.current))
            SaveScenario(current, max(1, replications.value), reference.name if reference else "")


@solara.component
def FolderView(folder: str):
    """A results folder: its figures (as ``flowsim plot`` draws them) and its manifest."""
    try:
        kind = folder_kind(folder)
        makers = run_figures(folder) if kind == "run" else sweep_figures(folder)
    except FolderError as err:
        _error_box(str(err), "flowsim-folder-error")
        return
    if kind == "run":
        data = read_run_folder(folder)
        made = data.manifest.get("finished") or data.manifest.get("created") or ""
        _html(
            "<b>run folder</b> <code>{}</code>: scenario <b>{}</b>, {}",
            folder,
            data.name,
            f"{data.timeseries['replicate'].nunique()} replicate(s), {data.months} months {made}",
        )
        solara.HTML(
            tag="span", unsafe_innerHTML=html.escape(data.name), classes=["flowsim-folder-name"]
        )
        by_city = Path(folder) / "by_city.parquet"
        tables = views.by_city_summary(pd.read_parquet(by_city)) if by_city.is_file() else None
        if tables is not None:
            with solara.Details("By city and by field (mean per year over the run)"):
                _table(tables[0], "folder-by-city", key="city")
                _table(tables[1], "folder-by-field", key="field")
    else:
        _html("<b>sweep folder</b> <code>{}</code>", folder)
        solara.HTML(tag="span", unsafe_innerHTML="sweep", classes=["flowsim-folder-name"])
    with solara.lab.Tabs(lazy=True):
        for stem, maker in makers.items():
            with solara.lab.Tab(stem):
                _figure(maker())


@solara.component
def FoldersTab():
    """Open results folders of runs and sweeps; compare several run folders."""
    found = solara.use_memo(lambda: [str(p) for p in views.find_results_folders(results_root())])
    typed = solara.use_reactive("")
    opened = solara.use_reactive("")
    chosen = solara.use_reactive([])
    with solara.Card("Open a results folder"):
        solara.Text(f"Folders found under {results_root()}: {len(found)}")
        if found:
            solara.Select("found", values=found, value=opened.value or None, on_value=opened.set)
        with solara.Row():
            solara.InputText(
                "or a folder path", value=typed, classes=["flowsim-folder-path"], dense=True
            )
            solara.Button(
                "Open folder",
                on_click=lambda: opened.set(typed.value.strip()),
                classes=["flowsim-open-folder"],
            )
    if opened.value:
        with solara.Card("Folder"):
            FolderView(opened.value)
    runs = [f for f in found if _is_run(f)]
    if len(runs) >= 2:
        with solara.Card("Compare run folders (the first is the reference)"):
            solara.SelectMultiple(
                "run folders", values=chosen.value, all_values=runs, on_value=chosen.set
            )
            if len(chosen.value) >= 2:
                try:
                    table = compare(chosen.value)
                except (FolderError, ValueError) as err:
                    _error_box(str(err), "flowsim-compare-error")
                else:
                    _figure(plot_comparison(table, kind="difference"))


def _is_run(folder: str) -> bool:
    try:
        return folder_kind(folder) == "run"
    except FolderError:
        return False


@solara.component
def Page():
    """The dashboard."""
    solara.Title("flowsim dashboard")
    with solara.AppBar():
        solara.AppBarTitle("flowsim: cross-border innovation flows in the Greater Bay Area")
    with solara.lab.Tabs():
        with solara.lab.Tab("Scenario"):
            ScenarioTab()
        with solara.lab.Tab("Results folders"):
            FoldersTab()
