"""flowsim explain: Shapley values over the channels, adding up to the policy's total effect."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowsim.channels import PLAYERS, Hold
from flowsim.compare import compare
from flowsim.explain import (
    BASELINE,
    DIRECT,
    TOTAL,
    Unit,
    all_coalitions,
    decompose_seed,
    explain,
    number,
    order_coalitions,
    plan_explanation,
    sample_orders,
    shapley_exact,
    shapley_sampled,
    summarise,
    touched_channels,
    write_outputs,
)
from flowsim.geography import FIELDS
from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides
from flowsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
TINY = {"scale": 0.01, "steps": 6, "warmup_steps": 6}
"""Every shipped scenario at this size: a few hundred agents, half a year."""

RUN = {"scale": 0.02, "steps": 12, "warmup_steps": 12}
WHITE_LIST = {
    f"policy.corridors.{c}.samples.{k}": v
    for c in ("GD-HK", "GD-MO")
    for k, v in (("delay_days", 4.0), ("approval", 0.9), ("cost", 2.0))
}
"""A samples-only policy (a materials white list)."""
SANDBOX = {
    "policy.corridors.GD-HK.data.approval": 0.95,
    "policy.corridors.GD-HK.data.delay_days": 5.0,
}
"""A data-only policy (a data sandbox)."""
NEEDY = {f"research.data_need.{field}": 1.0 for field in FIELDS} | {"open_region.enabled": False}
"""Every project needs data, from the Bay Area only (the data lever's baseline): with CN and
ROW as sources a run this size may have no GD-HK data crossing at all."""
OUTPUTS = ("papers", "invention_patents", "vc_deals")
DIRECT_LEVERS = {"researcher_ownership"}
"""Shipped scenarios with a lever outside every channel (the others change border rules only)."""


def _check_adds_up(parts: pd.DataFrame, where: str) -> None:
    table = parts.pivot_table(index=["seed", "output"], columns="part", values="value")
    channels = [c for c in table.columns if c not in (TOTAL, BASELINE)]
    assert DIRECT in channels and set(PLAYERS) <= set(channels), f"{where}: parts {channels}"
    assert "knowledge" not in channels, f"{where}: knowledge is a mediator, never a part"
    summed = table[channels].sum(axis=1)
    gap = (summed - table[TOTAL]).abs()
    tolerance = 1e-9 * np.maximum(1.0, table[[*channels, TOTAL]].abs().max(axis=1))
    assert (gap <= tolerance).all(), (
        f"{where}: the parts must add up to the total; gaps {gap[gap > tolerance].to_dict()}"
    )


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_parts_add_up_to_the_total_on_every_shipped_scenario(path):
    baseline = with_overrides(load_scenario(ROOT / "scenarios" / "baseline.yaml"), TINY)
    policy = with_overrides(load_scenario(path), TINY)
    parts = decompose_seed(policy, baseline, 4, ("papers", "vc_deals", "commercialized"))
    _check_adds_up(parts, path.stem)
    if path.stem not in DIRECT_LEVERS:
        direct = parts.loc[parts["part"] == DIRECT, "value"]
        assert (direct == 0.0).all(), (
            f"{path.stem} changes only border rules: with every channel held it is the "
            f"baseline, draw for draw, so 'direct' is exactly 0 (got {direct.tolist()})"
        )


def test_sampled_orders_add_up_too_and_need_fewer_runs():
    baseline = with_overrides(load_scenario(ROOT / "scenarios" / "baseline.yaml"), TINY)
    policy = with_overrides(load_scenario(ROOT / "scenarios" / "no_border.yaml"), TINY)
    exact = plan_explanation(policy, baseline, [Unit(4)], "exact")
    sampled = plan_explanation(policy, baseline, [Unit(4)], "sampled", permutations=2)
    k = len(exact.players)
    assert k >= 5 and exact.n_runs == 2**k + 1, "exact: every subset and the baseline"
    assert sampled.n_runs <= 2 * (k - 1) + 3, "sampled: an order and its reverse share ends"
    _check_adds_up(explain(policy, baseline, sampled, ("papers",)), "sampled")


def test_shapley_values_of_a_known_game():
    # v = 2 a + 3 b + 1 c + 4 (a and b together): the pair's 4 is split evenly
    def v(s):
        return 2 * ("a" in s) + 3 * ("b" in s) + 1 * ("c" in s) + 4 * ({"a", "b"} <= s)

    players = ("a", "b", "c")
    value = {s: float(v(s)) for s in all_coalitions(players)}
    assert shapley_exact(value, players) == pytest.approx({"a": 4.0, "b": 5.0, "c": 1.0})
    every_order = list(itertools.permutations(players))
    assert shapley_sampled(value, every_order) == pytest.approx({"a": 4.0, "b": 5.0, "c": 1.0})
    orders = sample_orders(players, 4, seed=9)
    assert orders[1] == orders[0][::-1], "orders come in antithetic pairs"
    assert sum(shapley_sampled(value, orders).values()) == pytest.approx(v(set(players)))
    assert set(order_coalitions(orders)) <= set(value)


def test_touched_channels_keep_data_and_samples_apart():
    base = Scenario(**RUN)
    assert touched_channels(with_overrides(base, WHITE_LIST), base) == ("samples",)
    assert touched_channels(with_overrides(base, SANDBOX), base) == ("data",)
    assert touched_channels(base, base) == (), "the baseline against itself touches nothing"


def _cross_border_output(name: str) -> str:
    return {"samples": "samples_shipments_cross_border", "data": "data_transfers_cross_border"}[
        name
    ]


@pytest.fixture(scope="module")
def single_lever_parts():
    out = {}
    for name, lever in (("samples", WHITE_LIST), ("data", SANDBOX)):
        # GD-HK data crossings are rare (about one a run at this size; CN and ROW as data
        # sources since the open region make a run without any likely): every project needs
        # data, so the baseline has some and the lever's effect is a share of something
        base = Scenario(**RUN) if name == "samples" else with_overrides(Scenario(**RUN), NEEDY)
        policy = with_overrides(base, lever)
        plan = plan_explanation(policy, base, [Unit(s) for s in (1, 2, 3)])
        out[name] = explain(policy, base, plan, (*OUTPUTS, _cross_border_output(name)))
    return out


@pytest.mark.parametrize("channel", ["samples", "data"])
def test_a_single_lever_policy_puts_its_whole_effect_on_its_own_channel(
    single_lever_parts, channel
):
    parts = single_lever_parts[channel]
    _check_adds_up(parts, channel)
    flows = _cross_border_output(channel)
    summary = summarise(parts).set_index(["output", "part"])
    total = summary.loc[(flows, TOTAL)]
    assert total["pct_of_baseline"] > 20 and total["ci_low"] > 0, (
        f"the {channel} lever raises {flows} by more than 20% per year, significantly: "
        f"{total['pct_of_baseline']:+.1f}% "
        f"[{total['pct_ci_low']:+.1f}, {total['pct_ci_high']:+.1f}]"
    )
    for output in (*OUTPUTS, flows):
        own = summary.loc[(output, channel), "mean"]
        whole = summary.loc[(output, TOTAL), "mean"]
        assert own == pytest.approx(whole, rel=1e-9, abs=1e-9), (
            f"{output}: the {channel} channel carries the whole effect ({own} of {whole})"
        )
        others = [p for p in PLAYERS if p != channel] + [DIRECT]
        assert all(summary.loc[(output, p), "mean"] == 0.0 for p in others), (
            f"{output}: channels the {channel} lever does not touch contribute exactly 0"
        )


def test_two_levers_share_the_effect_and_each_has_its_own_part():
    base = Scenario(**RUN)
    policy = with_overrides(base, {**WHITE_LIST, **SANDBOX})
    parts = decompose_seed(
        policy, base, 2, ("samples_shipments_cross_border", "data_transfers_cross_border")
    )
    _check_adds_up(parts, "data and samples")
    p = parts.set_index(["output", "part"])["value"]
    for flows, channel in (
        ("samples_shipments_cross_border", "samples"),
        ("data_transfers_cross_border", "data"),
    ):
        assert p[(flows, channel)] > 0.5 * p[(flows, TOTAL)] > 0, (
            f"most of the rise in {flows} is the {channel} channel's: {p[flows].to_dict()}"
        )


def test_holding_knowledge_replays_the_baseline_productivity():
    base = Scenario(**RUN)
    model = FlowModel(base, rng=3)
    while model.running:
        model.step()
    path = [model.world.knowledge.history[k] for k in sorted(model.world.knowledge.history)]
    again = FlowModel(base, rng=3, hold=Hold(base, frozenset({"knowledge"}), path))
    while again.running:
        again.step()
    a = model.datacollector.get_model_vars_dataframe()["papers"].tolist()
    b = again.datacollector.get_model_vars_dataframe()["papers"].tolist()
    assert a == b, "the baseline with its own productivity path replayed is the baseline"


def test_unknown_channel_is_refused():
    with pytest.raises(ValueError, match="teleportation.*relocation"):
        Hold(Scenario(), frozenset({"teleportation"}))


def test_the_dask_executor_gives_the_same_parts_as_one_process():
    base = Scenario(**{**RUN, "steps": 6})
    policy = with_overrides(base, WHITE_LIST)
    plan = plan_explanation(policy, base, [Unit(5)])
    here = explain(policy, base, plan, ("papers",), workers=1)
    ticks = []
    there = explain(policy, base, plan, ("papers",), workers=2, progress=ticks.append)
    assert len(ticks) == plan.n_runs, "progress is called once per finished run"
    key = ["seed", "output", "part"]
    pd.testing.assert_frame_equal(
        here.sort_values(key).reset_index(drop=True), there.sort_values(key).reset_index(drop=True)
    )


def test_number_is_plain_and_rounded():
    assert number(13070.4) == "13,070"
    assert number(0.0163985) == "0.0164"
    assert number(-2.5) == "-2.50"
    assert number(0.0) == "0" and number(float("nan")) == "n/a"


def test_a_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import flowsim.explain as ex

    parts = pd.DataFrame(
        {
            "parameter_set": [None] * 2,
            "seed": [1, 1],
            "output": ["papers"] * 2,
            "part": [TOTAL, BASELINE],
            "value": [1.0, 10.0],
        }
    )

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ex, "waterfall", full_disk)
    out = tmp_path / "explain"
    with pytest.raises(OSError):
        write_outputs(out, parts, summarise(parts), "text", "title", [])
    assert list(tmp_path.iterdir()) == [], "no folder, no hidden half-written folder"


# ------------------------------------------------------------------ the command


def _cli(*argv: str) -> int:
    from flowsim.cli import main

    return main(["explain", *argv])


def test_command_estimates_then_explains_per_year_like_compare(
    baseline_folder, policy_folder, tmp_path, capsys
):
    out = tmp_path / "ex"
    code = _cli(
        str(policy_folder),
        str(baseline_folder),
        "--workers",
        "1",
        "--out",
        str(out),
        "--outputs",
        "papers",
        "data_transfers_cross_border",
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "runs = 3 replicates x (2 exact configurations + the baseline)" in captured.err
    assert "one run about" in captured.err and "all runs about" in captured.err
    assert "explain:" in captured.err and "9/9" in captured.err, "a progress bar of runs"
    assert "channels the policy touches: data" in captured.err
    for name in ("explain.csv", "explain_replicates.csv", "explain.txt", "explain.png"):
        assert (out / name).is_file(), f"{name} written"
    summary = pd.read_csv(out / "explain.csv").set_index(["output", "part"])
    assert "per year" in summary.loc[("papers", TOTAL), "unit"]
    table = compare({"baseline": baseline_folder, "policy": policy_folder}, ["papers"])
    row = table[(table.scenario == "policy") & (table.period == "all")].iloc[0]
    assert summary.loc[("papers", TOTAL), "mean"] == pytest.approx(row["diff"], rel=1e-9), (
        "explain's total is compare's whole-run effect per year"
    )
    _check_adds_up(pd.read_csv(out / "explain_replicates.csv"), "the command's replicates")


def test_dry_run_prints_the_estimate_and_runs_nothing(
    baseline_folder, policy_folder, tmp_path, capsys
):
    out = tmp_path / "dry"
    assert _cli(str(policy_folder), str(baseline_folder), "--dry-run", "--out", str(out)) == 0
    err = capsys.readouterr().err
    assert "runs =" in err and "all runs about" in err
    assert not out.exists()


def test_command_refuses_a_non_empty_out_and_mismatched_folders(
    baseline_folder, policy_folder, tmp_path, capsys
):
    (tmp_path / "note.txt").write_text("mine")
    assert _cli(str(policy_folder), str(baseline_folder), "--out", str(tmp_path)) == 2
    assert "not an empty folder" in capsys.readouterr().err
    assert (tmp_path / "note.txt").read_text() == "mine"
    assert _cli(str(policy_folder), str(tmp_path / "nothing")) == 2
    assert "error" in capsys.readouterr().err
    assert _cli(str(policy_folder), str(baseline_folder), "--workers", "0") == 2
    assert _cli(str(policy_folder), str(baseline_folder), "--permutations", "4") == 2
    assert "--permutations is for --method sampled" in capsys.readouterr().err
    assert (
        _cli(
            str(policy_folder),
            str(baseline_folder),
            "--method",
            "sampled",
            "--permutations",
            "1",
            "--dry-run",
        )
        == 2
    )
    assert "at least 2" in capsys.readouterr().err


def test_default_folder_stays_in_results():
    from flowsim.commands.explain import _default_out

    out = _default_out("../../etc/x")
    assert out.parent == Path("results") and ".." not in out.name and "/" not in out.name


# ------------------------------------------------------------------ ensembles


def test_explain_honours_the_parameter_sets_of_an_ensemble_run(tmp_path, capsys):
    from test_ensemble import write_ensemble, write_tiny_scenario

    from flowsim.cli import main

    ens = write_ensemble(tmp_path / "ens", rates=(0.002, 0.05))
    base_file = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    pol_file = write_tiny_scenario(
        tmp_path / "pol.yaml",
        "closed",
        **{
            "policy.corridors.GD-HK.talent.approval": 0.2,
            "policy.corridors.GD-MO.talent.approval": 0.2,
        },
    )
    for name, file in (("base", base_file), ("pol", pol_file)):
        code = main(
            [
                "run",
                str(file),
                "--ensemble",
                str(ens),
                "--replications",
                "1",
                "--quiet",
                "--out",
                str(tmp_path / name),
            ]
        )
        assert code == 0, capsys.readouterr().err
    out = tmp_path / "ex"
    code = _cli(
        str(tmp_path / "pol"),
        str(tmp_path / "base"),
        "--workers",
        "1",
        "--outputs",
        "researcher_moves_cross_border",
        "--out",
        str(out),
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "2 parameter sets x 1 seeds" in captured.err
    parts = pd.read_csv(out / "explain_replicates.csv")
    assert sorted(parts["parameter_set"].unique()) == [0, 1]
    base = load_scenario(tmp_path / "base" / "scenario.resolved.yaml")
    pol = load_scenario(tmp_path / "pol" / "scenario.resolved.yaml")
    seed = int(parts["seed"].iloc[0])
    # each set's parts are those of the policy and the baseline with that set applied
    values = {"talent.move_rate": 0.05}
    direct = decompose_seed(
        with_overrides(pol, values),
        with_overrides(base, values),
        seed,
        ("researcher_moves_cross_border",),
    ).set_index("part")["value"]
    got = {k: g.set_index("part")["value"] for k, g in parts.groupby("parameter_set")}
    assert got[1][TOTAL] == pytest.approx(direct[TOTAL]), "set 1 applied to both runs"
    assert got[1][BASELINE] == pytest.approx(direct[BASELINE]), "set 1 applied to the baseline"
    assert got[1][BASELINE] > 3 * got[0][BASELINE], (
        "the sets' move rates differ 25-fold, so must the baseline's cross-border moves: "
        f"{got[0][BASELINE]} vs {got[1][BASELINE]}"
    )


def test_explain_refuses_an_ensemble_run_against_a_plain_one(baseline_folder, tmp_path, capsys):
    from test_ensemble import write_ensemble, write_tiny_scenario

    from flowsim.cli import main

    ens = write_ensemble(tmp_path / "ens", rates=(0.002, 0.05))
    file = write_tiny_scenario(tmp_path / "pol.yaml", "closed")
    assert (
        main(
            [
                "run",
                str(file),
                "--ensemble",
                str(ens),
                "--replications",
                "1",
                "--quiet",
                "--out",
                str(tmp_path / "pol"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert _cli(str(tmp_path / "pol"), str(baseline_folder)) == 2
    assert "ensemble run and the other is not" in capsys.readouterr().err
