"""Ensemble runs: every parameter set with common seeds, effects with parameter uncertainty."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from run_folders import TINY, tiny_scenario

import flowsim
from flowsim.cli import main as cli
from flowsim.compare import compare
from flowsim.ensemble import EnsembleError, load_ensemble, read_parameter_sets, run_ensemble
from flowsim.folders import read_run_folder
from flowsim.params import Scenario

DEFAULT_MOVE_RATE = Scenario().talent.move_rate
MOVE_RATES = (0.002, DEFAULT_MOVE_RATE, 0.05)
"""Job-move rates of the test ensemble; the middle one is the default (per month)."""

CLOSED = {
    "policy.corridors.GD-HK.talent.approval": 0.2,
    "policy.corridors.GD-MO.talent.approval": 0.2,
}
"""A policy whose effect on cross-border moves scales with how often researchers move."""


def write_ensemble(folder: Path, rates=MOVE_RATES, layout: str = "calibrate") -> Path:
    """An ensemble folder as `flowsim calibrate` writes it (or in the plain `set` layout)."""
    folder.mkdir(parents=True, exist_ok=True)
    table = pd.DataFrame({"talent.move_rate": list(rates)})
    if layout == "calibrate":
        table.insert(0, "member", range(len(rates)))
        table.insert(1, "objective", 0.5)
        manifest = {"format": "flowsim-ensemble/1", "parameters": ["talent.move_rate"]}
        (folder / "ensemble.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    else:
        table.insert(0, "set", range(len(rates)))
        (folder / "manifest.json").write_text(json.dumps({"kind": "ensemble"}), encoding="utf-8")
    table.to_csv(folder / "ensemble.csv", index=False)
    return folder


def write_tiny_scenario(path: Path, name: str, **policy: float) -> Path:
    data: dict = {"name": name, **TINY, "steps": 12}
    for key, value in policy.items():
        node = data
        *head, last = key.split(".")
        for part in head:
            node = node.setdefault(part, {})
        node[last] = value
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("layout", ["calibrate", "set"])
def test_reader_takes_both_layouts_in_set_order(tmp_path, layout):
    folder = write_ensemble(tmp_path / "ens", layout=layout)
    ensemble = read_parameter_sets(folder)
    assert ensemble.ids == (0, 1, 2), "ids from the member/set column"
    assert load_ensemble(folder) == [{"talent.move_rate": r} for r in MOVE_RATES], "values"
    assert ensemble.sha256 == read_parameter_sets(folder).sha256, "the hash is stable"


@pytest.fixture(scope="module")
def ensemble_comparison(tmp_path_factory):
    """Baseline and a restrictive talent policy, each over the ensemble and alone (4 seeds)."""
    ensemble = read_parameter_sets(write_ensemble(tmp_path_factory.mktemp("ens") / "e"))
    # unbounded moves (no posts): the effect is then proportional to the move rate, which
    # makes the ensemble's spread known; posts cap arrivals and flatten it (ratio 17 -> 5)
    unbounded = {"talent.posts": False}
    base = tiny_scenario("baseline", **unbounded)
    policy = tiny_scenario("closed", **CLOSED, **unbounded)
    outputs = ["researcher_moves_cross_border"]
    with_sets = compare(
        {"baseline": run_ensemble(base, ensemble, 4), "closed": run_ensemble(policy, ensemble, 4)},
        outputs,
        by_set=True,
    )
    alone = compare(
        {
            "baseline": flowsim.run_replicates(base, 4),
            "closed": flowsim.run_replicates(policy, 4),
        },
        outputs,
    )
    pick = lambda t: t[(t.period == "all") & (t.scenario == "closed")]  # noqa: E731
    return pick(with_sets), pick(alone).iloc[0], with_sets


def test_ensemble_interval_is_wider_when_the_parameter_matters(ensemble_comparison):
    with_sets, alone, _ = ensemble_comparison
    overall = with_sets[with_sets.parameter_set.isna()].iloc[0]
    per_set = with_sets[with_sets.parameter_set.notna()].set_index("parameter_set")
    assert overall.test == "paired-ensemble" and overall.parameter_sets == 3, "paired on set, seed"
    assert overall["diff"] == pytest.approx(per_set["diff"].mean()), "mean of the per-set effects"
    # the effect grows with the move rate: measured -1.2k, -5.3k, -20.0k moves a year
    low, mid, high = (per_set.loc[s, "diff"] for s in (0, 1, 2))
    assert high < mid < low < 0, f"a stricter border cuts moves more the more they move: {per_set}"
    assert high / low > 5, f"25 times the move rate, effect ratio {high / low:.1f} (measured 17)"
    assert per_set.loc[2, "diff_ci_high"] < per_set.loc[0, "diff_ci_low"], (
        "sets differ beyond noise"
    )
    ensemble_width = overall.diff_ui_high - overall.diff_ui_low
    noise_width = alone.diff_ci_high - alone.diff_ci_low
    assert alone.diff_ui_low == alone.diff_ci_low, "without an ensemble the interval is the CI"
    assert ensemble_width > 10 * noise_width, (
        f"parameter uncertainty widens the interval: {ensemble_width:.0f} vs {noise_width:.0f} "
        "(measured 27 times)"
    )
    assert overall.diff_ui_low < low and overall.diff_ui_high > high, "the UI covers every set"


def test_the_default_set_reproduces_the_run_without_ensemble(ensemble_comparison):
    with_sets, alone, _ = ensemble_comparison
    default = with_sets[with_sets.parameter_set == 1].iloc[0]
    # the same runs, bit for bit; the ensemble's per-set mean is summed in another order, so
    # the means agree to the last bits of a float
    assert default["mean"] == pytest.approx(alone["mean"], rel=1e-12, abs=1e-9), (
        "common seeds: the set with the default move rate is the plain run"
    )
    assert default["diff"] == pytest.approx(alone["diff"], rel=1e-12, abs=1e-9)


def test_difference_figures_draw_the_uncertainty_interval(ensemble_comparison):
    from flowsim.plots import plot_comparison

    with_sets, _, table = ensemble_comparison
    overall = with_sets[with_sets.parameter_set.isna()].iloc[0]
    fig = plot_comparison(table, ["researcher_moves_cross_border"], kind="overview")
    ax = fig.axes[0]
    assert "uncertainty interval across parameter sets" in ax.get_title(), ax.get_title()
    (bars,) = [c for c in ax.containers if hasattr(c, "errorbar") and c.errorbar]
    (segments,) = bars.errorbar.lines[2]
    (x_low, _), (x_high, _) = segments.get_segments()[0]
    base = table[(table.scenario == "baseline") & (table.period == "all")]["mean"].iloc[0]
    expected = sorted(100 * overall[c] / base for c in ("diff_ui_low", "diff_ui_high"))
    assert [x_low, x_high] == pytest.approx(expected), "the bar's whiskers are the UI in %"


def test_run_and_compare_commands_record_and_pair_parameter_sets(tmp_path, capsys):
    ens = write_ensemble(tmp_path / "ens", rates=(0.005, 0.02))
    base = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    policy = write_tiny_scenario(tmp_path / "closed.yaml", "closed", **CLOSED)
    for name, file in (("b", base), ("p", policy)):
        args = [str(file), "--ensemble", str(ens), "--replications", "2", "--quiet"]
        assert cli(["run", *args, "--out", str(tmp_path / name)]) == 0
    folder = read_run_folder(tmp_path / "p")
    ensemble = folder.manifest["ensemble"]
    assert folder.manifest["parameter_sets"] == [0, 0, 1, 1], "the set of every replicate"
    assert ensemble["sets"][1] == {"parameter_set": 1, "talent.move_rate": 0.02}, "its values"
    assert ensemble["sha256"] == read_parameter_sets(ens).sha256, "and which ensemble"
    assert list(folder.timeseries.columns[:3]) == ["replicate", "seed", "parameter_set"]
    seeds = folder.timeseries.groupby("parameter_set")["seed"].unique()
    assert list(seeds[0]) == list(seeds[1]), "common seeds across parameter sets"
    capsys.readouterr()
    csv = tmp_path / "cmp.csv"
    code = cli(
        ["compare", str(tmp_path / "b"), str(tmp_path / "p"), "--ensemble", str(ens)]
        + ["--outputs", "researcher_moves_cross_border", "--out", str(csv), "--by-set"]
    )
    printed = capsys.readouterr().out
    assert code == 0 and "across 2 sets" in printed and "closed set 1" in printed, printed
    table = pd.read_csv(csv)
    assert sorted(table["parameter_set"].dropna().unique()) == [0.0, 1.0], "per-set rows in CSV"


def test_sweep_crosses_design_points_with_parameter_sets(tmp_path):
    ens = write_ensemble(tmp_path / "ens", rates=(0.005, 0.02))
    write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    spec = {
        "name": "ens-sweep",
        "base": str(tmp_path / "base.yaml"),
        "design": "factorial",
        "replications": 2,
        "seed": 5,
        "levers": {"policy.corridors.GD-HK.talent.approval": {"values": [0.2, 0.85]}},
        "outcomes": ["researcher_moves_cross_border"],
    }
    result = flowsim.sweep(spec, workers=1, out=tmp_path / "sw", ensemble=ens, progress=False)
    runs = result.runs
    assert len(runs) == 2 * 2 * 2, "points x sets x replicates"
    assert set(zip(runs.parameter_set, runs["talent.move_rate"], strict=True)) == {
        (0, 0.005),
        (1, 0.02),
    }, "each run records its set and the set's values"
    assert (
        runs.groupby(["design_point", "parameter_set"]).seed.apply(list).map(tuple).nunique() == 1
    )
    assert result.manifest["ensemble_parameters"] == ["talent.move_rate"]
    assert "talent.move_rate" in result.factors, "the ensemble's parameters are factors"
    with pytest.raises(flowsim.sweep.SweepError, match="ensemble"):
        flowsim.sweep(spec, workers=1, out=tmp_path / "sw", resume=True, progress=False)


def _bad_table(folder: Path, text: str) -> Path:
    write_ensemble(folder)
    (folder / "ensemble.csv").write_text(text, encoding="utf-8")
    return folder


def _unknown_path(tmp_path: Path) -> Path:
    """A plain-layout ensemble (no parameters in its manifest) with a misspelt column."""
    folder = write_ensemble(tmp_path / "t", layout="set")
    (folder / "ensemble.csv").write_text("set,talent.move_rat\n0,0.01\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "not an ensemble folder"),
        (lambda p: _bad_table(p / "t", "member,talent.move_rate\n0,fast\n"), "line 2"),
        (lambda p: _bad_table(p / "t", "member,objective\n0,1\n"), "have no column"),
        (_unknown_path, "did you mean 'talent.move_rate'"),
        (lambda p: _bad_table(p / "t", "member,talent.move_rate\n0,-1\n"), "parameter set 0"),
    ],
    ids=["missing", "not-ensemble", "not-a-number", "no-column", "unknown-path", "invalid"],
)
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_bad_ensemble_folders_exit_2_with_a_message(tmp_path, capsys, make, message, command):
    folder = make(tmp_path)
    scenario = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    if command == "run":
        args = ["run", str(scenario), "--ensemble", str(folder), "--out", str(tmp_path / "r")]
    else:
        sweep = tmp_path / "s.yaml"
        sweep.write_text(
            "name: s\nbase: base.yaml\ndesign: factorial\nlevers:\n"
            "  policy.corridors.GD-HK.talent.approval: {values: [0.2, 0.85]}\n"
            "outcomes: [papers]\n",
            encoding="utf-8",
        )
        args = ["sweep", str(sweep), "--ensemble", str(folder), "--out", str(tmp_path / "s")]
    assert cli([*args, "--quiet"]) == 2, "bad input"
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err, err
    assert not (tmp_path / "r").exists(), "nothing written"


def test_compare_refuses_an_ensemble_run_against_a_plain_one(tmp_path, capsys):
    ens = write_ensemble(tmp_path / "ens", rates=(DEFAULT_MOVE_RATE,))
    scenario = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    assert cli(["run", str(scenario), "--quiet", "--out", str(tmp_path / "plain")]) == 0
    run_args = ["--ensemble", str(ens), "--quiet", "--out", str(tmp_path / "e")]
    assert cli(["run", str(scenario), *run_args]) == 0
    capsys.readouterr()
    assert cli(["compare", str(tmp_path / "plain"), str(tmp_path / "e")]) == 2
    err = capsys.readouterr().err
    assert "is an ensemble run" in err and "Traceback" not in err, err


def test_ensemble_reader_errors_are_ensemble_errors(tmp_path):
    with pytest.raises(EnsembleError, match="no such folder"):
        read_parameter_sets(tmp_path / "nothing")


def test_a_scenario_change_the_ensemble_overrides_is_warned_about(tmp_path, capsys):
    ens = write_ensemble(tmp_path / "ens", rates=(0.005,))
    base = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    manifest = yaml.safe_load((ens / "ensemble.yaml").read_text(encoding="utf-8"))
    manifest["scenario"] = str(base)  # what `flowsim calibrate` records
    (ens / "ensemble.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    movers = write_tiny_scenario(tmp_path / "movers.yaml", "movers", **{"talent.move_rate": 0.03})
    args = ["--ensemble", str(ens), "--quiet", "--out"]
    assert cli(["run", str(base), *args, str(tmp_path / "b")]) == 0
    assert "warning" not in capsys.readouterr().err, "the fitted scenario itself loses nothing"
    assert cli(["run", str(movers), *args, str(tmp_path / "m")]) == 0
    err = capsys.readouterr().err
    assert f"talent.move_rate: {DEFAULT_MOVE_RATE:g} -> 0.03" in err, err
    assert "not in the runs" in err, err


def test_the_shipped_calibrated_ensemble_reads_and_applies_to_the_baseline():
    from pathlib import Path

    from flowsim.calibration import load_ensemble
    from flowsim.params import with_overrides
    from flowsim.scenario import load_scenario

    root = Path(__file__).resolve().parents[1]
    sets = load_ensemble(root / "scenarios" / "calibration" / "ensemble")
    assert len(sets) == 20, "the README's policy table uses the 20 best accepted sets"
    baseline = load_scenario(root / "scenarios" / "baseline.yaml")
    for values in sets:
        assert len(values) == 15, "every set gives all 15 free parameters"
        with_overrides(baseline, values)  # each set is a valid scenario


def _with_misfits(folder: Path) -> Path:
    """The test ensemble as `flowsim calibrate` writes it, its second member a misfit."""
    write_ensemble(folder)
    table = pd.read_csv(folder / "ensemble.csv")
    table.insert(2, "within_all", [True, False, True])
    table.to_csv(folder / "ensemble.csv", index=False)
    return folder


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_members_that_miss_their_targets_are_refused_unless_allowed(tmp_path, capsys, command):
    ens = _with_misfits(tmp_path / "ens")
    scenario = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    if command == "run":
        args = [
            "run",
            str(scenario),
            "--ensemble",
            str(ens),
            "--quiet",
            "--out",
            str(tmp_path / "r"),
        ]
    else:
        sweep = tmp_path / "s.yaml"
        sweep.write_text(
            "name: s\nbase: base.yaml\ndesign: factorial\nlevers:\n"
            "  policy.corridors.GD-HK.talent.approval: {values: [0.2, 0.85]}\n"
            "outcomes: [papers]\n",
            encoding="utf-8",
        )
        args = ["sweep", str(sweep), "--ensemble", str(ens), "--dry-run"]
    assert cli(args) == 2, "an ensemble with misfits is refused by default"
    err = capsys.readouterr().err
    assert "1 of 3 members have within_all false (lines 3)" in err and "--allow-misfit" in err, err
    assert not (tmp_path / "r").exists(), "nothing was run"
    assert cli([*args, "--allow-misfit"]) == 0, "--allow-misfit runs them"
    assert len(read_parameter_sets(ens, allow_misfit=True)) == 3


def test_an_ensemble_never_changes_the_run_settings(tmp_path):
    folder = write_ensemble(tmp_path / "ens")
    for column in ("steps", "scale", "seed", "start_year", "warmup_steps", "outputs.flows"):
        table = pd.read_csv(folder / "ensemble.csv")
        table[column] = 1
        manifest = {"format": "flowsim-ensemble/1", "parameters": ["talent.move_rate", column]}
        (folder / "ensemble.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
        table.to_csv(folder / "ensemble.csv", index=False)
        with pytest.raises(EnsembleError, match=f"column '{column}' is a run setting"):
            read_parameter_sets(folder)


def test_sizes_and_rows_are_bounded(tmp_path, monkeypatch):
    import flowsim.ensemble as module

    folder = write_ensemble(tmp_path / "ens")
    monkeypatch.setattr(module, "MAX_MEMBERS", 2)
    with pytest.raises(EnsembleError, match="3 rows; an ensemble may hold at most 2"):
        read_parameter_sets(folder)
    monkeypatch.setattr(module, "MAX_MEMBERS", 10_000)
    monkeypatch.setattr(module, "MAX_TABLE_BYTES", 20)
    with pytest.raises(EnsembleError, match="input files may be at most 20 bytes"):
        read_parameter_sets(folder)


def test_the_members_are_checked_against_the_manifest(tmp_path):
    folder = write_ensemble(tmp_path / "ens")
    manifest = yaml.safe_load((folder / "ensemble.yaml").read_text(encoding="utf-8"))
    for members, message in ((4, "truncated"), (2, "longer than written"), (True, "members")):
        manifest["members"] = members
        (folder / "ensemble.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
        with pytest.raises(EnsembleError, match=message):
            read_parameter_sets(folder)
    manifest["members"] = 3
    (folder / "ensemble.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")
    assert len(read_parameter_sets(folder)) == 3


def test_compare_prints_and_tables_what_decides_the_answer(ensemble_comparison, capsys):
    from flowsim.commands.compare import _what_decides

    _, _, with_sets = ensemble_comparison
    ensemble = read_parameter_sets(write_ensemble(_tmp()))
    frame = _what_decides(with_sets, ensemble, ["researcher_moves_cross_border"])
    printed = capsys.readouterr().out
    assert "What decides this answer" in printed and "talent.move_rate" in printed, printed
    row = frame.iloc[0]
    assert row.parameter == "talent.move_rate" and row.sets == 3, frame
    assert row.r < -0.9 and row.r2 > 0.8, (
        f"more moves, a larger cut: the move rate explains the effect's spread (r {row.r:.2f})"
    )


def _tmp() -> Path:
    import tempfile

    return Path(tempfile.mkdtemp()) / "ens"
