"""Figures drawn from real results: what is on each axis, not only that a file appears."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.patches import FancyArrowPatch
from run_folders import SWEEP_LEVERS, SWEEP_OUTCOMES

from flowsim import cli
from flowsim.folders import FolderError, read_run_folder, read_sweep_folder
from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, JURISDICTIONS, load_geography
from flowsim.plots import (
    plot_comparison,
    plot_corridor_heatmap,
    plot_folder,
    plot_map,
    plot_sensitivity,
    plot_sweep_outcomes,
    plot_timeseries,
)
from flowsim.plots.bay_map import MAX_ARROW_WIDTH


def visible_axes(fig):
    """The panels of a figure, without colour bars (which have no title) and hidden axes."""
    return [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]


def jurisdiction_of(city: str) -> str:
    geo = load_geography()
    return JURISDICTIONS[geo.city_jurisdiction[CITIES.index(city)]]


def corridor_of(origin: str, destination: str) -> str | None:
    """The corridor of a city pair, worked out from the jurisdictions' names.

    None for a flow to or from CN or ROW: the map and the heatmap show the Bay Area's
    corridors (docs/open_region.md).
    """
    if origin not in CITIES or destination not in CITIES:
        return None
    a, b = jurisdiction_of(origin), jurisdiction_of(destination)
    if a == b:
        return None
    return next(c for c in CORRIDORS if set(c.split("-")) == {a, b})


# --------------------------------------------------------------------------- time series


def _many_replicates(timeseries: pd.DataFrame, n: int = 12) -> pd.DataFrame:
    """``n`` replicates made from a run's few: replicate k is one of them scaled by 1 + k / 50."""
    few = sorted(timeseries["replicate"].unique())
    parts = []
    for k in range(n):
        part = timeseries[timeseries["replicate"] == few[k % len(few)]].copy()
        numeric = part.columns.difference(["replicate", "seed", "step", "year"])
        part[numeric] = part[numeric] * (1 + k / 50)
        part["replicate"] = k
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _medians(ax):
    return [line for line in ax.lines if line.get_gid() == "median"]


def test_timeseries_draws_median_and_band_per_output(baseline_folder):
    run = read_run_folder(baseline_folder)
    many = _many_replicates(run.timeseries)
    outputs = ["papers", "vc_volume", "researchers", "cross_border_collaboration_share"]
    fig = plot_timeseries(many, outputs, title="baseline")
    axes = visible_axes(fig)
    assert len(axes) == len(outputs), f"one panel per output, got {len(axes)}"
    expected_units = ["[count / month]", "[RMB m / month]", "[count]", "[share]"]
    for ax, output, unit in zip(axes, outputs, expected_units, strict=True):
        assert unit in ax.get_ylabel(), f"{output}: y label {ax.get_ylabel()!r} lacks unit {unit}"
        assert ax.get_xlabel() == "month", f"{output}: x label {ax.get_xlabel()!r}"
        assert len(ax.lines) == 1, f"{output}: one median line expected, got {len(ax.lines)}"
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == 1, f"{output}: one 5-95% band expected, got {len(bands)}"
        median = many.groupby("step")[output].median().to_numpy()
        assert np.allclose(ax.lines[0].get_ydata(), median), f"{output}: the line is not the median"
        assert len(ax.lines[0].get_xdata()) == run.months, f"{output}: one point per month"
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert any("5-95% of 12 replicates" in t for t in labels), (
        f"legend should say how many replicates: {labels}"
    )
    assert fig._suptitle.get_text() == "baseline", "figure title"


def test_few_replicates_are_drawn_as_lines_not_as_a_band(baseline_folder):
    """A '5-95%' band of 3 replicates would be their range: draw the replicates and say so."""
    run = read_run_folder(baseline_folder)
    outputs = ["papers", "startups"]
    fig = plot_timeseries(run.timeseries, outputs)
    for ax, output in zip(visible_axes(fig), outputs, strict=True):
        assert not [c for c in ax.collections if isinstance(c, PolyCollection)], "no band"
        replicates = [line for line in ax.lines if line.get_gid() == "replicate"]
        assert len(replicates) == 3 and len(_medians(ax)) == 1, "3 replicate lines and a median"
        for line, (_, rows) in zip(replicates, run.timeseries.groupby("replicate"), strict=True):
            assert np.allclose(line.get_ydata(), rows.sort_values("step")[output]), (
                f"{output}: a line is one replicate's values"
            )
    labels = [t.get_text() for t in visible_axes(fig)[0].get_legend().get_texts()]
    assert any("each of 3 replicates (too few for a 5-95% band)" in t for t in labels), labels
    assert not any("5-95% of" in t for t in labels), labels


