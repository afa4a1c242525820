"""Warnings when a scenario's lever acts on fewer agents than can carry it."""

from __future__ import annotations

from pathlib import Path

from flowsim.assembly import build_world
from flowsim.cli import main
from flowsim.levers import MIN_AGENTS, agents_by_group, changed_levers, warnings_for
from flowsim.params import with_overrides
from flowsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
HETAO = ROOT / "scenarios" / "hetao_package.yaml"


def test_hetao_at_a_small_scale_warns_naming_lever_agents_and_scale(tmp_path, capsys):
    code = main(
        ["run", str(HETAO), "--scale", "0.005", "--steps", "1", "--quiet"]
        + ["--out", str(tmp_path / "out"), "--set", "warmup_steps=0"]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "warning: the 3 values under policy.zones.Hetao" in err, err
    assert "firms in zone Hetao" in err, "names the agents the capital lever acts on"
    assert "at scale 0.005" in err and "run at --scale 0.02 or more" in err, err


def test_hetao_at_the_default_scale_is_carried():
    scenario = load_scenario(HETAO)
    assert scenario.scale == 0.1, "the Hetao scenario runs at the default scale"
    assert any(p.startswith("policy.zones.Hetao.") for p in changed_levers(scenario))
    assert warnings_for(scenario) == [], "at scale 0.1 every Hetao lever has 10+ agents"
    have = agents_by_group(build_world(scenario, scenario.seed))
    assert have["researchers in zone Hetao"] >= 10 * MIN_AGENTS
    assert have["firms in zone Hetao"] >= 2 * MIN_AGENTS


def test_a_lever_with_no_agents_at_any_scale_says_so():
    scenario = load_scenario(ROOT / "scenarios" / "guidance_leverage.yaml")
    messages = warnings_for(scenario)
    assert len(messages) == 1, messages
    # Macao has 15 fund managers x 5% guidance = 0.75 guidance funds even at scale 1 (a draw
    # at scale 0.1 gives 0 or 1, which the seed decides)
    assert "capital.guidance_leverage.MO acts on guidance funds in MO: " in messages[0]
    assert "no scale up to 1" in messages[0]
    small = warnings_for(with_overrides(scenario, {"scale": 0.02}))
    assert any("guidance funds in GD" in m and "--scale 0.1" in m for m in small), small


def test_the_baseline_has_no_lever_to_warn_about():
    assert warnings_for(load_scenario(ROOT / "scenarios" / "baseline.yaml")) == []
