"""Scenario files: loading, extends, the shipped scenarios, dumping, hashing, and random edits."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import flowsim
from flowsim.params import Scenario, with_overrides
from flowsim.results import write_run
from flowsim.scenario import (
    apply_overrides,
    describe_scenario,
    dump_scenario,
    load_scenario,
    resolve_scenario_dict,
    scenario_dict,
    scenario_hash,
)
from flowsim.yamlio import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
POLICY_SCENARIOS = [p for p in SCENARIOS if p.name != "baseline.yaml"]
SMOKE = {"scale": 0.002, "steps": 6, "warmup_steps": 3}


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ shipped scenarios


def test_there_are_a_baseline_and_at_least_seven_policy_scenarios() -> None:
    names = {p.name for p in SCENARIOS}
    assert "baseline.yaml" in names, "scenarios/baseline.yaml is missing"
    assert len(POLICY_SCENARIOS) >= 7, f"only {len(POLICY_SCENARIOS)} policy scenarios"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenario_validates_describes_itself_and_smoke_runs(
    path: Path, tmp_path: Path
) -> None:
    scenario = load_scenario(path)
    assert scenario.description.strip(), f"{path.name} has no description"
    assert scenario.sources, f"{path.name} names no sources"
    small = apply_overrides(scenario, SMOKE)
    results = flowsim.run_replicates(small, 1)
    assert results[0].timeseries["researchers"].iloc[0] > 0, (
        f"{path.name}: no researchers in the smoke run"
    )
    out = write_run(results, small, tmp_path / "run")
    assert (out / "manifest.json").is_file(), f"{path.name}: smoke run wrote no manifest"


@pytest.mark.parametrize("path", POLICY_SCENARIOS, ids=lambda p: p.stem)
def test_policy_scenario_extends_baseline_and_changes_something(path: Path) -> None:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert raw.get("extends") == "baseline.yaml", f"{path.name} must extend baseline.yaml"
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    scenario = load_scenario(path)
    lever_free = {"name", "description", "sources"}
    changed = {
        k for k, v in scenario_dict(scenario).items() if v != scenario_dict(baseline)[k]
    } - lever_free
    assert changed, f"{path.name} changes no parameter of the baseline"


def test_baseline_file_states_the_defaults() -> None:
    baseline = scenario_dict(load_scenario(ROOT / "scenarios" / "baseline.yaml"))
    defaults = scenario_dict(Scenario())
    differ = [
        k for k in defaults if baseline[k] != defaults[k] and k not in ("description", "sources")
    ]
    assert differ == [], f"baseline.yaml departs from the defaults in params.py at {differ}"


def test_extends_overrides_only_what_differs() -> None:
    sandbox = load_scenario(ROOT / "scenarios" / "data_sandbox.yaml")
    gd_hk = sandbox.policy.corridors.for_corridor("GD-HK")
    assert gd_hk.data.approval == 0.7, "the sandbox's own value must win"
    assert gd_hk.samples.delay_days == 20.0, "an untouched sibling must keep the baseline value"
    assert sandbox.steps == 120 and sandbox.scale == 0.1, "run settings must come from the baseline"


def test_resolve_scenario_dict_merges_chain(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", "name: a\nsteps: 10\ntalent: {move_rate: 0.02, visit_rate: 0.05}\n")
    _write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\ntalent: {visit_rate: 0.04}\n")
    child = _write(tmp_path, "c.yaml", "extends: b.yaml\nname: c\nscale: 0.005\n")
    merged = resolve_scenario_dict(child)
    assert merged["name"] == "c" and merged["steps"] == 10 and merged["scale"] == 0.005, (
        f"bad merge: {merged}"
    )
    assert merged["talent"]["move_rate"] == 0.02 and merged["talent"]["visit_rate"] == 0.04, merged[
        "talent"
    ]
    assert "extends" not in merged, "extends must not reach the scenario"


def test_extends_path_is_relative_to_the_extending_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    _write(tmp_path, "parent.yaml", "name: parent\nsteps: 7\n")
    child = _write(tmp_path / "sub", "child.yaml", "extends: ../parent.yaml\nname: child\n")
    assert load_scenario(child).steps == 7, "extends must resolve against the child's folder"


def test_city_multiplier_scales_that_citys_agents() -> None:
    base = Scenario(scale=0.002, steps=1, warmup_steps=0)
    bigger = with_overrides(base, {"population.city_multipliers.Shenzhen": 2.0})
    r0 = flowsim.run(base, seed=3).timeseries["researchers"].iloc[0]
    r1 = flowsim.run(bigger, seed=3).timeseries["researchers"].iloc[0]
    assert r1 > r0 * 1.2, f"doubling Shenzhen should add many researchers: {r0} -> {r1}"


def test_overrides_report_the_source() -> None:
    with pytest.raises(ConfigError) as caught:
        apply_overrides(Scenario(), {"scale": -1, "talent.move_rat": 1}, source="command line")
    report = caught.value.report()
    assert "command line" in report and "scale: -1 is out of range" in report, report
    assert "did you mean 'move_rate'?" in report, report


# ------------------------------------------------------------------ dump, describe, hash


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_dump_and_describe_round_trip(path: Path, tmp_path: Path) -> None:
    scenario = load_scenario(path)
    dumped = _write(tmp_path, "dumped.yaml", dump_scenario(scenario))
    assert load_scenario(dumped) == scenario, f"{path.name}: dump_scenario does not load back equal"
    described = describe_scenario(scenario)
    assert yaml.safe_load(described) == scenario_dict(scenario), (
        f"{path.name}: describe does not parse back"
    )
    assert scenario_hash(scenario) in described, "describe must show the scenario's hash"


def test_describe_shows_every_default_and_what_changed() -> None:
    text = describe_scenario(load_scenario(ROOT / "scenarios" / "materials_whitelist.yaml"))
    assert "distance_decay_minutes: 66.98" in text, (
        "a default the file never mentions must be shown"
    )
    assert "Hong Kong: 1.0" in text, "per-city defaults must be shown"
    assert "delay_days: 4.0  # mean delay of a crossing [days] [default: 20.0]" in text, (
        "changed values show the default"
    )


def test_hash_is_equal_for_equal_scenarios_however_written(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yaml", "name: x\nsteps: 24\ntalent:\n  move_rate: 0.02\n")
    b = _write(
        tmp_path,
        "b.yaml",
        "# same, other order and style\ntalent: {move_rate: 0.020}\nsteps: 24\nname: x\n",
    )
    assert scenario_hash(load_scenario(a)) == scenario_hash(load_scenario(b)), (
        "formatting must not change the hash"
    )


@pytest.mark.parametrize(
    "path, value",
    [
        ("steps", 25),
        ("scale", 0.011),
        ("seed", 1),
        ("name", "y"),
        ("talent.move_rate", 0.021),
        ("policy.corridors.HK-MO.samples.quota", 10.0),
        ("population.city_multipliers.Macao", 1.5),
    ],
)
def test_hash_changes_with_any_value(path: str, value: Any) -> None:
    base = Scenario()
    assert scenario_hash(with_overrides(base, {path: value})) != scenario_hash(base), (
        f"{path} must change the hash"
    )


# ------------------------------------------------------------------ random edits (property test)

_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
_value = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
_key = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["extends", "steps", "stepz", "GD-HK", "Hetao", "Shenzhen"]),
)


def _paths(data: dict, prefix: tuple = ()) -> list[tuple]:
    out = []
    for key, value in data.items():
        out.append((*prefix, key))
        if isinstance(value, dict):
            out += _paths(value, (*prefix, key))
    return out


def _edit(data: dict, path: tuple, kind: str, key: str, value: Any) -> dict:
    """A copy of ``data`` with one edit at ``path``."""
    if not path:
        return data
    head, *rest = path
    out = dict(data)
    if rest:
        out[head] = (
            _edit(out[head], tuple(rest), kind, key, value)
            if isinstance(out[head], dict)
            else out[head]
        )
    elif kind == "delete":
        del out[head]
    elif kind == "rename":
        out[key] = out.pop(head)
    elif kind == "replace":
        out[head] = value
    else:  # add a sibling key
        out[key] = value
    return out


_STARTS = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in SCENARIOS] + [
    scenario_dict(Scenario())
]


@settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(data=st.data())
def test_random_edits_validate_or_fail_cleanly(data: st.DataObject) -> None:
    scenario = data.draw(st.sampled_from(_STARTS), label="start")
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        paths = _paths(scenario)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths), label="path")
        kind = data.draw(st.sampled_from(["delete", "rename", "replace", "add"]), label="kind")
        scenario = _edit(
            scenario, path, kind, data.draw(_key, label="key"), data.draw(_value, label="value")
        )
    text = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True)
    with tempfile.TemporaryDirectory() as folder:
        # the shipped parents are reachable, so `extends: baseline.yaml` still resolves
        (Path(folder) / "baseline.yaml").write_text(
            (ROOT / "scenarios" / "baseline.yaml").read_text("utf-8"), "utf-8"
        )
        path = Path(folder) / "edited.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            result = load_scenario(path)
        except ConfigError as err:
            assert err.problems, "a ConfigError must carry at least one problem"
            for problem in err.problems:
                assert problem.file.endswith(".yaml"), f"problem names no file: {problem}"
                assert str(problem).startswith(problem.file), (
                    f"message must start with the file: {problem}"
                )
                assert problem.message, f"empty message: {problem}"
        else:
            assert isinstance(result, Scenario), "load_scenario must return a Scenario"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(position=st.floats(0, 1), junk=st.text(min_size=1, max_size=6))
def test_random_text_damage_fails_cleanly(position: float, junk: str) -> None:
    source = (ROOT / "scenarios" / "data_sandbox.yaml").read_text(encoding="utf-8")
    cut = int(position * len(source))
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "baseline.yaml").write_text(
            (ROOT / "scenarios" / "baseline.yaml").read_text("utf-8"), "utf-8"
        )
        path = Path(folder) / "damaged.yaml"
        path.write_text(source[:cut] + junk + source[cut:], encoding="utf-8")
        try:
            load_scenario(path)
        except ConfigError as err:
            assert all(p.file.endswith(".yaml") for p in err.problems), (
                f"problem names no file: {err}"
            )