def test_timeseries_band_spans_5_to_95_percent(baseline_folder):
    many = _many_replicates(read_run_folder(baseline_folder).timeseries)
    fig = plot_timeseries(many, ["papers"])
    band = next(c for c in visible_axes(fig)[0].collections if isinstance(c, PolyCollection))
    ys = band.get_paths()[0].vertices[:, 1]
    q = many.groupby("step")["papers"].quantile([0.05, 0.95]).unstack()
    assert np.isclose(ys.max(), q[0.95].max()), "band top is the 95% quantile"
    assert np.isclose(ys.min(), q[0.05].min()), "band bottom is the 5% quantile"


def test_timeseries_overlays_scenarios(baseline_folder, policy_folder):
    runs = {r.name: r.timeseries for r in map(read_run_folder, (baseline_folder, policy_folder))}
    fig = plot_timeseries(runs, ["papers", "startups", "pct_applications"])
    for ax in visible_axes(fig):
        assert len(_medians(ax)) == 2, f"{ax.get_title()}: a median line per scenario"
        replicates = [line for line in ax.lines if line.get_gid() == "replicate"]
        assert len(replicates) == 6, f"{ax.get_title()}: 3 replicate lines per scenario"
    legend = [t.get_text() for t in visible_axes(fig)[0].get_legend().get_texts()]
    assert any(t.startswith("data_sandbox:") for t in legend), f"legend names scenarios: {legend}"


def test_timeseries_unknown_output_is_a_clear_error(baseline_folder):
    run = read_run_folder(baseline_folder)
    with pytest.raises(ValueError, match="no column.*paper"):
        plot_timeseries(run.timeseries, ["paper"])


# --------------------------------------------------------------------------- map


def test_map_has_cities_and_one_arrow_per_cross_border_pair(baseline_folder):
    run = read_run_folder(baseline_folder)
    fig = plot_map(run.flows, run.months)
    axes = visible_axes(fig)
    assert [ax.get_title().split(":")[0] for ax in axes] == list(ELEMENTS), "one panel per element"
    flows = run.flows.assign(
        element=run.flows["element"].astype(str),
        origin=run.flows["origin"].astype(str),
        destination=run.flows["destination"].astype(str),
    )
    cross = flows[
        [
            corridor_of(o, d) is not None
            for o, d in zip(flows.origin, flows.destination, strict=True)
        ]
    ]
    for ax, element in zip(axes, ELEMENTS, strict=True):
        markers = sum(len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection))
        assert markers == 11, f"{element}: 11 city markers expected, got {markers}"
        names = {t.get_text() for t in ax.texts}
        assert set(CITIES) <= names, f"{element}: every city is labelled"
        volumes = cross[cross.element == element].groupby(["origin", "destination"])["volume"].sum()
        volumes = volumes[volumes > 0]
        arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
        assert len(arrows) == len(volumes), (
            f"{element}: {len(arrows)} arrows for {len(volumes)} city pairs"
        )
        # Width grows linearly with volume, from 0.4 pt to MAX_ARROW_WIDTH for the largest flow.
        share = {f"flow:{o}->{d}": v / volumes.max() for (o, d), v in volumes.items()}
        for arrow in arrows:
            width = 0.4 + (MAX_ARROW_WIDTH - 0.4) * share[arrow.get_gid()]
            assert np.isclose(arrow.get_linewidth(), width), (
                f"{element} {arrow.get_gid()}: width not by volume"
            )
        assert "east" in ax.get_xlabel() and "[km]" in ax.get_xlabel(), "x axis in km"
    assert any(len(a.patches) > 0 for a in axes), "the baseline has cross-border flows"


