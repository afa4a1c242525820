"""A policy starts on a date: the warm-up under the baseline's levers, start, phase-in, end."""

import numpy as np
import pytest

from flowsim.geography import CORRIDORS
from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides
from flowsim.timing import LEVERS, before_policy, label, schedule

COMMON = {"scale": 0.05, "steps": 36, "warmup_steps": 12}
OPEN_VISITS = {f"policy.corridors.{c}.talent.approval": 1.0 for c in CORRIDORS}
"""Every talent crossing approved: under the policy in full no visit is refused."""


def _outputs(params, seed):
    model = FlowModel(params, rng=seed)
    for _ in range(params.steps):
        model.step()
    return model, model.datacollector.get_model_vars_dataframe()


def test_a_policy_starting_in_month_24_leaves_months_0_to_23_as_the_baseline():
    base = with_overrides(Scenario(), {**COMMON, "steps": 36})
    policy = with_overrides(base, {**OPEN_VISITS, "timing.start": 24})
    for seed in (1, 2):
        _, a = _outputs(base, seed)
        _, b = _outputs(policy, seed)
        assert a.iloc[:24].equals(b.iloc[:24]), (
            "months before the start are the baseline's, bit for bit"
        )
        assert a.visits_refused.iloc[24:].sum() > 500, "the baseline refuses visits after month 24"
        assert b.visits_refused.iloc[24:].sum() == 0, "the policy in force refuses none"
        assert not a.iloc[24:].equals(b.iloc[24:])


def test_a_phase_in_gives_an_effect_that_grows_over_the_ramp():
    """Over a 12-month ramp the share of visits meeting the new rules is 1/12 ... 12/12.

    Refusals are then (1 - w) of the baseline's: 71% of them in the ramp's first half
    (mean w = 3.5/12), 21% in its second (mean w = 9.5/12), 46% over the whole ramp.
    """
    base = with_overrides(Scenario(), COMMON)
    ramp = with_overrides(base, {**OPEN_VISITS, "timing.start": 12, "timing.phase_in_months": 12})
    first = second = whole = base_first = base_second = 0.0
    for seed in (1, 2, 3, 4):
        _, a = _outputs(base, seed)
        _, c = _outputs(ramp, seed)
        assert a.iloc[:12].equals(c.iloc[:12]), f"seed {seed}: months before the start differ"
        assert c.visits_refused.iloc[24:].sum() == 0, "after the ramp the policy is in full"
        first += c.visits_refused.iloc[12:18].sum()
        second += c.visits_refused.iloc[18:24].sum()
        base_first += a.visits_refused.iloc[12:18].sum()
        base_second += a.visits_refused.iloc[18:24].sum()
    whole = (first + second) / (base_first + base_second)
    first, second = first / base_first, second / base_second
    assert abs(first - 0.71) < 0.12, f"ramp's first half keeps {first:.2f} of refusals, want 0.71"
    assert abs(second - 0.21) < 0.10, f"ramp's second half keeps {second:.2f}, want 0.21"
    assert abs(whole - 0.46) < 0.08, f"the whole ramp keeps {whole:.2f} of refusals, want 0.46"


def test_a_policy_that_ends_gives_the_baseline_rules_back():
    base = with_overrides(Scenario(), COMMON)
    spell = with_overrides(base, {**OPEN_VISITS, "timing.start": 12, "timing.end": 24})
    model, c = _outputs(spell, 5)
    _, a = _outputs(base, 5)
    assert c.visits_refused.iloc[12:24].sum() == 0, "in force from month 12 to 23"
    after, baseline_after = c.visits_refused.iloc[24:].sum(), a.visits_refused.iloc[24:].sum()
    assert after > 0.6 * baseline_after, (
        f"after the end visits are refused again ({after} against the baseline's {baseline_after})"
    )
    assert model.world.params is model.before_policy


def test_the_warm_up_runs_under_the_baselines_levers_unless_steady_state_is_asked():
    policy = with_overrides(
        Scenario(), {**COMMON, **OPEN_VISITS, "transfer.researcher_ownership": 0.5}
    )
    model = FlowModel(policy, rng=3)
    assert model.world.params is model.before_policy, "after the warm-up, before month 0"
    assert not model.world.labs.ownership.any(), "no lab adopted ownership in the warm-up"
    model.step()
    adopted = model.world.labs.ownership.mean()
    assert 0.4 < adopted < 0.6, f"from month 0 half the labs adopt ({adopted:.2f})"
    steady = FlowModel(with_overrides(policy, {"timing.steady_state": True}), rng=3)
    assert steady.world.params is steady.params, "steady state: the policy through the warm-up"
    assert steady.world.labs.ownership.mean() == adopted, "the same labs adopt, from the start"
    assert "steady state" in label(steady.params) and "warm-up" in label(policy)