@pytest.mark.parametrize("measure", ["cross_border_inflow", "inflow"])
def test_map_colours_cities_by_inflow(baseline_folder, measure):
    """By default cities are coloured by what crosses a border into them, as the title says.

    Samples: they cross the Bay Area's borders more often than data, whose tiny fixture may have
    none once CN and ROW are sources too (docs/open_region.md).
    """
    run = read_run_folder(baseline_folder)
    fig = plot_map(
        run.flows,
        run.months,
        elements=["samples"],
        **({} if measure != "inflow" else {"color_by": measure}),
    )
    ax = visible_axes(fig)[0]
    flows = run.flows[run.flows["element"].astype(str) == "samples"]
    if measure == "cross_border_inflow":
        jurisdiction = dict(zip(CITIES, load_geography().city_jurisdiction, strict=True))
        inside = flows["origin"].astype(str).isin(CITIES) & flows["destination"].astype(str).isin(
            CITIES
        )
        crosses = inside & (
            flows["origin"].astype(str).map(jurisdiction)
            != flows["destination"].astype(str).map(jurisdiction)
        )
        assert 0 < crosses.sum() < len(flows), "the fixture has domestic and cross-border flows"
        flows = flows[crosses]
    inflow = flows.groupby(flows["destination"].astype(str))["volume"].sum()
    replicates = run.flows["replicate"].nunique()
    geo = load_geography()
    drawn = {}
    for collection in (c for c in ax.collections if isinstance(c, PathCollection)):
        for (x, _), value in zip(collection.get_offsets(), collection.get_array(), strict=True):
            drawn[round(float(x), 6)] = float(value)
    lon0, lat0 = np.mean(geo.lon), np.mean(geo.lat)
    for i, city in enumerate(CITIES):
        x = round(float((geo.lon[i] - lon0) * 111.32 * np.cos(np.radians(lat0))), 6)
        expected = inflow.get(city, 0.0) * 12.0 / (run.months * replicates)
        assert np.isclose(drawn[x], expected), (
            f"{city}: colour value {drawn[x]} != data inflow {expected}"
        )
    label = (
        "samples cross-border inflow"
        if measure != "inflow"
        else "samples inflow, domestic included"
    )
    colour_bar = next(a for a in fig.axes if a.get_ylabel().startswith(label))
    assert "[shipments / year]" in colour_bar.get_ylabel(), "colour bar has units"
    what = "cross-border inflow" if measure != "inflow" else "inflow, domestic included"
    assert f"cities coloured by {what}" in ax.get_title(), f"the title says it: {ax.get_title()}"


def test_map_rejects_unknown_element_and_city(baseline_folder):
    run = read_run_folder(baseline_folder)
    with pytest.raises(ValueError, match="unknown elements"):
        plot_map(run.flows, run.months, elements=["money"])
    with pytest.raises(ValueError, match="unknown cities.*Shenzen"):
        plot_map(run.flows, run.months, color_by={"Shenzen": 1.0})


# --------------------------------------------------------------------------- heat map


def test_corridor_heatmap_values_are_the_flow_aggregates(baseline_folder):
    run = read_run_folder(baseline_folder)
    fig = plot_corridor_heatmap(run.flows, run.months)
    axes = visible_axes(fig)
    assert len(axes) == 3, "crossings, mean delay and refusals"
    flows = run.flows.assign(
        corridor=[
            corridor_of(o, d)
            for o, d in zip(
                run.flows.origin.astype(str), run.flows.destination.astype(str), strict=True
            )
        ],
        element=run.flows["element"].astype(str),
    )
    flows = flows[flows.corridor.notna()]
    per_year = 12.0 / (run.months * run.flows["replicate"].nunique())
    expected = {
        "crossings": np.zeros((3, 4)),
        "mean_delay_days": np.full((3, 4), np.nan),
        "refusals": np.zeros((3, 4)),
    }
    for (corridor, element), group in flows.groupby(["corridor", "element"]):
        i, j = CORRIDORS.index(corridor), ELEMENTS.index(element)
        expected["crossings"][i, j] = group["count"].sum() * per_year
        expected["refusals"][i, j] = group["refusals"].sum() * per_year
        if group["count"].sum() > 0:
            expected["mean_delay_days"][i, j] = np.average(
                group["mean_delay_days"], weights=group["count"]
            )
    for ax, (measure, values) in zip(axes, expected.items(), strict=True):
        image = ax.get_images()[0].get_array()
        assert image.shape == (3, 4), f"{measure}: shape {image.shape}"
        drawn = np.ma.filled(image.astype(float), np.nan)
        assert np.allclose(drawn, values, equal_nan=True), (
            f"{measure}: drawn\n{drawn}\nexpected\n{values}"
        )
        assert [t.get_text() for t in ax.get_yticklabels()] == list(CORRIDORS), (
            f"{measure}: corridor rows"
        )
        assert [t.get_text() for t in ax.get_xticklabels()] == list(ELEMENTS), (
            f"{measure}: element columns"
        )
        assert len(ax.texts) == 12, f"{measure}: every cell is annotated"
    assert expected["crossings"][0, 0] > 0, "the baseline has GD-HK talent crossings"
    bars = [a.get_ylabel() for a in fig.axes if a not in axes]
    assert (
        "mean delay of a crossing [days]" in bars and "approved crossings [count / year]" in bars
    ), bars


# --------------------------------------------------------------------------- comparison


def test_comparison_levels_with_confidence_intervals(baseline_folder, policy_folder):
    from flowsim.compare import compare

    table = compare([baseline_folder, policy_folder])
    outputs = ["papers", "startups", "vc_volume"]
    fig = plot_comparison(table, outputs)
    for ax, output in zip(visible_axes(fig), outputs, strict=True):
        series = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(series) == 2, f"{output}: one series per scenario, got {len(series)}"
        assert "/ year]" in ax.get_ylabel(), (
            f"{output}: y label with unit per year: {ax.get_ylabel()!r}"
        )
        line, _, (bars,) = series[1]
        mine = table[
            (table.scenario == "data_sandbox") & (table.output == output) & (table.period != "all")
        ]
        assert np.allclose(line.get_ydata(), mine["mean"]), f"{output}: drawn means"
        spans = np.array([seg[1, 1] - seg[0, 1] for seg in bars.get_segments()])
        assert np.allclose(spans, mine["ci_high"] - mine["ci_low"]), (
            f"{output}: error bars are the 95% CI"
        )
    legend = [t.get_text() for t in visible_axes(fig)[0].get_legend().get_texts()]
    assert legend == ["baseline (reference)", "data_sandbox"], legend