def test_a_phase_in_adds_adopting_labs_and_keeps_those_that_adopted():
    policy = with_overrides(
        Scenario(),
        {
            **COMMON,
            "transfer.researcher_ownership": 1.0,
            "timing.start": 2,
            "timing.phase_in_months": 4,
        },
    )
    model = FlowModel(policy, rng=3)
    shares, previous = [], model.world.labs.ownership.copy()
    for _ in range(8):
        model.step()
        now = model.world.labs.ownership.copy()
        assert not (previous & ~now).any(), "a lab that adopted keeps ownership during the ramp"
        previous = now
        shares.append(now.mean())
    want = [0, 0, 0.25, 0.5, 0.75, 1, 1, 1]
    assert np.allclose(shares, want, atol=0.08), f"shares of labs by month {shares}, want {want}"


def test_before_policy_resets_the_levers_only():
    policy = with_overrides(
        Scenario(),
        {
            **OPEN_VISITS,
            "research.grant_portability": 1.0,
            "capital.guidance_leverage.GD": 4.0,
            "deterrence.talent.border_effect": 0.8,
            "talent.move_rate": 0.02,
        },
    )
    before = before_policy(policy)
    default = Scenario()
    for path in LEVERS:
        section, _, rest = path.partition(".")
        mine = getattr(getattr(before, section), rest) if rest else getattr(before, section)
        theirs = getattr(getattr(default, section), rest) if rest else getattr(default, section)
        assert mine == theirs, f"{path} is the baseline's before the start"
    assert before.deterrence == policy.deterrence, "the border's non-policy part is behaviour"
    assert before.talent.move_rate == 0.02, "behaviour is the scenario's own"
    assert schedule(Scenario()) is None, "the baseline has no policy to introduce"
    assert before_policy(Scenario()) == Scenario()


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        ({"start": "2040-01"}, "outside the run"),
        ({"start": 36}, "outside the run"),
        ({"start": "2025-13"}, "YYYY-MM"),
        ({"start": 12, "end": 6}, "must come after"),
        ({"steady_state": True, "start": 3}, "remove either steady_state or the dates"),
        ({"start": -1}, "0 or more"),
    ],
)
def test_bad_dates_are_refused_with_what_is_allowed(timing, message):
    with pytest.raises(ValueError, match=message):
        with_overrides(Scenario(), {**COMMON, **{f"timing.{k}": v for k, v in timing.items()}})


def test_a_bad_date_is_located_where_it_is_written(tmp_path):
    from flowsim.scenario import load_scenario
    from flowsim.yamlio import ConfigError

    path = tmp_path / "late.yaml"
    path.write_text("name: late\nsteps: 24\ntiming:\n  start: 6\n  end: 3\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    assert (problem.file, problem.line) == (str(path), 5), (
        f"a date checked against another is placed on its own line, got {problem}"
    )
    assert problem.message == "timing.end 3 must come after timing.start 6"
    with pytest.raises(ConfigError) as err:
        load_scenario(path, settings=["timing.end=30"])
    (problem,) = err.value.problems
    assert (problem.file, problem.line, problem.path) == ("command line", None, "timing.end"), (
        f"a date given with --set is blamed on --set, not on the file's first key: {problem}"
    )


def test_a_date_is_a_month_of_the_reported_years():
    s = with_overrides(Scenario(), {**COMMON, "timing.start": "2026-07", **OPEN_VISITS})
    assert schedule(s).start == 18


def test_the_rules_before_a_policy_are_the_shipped_baselines():
    from pathlib import Path

    from flowsim.scenario import load_scenario

    shipped = load_scenario(Path(__file__).parents[1] / "scenarios" / "baseline.yaml")
    assert before_policy(shipped) is shipped, (
        "scenarios/baseline.yaml sets a lever away from the defaults: the warm-up of every "
        "policy runs under the defaults, so the baseline would go through a transition"
    )