def test_comparison_difference_and_overview(baseline_folder, policy_folder):
    fig = plot_comparison(
        [baseline_folder, policy_folder], ["papers", "commercialized"], kind="difference"
    )
    for ax in visible_axes(fig):
        series = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(series) == 1, "the reference is the zero line, not a series"
        assert any(np.allclose(line.get_ydata(), 0.0) for line in ax.lines), (
            "a zero line for the reference"
        )
        assert ax.get_ylabel().startswith("difference:"), ax.get_ylabel()
    fig = plot_comparison(
        [baseline_folder, policy_folder], ["papers", "startups", "vc_deals"], kind="overview"
    )
    ax = visible_axes(fig)[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 1 and len(bars[0]) == 3, "one bar per output for the one policy scenario"
    assert "[% of baseline]" in ax.get_xlabel(), ax.get_xlabel()


# --------------------------------------------------------------------------- sweeps


def test_sweep_outcomes_grid(sweep_folder):
    sweep = read_sweep_folder(sweep_folder)
    fig = plot_sweep_outcomes(sweep.runs)
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert len(panels) == len(SWEEP_OUTCOMES) * len(SWEEP_LEVERS), f"{len(panels)} panels"
    finished = sweep.runs["error"].isna().sum()
    for k, ax in enumerate(panels):
        outcome, lever = (
            SWEEP_OUTCOMES[k // len(SWEEP_LEVERS)],
            list(SWEEP_LEVERS)[k % len(SWEEP_LEVERS)],
        )
        assert ax.get_xlabel() == lever, f"x label {ax.get_xlabel()!r} is the lever's path"
        assert "/ year]" in ax.get_ylabel() and ax.get_ylabel().startswith(
            outcome.replace("_", " ").replace("vc", "VC")
        )
        points = ax.collections[0].get_offsets()
        assert len(points) == finished, (
            f"{outcome} vs {lever}: a point per finished run, not the failed one"
        )
        assert len(ax.lines) == 1, "one binned-mean line"
        # Six design points: the mean line has a point per lever value.
        assert len(ax.lines[0].get_xdata()) == 6, "binned mean per design point"
    assert "1 failed run left out" in fig._suptitle.get_text(), fig._suptitle.get_text()


def test_sensitivity_bars_and_error_bars(sweep_folder):
    table = read_sweep_folder(sweep_folder).sensitivity
    fig = plot_sensitivity(table)
    axes = visible_axes(fig)
    assert len(axes) == len(SWEEP_OUTCOMES), "one panel per outcome"
    for k, (ax, outcome) in enumerate(zip(axes, SWEEP_OUTCOMES, strict=True)):
        mine = table[table.outcome == outcome].set_index("parameter").loc[list(SWEEP_LEVERS)]
        bars = [c for c in ax.containers if isinstance(c, BarContainer)]
        assert [len(b) for b in bars] == [2, 2], f"{outcome}: S1 and ST bars for 2 parameters"
        assert np.allclose([p.get_width() for p in bars[0]], mine["S1"]), (
            f"{outcome}: S1 bar lengths"
        )
        assert np.allclose([p.get_width() for p in bars[1]], mine["ST"]), (
            f"{outcome}: ST bar lengths"
        )
        errors = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        for container, conf in zip(errors, ("S1_conf", "ST_conf"), strict=True):
            (segments,) = container.lines[2]
            half = np.array([(s[1, 0] - s[0, 0]) / 2 for s in segments.get_segments()])
            assert np.allclose(half, mine[conf]), f"{outcome}: {conf} error bars"
        names = [t.get_text() for t in ax.get_yticklabels()]
        shared = [""] * len(SWEEP_LEVERS)  # panels side by side share the left one's names
        assert names == (list(SWEEP_LEVERS) if k % 2 == 0 else shared), "parameter names"
    with pytest.raises(ValueError, match="not a sensitivity table"):
        plot_sensitivity(pd.DataFrame({"outcome": ["x"], "parameter": ["y"], "value": [1.0]}))


def test_morris_sensitivity():
    table = pd.DataFrame(
        {
            "outcome": ["papers"] * 3,
            "parameter": ["a", "b", "c"],
            "mu_star": [3.0, 1.0, 0.2],
            "mu_star_conf": [0.5, 0.2, 0.1],
            "sigma": [1.0, 0.5, 0.1],
        }
    )
    ax = visible_axes(plot_sensitivity(table))[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [len(b) for b in bars] == [3, 3], "mu* and sigma bars"
    errors = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(errors) == 1, "only mu* has a confidence interval"


# --------------------------------------------------------------------------- files and CLI


def test_plot_folder_writes_every_figure(baseline_folder, policy_folder, sweep_folder, tmp_path):
    written = plot_folder([baseline_folder, policy_folder, sweep_folder], tmp_path / "figs")
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            f"{run}-{stem}.png"
            for run in ("baseline", "data_sandbox")
            for stem in ("timeseries", "map", "corridors")
        ]
        + ["sweep-outcomes.png", "sweep-sensitivity.png"]
        + ["comparison.png", "comparison-difference.png", "comparison-overview.png"]
    ), names
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is a PNG"
    record = json.loads((tmp_path / "figs" / "provenance.json").read_text())
    assert len(record["sources"]) == 3 and sorted(record["outputs"]) == names, (
        "provenance.json names the three source folders and every figure"
    )
    with pytest.raises(FileExistsError, match="--force"):
        plot_folder([baseline_folder, policy_folder, sweep_folder], tmp_path / "figs")


def test_plot_folder_replaces_figures_only_when_forced(sweep_folder, tmp_path):
    first = plot_folder(sweep_folder, tmp_path, fmt="svg")
    assert sorted(p.name for p in first) == ["outcomes.svg", "sensitivity.svg"], first
    (tmp_path / "outcomes.svg").write_text("mine")
    with pytest.raises(FileExistsError, match="outcomes.svg"):
        plot_folder(sweep_folder, tmp_path, fmt="svg")
    assert (tmp_path / "outcomes.svg").read_text() == "mine", (
        "nothing is overwritten without --force"
    )
    plot_folder(sweep_folder, tmp_path, fmt="svg", force=True)
    assert (tmp_path / "outcomes.svg").read_text().lstrip().startswith("<?xml"), (
        "replaced when forced"
    )


def test_cli_plot_defaults_to_folder_figures_and_svg(baseline_folder, tmp_path, capsys):
    folder = tmp_path / "run"
    shutil.copytree(baseline_folder, folder, ignore=shutil.ignore_patterns("figures"))
    assert cli.main(["plot", str(folder), "--format", "svg"]) == 0, "plot succeeds"
    written = sorted(p.name for p in (folder / "figures").iterdir())
    assert written == ["corridors.svg", "map.svg", "provenance.json", "timeseries.svg"], written
    assert "<svg" in (folder / "figures" / "map.svg").read_text()[:2000], "an SVG file"
    assert cli.main(["plot", str(folder), "--format", "svg"]) == 2, "no overwrite without --force"
    assert "--force" in capsys.readouterr().err


@pytest.mark.parametrize("make", ["missing", "empty", "bad_json"])
def test_cli_plot_bad_folder_is_a_clear_error(make, baseline_folder, tmp_path, capsys):
    folder = tmp_path / "x"
    if make != "missing":
        folder.mkdir()
    if make == "bad_json":
        folder.rmdir()
        shutil.copytree(baseline_folder, folder, ignore=shutil.ignore_patterns("figures"))
        bad = '{"scenario": "a",\n "steps": }'
        (folder / "summary.json").write_text(bad)
        # the manifest vouches for the bad file, so that reading gets as far as parsing it
        record = json.loads((folder / "manifest.json").read_text())
        record["files"]["summary.json"] = hashlib.sha256(bad.encode()).hexdigest()
        (folder / "manifest.json").write_text(json.dumps(record))
    assert cli.main(["plot", str(folder)]) == 2, "bad input exits 2"
    err = capsys.readouterr().err
    expected = {
        "missing": "no such folder",
        "empty": "neither a run folder",
        "bad_json": "summary.json:2:",
    }[make]
    assert expected in err and str(folder) in err, err
    assert "Traceback" not in err


def test_reading_a_sweep_as_a_run_says_so(sweep_folder):
    with pytest.raises(FolderError, match="sweep folder"):
        read_run_folder(Path(sweep_folder))


def test_cli_plot_draws_the_outputs_asked_for(baseline_folder, policy_folder, tmp_path, capsys):
    chosen = ["licences", "vc_deals", "researchers", "gii_cluster_score"]
    out = tmp_path / "figs"
    args = ["plot", str(baseline_folder), str(policy_folder), "--out", str(out)]
    assert cli.main([*args, "--outputs", ",".join(chosen)]) == 0
    capsys.readouterr()
    figures = sorted(p.name for p in out.iterdir())
    assert "baseline-timeseries.png" in figures and "comparison.png" in figures, figures
    series = plot_folder(baseline_folder, tmp_path / "one", outputs=chosen)
    assert [p.name for p in series][0] == "timeseries.png"
    from flowsim.plots.files import run_figures

    fig = run_figures(baseline_folder, chosen)["timeseries"]()
    titles = [ax.get_title() for ax in visible_axes(fig)]
    assert titles == ["licences", "VC deals", "researchers"], (
        f"the series asked for, without the yearly-only GII score: {titles}"
    )
    from flowsim.compare import compare
    from flowsim.plots.comparison import plot_comparison

    table = compare([baseline_folder, policy_folder], chosen)
    panels = [ax.get_title() for ax in visible_axes(plot_comparison(table, chosen))]
    assert len(panels) == len(chosen) and any("GII" in t for t in panels), panels

    assert cli.main([*args, "--outputs", "licences,paperz", "--force"]) == 2
    err = capsys.readouterr().err
    assert "unknown output(s) ['paperz']" in err and "did you mean 'papers'" in err, err