def test_the_example_of_docs_timing_loads_with_the_dates_it_states(tmp_path):
    import re
    import shutil
    from pathlib import Path

    from flowsim.scenario import load_scenario

    root = Path(__file__).parents[1]
    text = (root / "docs" / "timing.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S).group(1)
    shutil.copy(root / "scenarios" / "baseline.yaml", tmp_path / "baseline.yaml")
    (tmp_path / "example.yaml").write_text(block, encoding="utf-8")
    s = schedule(load_scenario(tmp_path / "example.yaml"))
    assert (s.start, s.phase_in, s.end) == (18, 12, 60), s
    assert s.weight(17) == 0 and s.weight(18) == 1 / 12 and s.weight(29) == 1 and s.weight(60) == 0


def test_compare_prints_when_each_policy_acted_and_flags_a_steady_state(tmp_path, capsys):
    from flowsim.cli import main

    base = tmp_path / "base.yaml"
    base.write_text("name: base\nscale: 0.005\nsteps: 12\nwarmup_steps: 6\n", encoding="utf-8")
    policy = tmp_path / "open.yaml"
    policy.write_text(
        "extends: base.yaml\nname: open\npolicy:\n  corridors:\n    GD-HK:\n      talent:\n"
        "        approval: 1.0\n",
        encoding="utf-8",
    )
    common = ["--replications", "2", "--quiet"]
    assert main(["run", str(base), *common, "--out", str(tmp_path / "b")]) == 0
    assert (
        main(["run", str(policy), *common, "--set", "timing.start=6", "--out", str(tmp_path / "p")])
        == 0
    )
    assert main(["run", str(policy), *common, "--steady-state", "--out", str(tmp_path / "s")]) == 0
    capsys.readouterr()
    folders = [str(tmp_path / n) for n in ("b", "p", "s")]
    assert main(["compare", *folders, "--outputs", "papers", "--no-cells"]) == 0
    out = capsys.readouterr().out
    timing = out[out.index("Policy timing:") :]
    assert "base: no policy lever differs from the baseline" in timing
    assert "(p): introduced in reported month 6" in timing
    assert "(!) open (s): steady state" in timing
    assert "Effect path" in out and "2025" in out[out.index("Effect path") :]


OPEN_ROW_TALENT = {
    f"policy.external.ROW-{j}.talent.{k}": v
    for j in ("GD", "HK", "MO")
    for k, v in (("approval", 1.0), ("delay_days", 0.0), ("cost", 0.0))
}
"""Every ROW border open to talent: no refusal, delay or cost for a collaboration abroad."""


def test_a_phase_in_opens_the_external_borders_gradually_too():
    """Opening the ROW borders over a 12-month ramp raises external collaborations gradually.

    In ramp month k (1..12) a share k/12 of the collaborations meets the open border, and the
    seeking is steered by the blended expected deterrence. Months 4-9 of the ramp (mean share
    6.5/12 = 0.54) should show about half of the policy's full effect (a little less: seeking
    and passing are both blended, and Hong Kong's seeking is capped at 1 under the open
    border); a policy that met external crossings in full from its start gives ~1.0.
    """
    common = {"scale": 0.01, "steps": 36, "warmup_steps": 12}
    base = with_overrides(Scenario(), common)
    full = with_overrides(base, {**OPEN_ROW_TALENT, "timing.start": 12})
    ramp = with_overrides(full, {"timing.phase_in_months": 12})
    sums = np.zeros((3, 3))  # (base, full, ramp) x (early ramp, mid ramp, after the ramp)
    windows = (slice(12, 15), slice(15, 21), slice(24, 36))
    for seed in (1, 2, 3, 4):
        runs = [_outputs(p, seed)[1].external_collaborations.to_numpy() for p in (base, full, ramp)]
        assert (runs[2][:12] == runs[0][:12]).all(), f"seed {seed}: months before the start"
        for r, series in enumerate(runs):
            sums[r] += [series[w].sum() for w in windows]
    early, mid, after = (sums[2] - sums[0]) / (sums[1] - sums[0])
    assert 0.35 < mid < 0.65, (
        f"months 4-9 of the ramp show {mid:.2f} of the full ROW effect, want about 0.5 "
        "(between the before and after levels)"
    )
    assert early < mid - 0.1, f"the effect grows over the ramp: {early:.2f} then {mid:.2f}"
    assert abs(after - 1.0) < 0.1, f"after the ramp the policy is in full ({after:.2f} of it)"


def test_external_weights_are_blended_during_a_phase_in_and_untouched_without_one():
    from flowsim.geography import CITIES, EXTERNALS
    from flowsim.policy import FlowKeys, external_weights, external_weights_for

    common = {"scale": 0.005, "steps": 12, "warmup_steps": 2}
    full = with_overrides(Scenario(), {**common, **OPEN_ROW_TALENT, "timing.start": 2})
    ramp = with_overrides(full, {"timing.phase_in_months": 4})
    city = np.repeat(np.arange(len(CITIES)), len(EXTERNALS))
    place = np.tile(np.arange(len(EXTERNALS)) + len(CITIES), len(CITIES))
    zone, keys = np.full(city.size, -1), FlowKeys()

    def weights(model, tables, rules):
        response = model.world.params.deterrence.talent
        args = (city, place, False, zone, keys, model.world.geo, response)
        return external_weights(tables, rules, 0, *args)

    def in_force(model):
        w = model.world
        response = w.params.deterrence.talent
        return external_weights_for(w, "collaboration", 0, city, place, False, zone, keys, response)

    model = FlowModel(full, rng=1)
    for _ in range(3):
        model.step()
    w = model.world
    assert w.phase is None
    assert (in_force(model) == weights(model, w.external_tables, w.rules)).all(), (
        "without a phase-in the expected external deterrence is the rules' own, bit for bit"
    )
    model = FlowModel(ramp, rng=1)
    for _ in range(4):  # reported months 0-3: the ramp's months 1 and 2 (weight 2/4)
        model.step()
    w = model.world
    assert w.phase is not None and w.phase.weight == 0.5, w.phase
    new = weights(model, w.external_tables, w.rules)
    old = weights(model, w.phase.external_tables, w.phase.rules)
    row = place == len(CITIES) + 1
    assert (new[row] > old[row]).all(), "the open ROW border is expected to deter less"
    assert np.allclose(in_force(model), 0.5 * new + 0.5 * old), (
        "half-way through the ramp the expected external deterrence is half old, half new"
    )
