"""One warm-up for many policies: the warm-start cache (flowsim.warmstart)."""

import os
import pickle

import pandas as pd
import pytest

from flowsim import warmstart
from flowsim.cli import main
from flowsim.geography import CORRIDORS
from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides
from flowsim.run import run

SMALL = {"scale": 0.01, "steps": 6, "warmup_steps": 24}
POLICY = {f"policy.corridors.{c}.talent.approval": 1.0 for c in CORRIDORS}


def _same(a, b):
    assert a.timeseries.equals(b.timeseries), "time series differ"
    assert a.by_city.equals(b.by_city), "by-city table differs"
    assert a.flows.equals(b.flows), "flows differ"
    assert a.links.equals(b.links), "links differ"


def test_a_run_from_the_cache_is_bit_identical_to_a_cold_run(tmp_path):
    base = with_overrides(Scenario(), SMALL)
    policy = with_overrides(base, {**POLICY, "timing.phase_in_months": 3})
    cold_base = run(base, seed=7)
    cold_policy = run(policy, seed=7)
    first = FlowModel(base, rng=7, cache=tmp_path)
    assert first.warm_start == "miss"
    again = FlowModel(policy, rng=7, cache=tmp_path)
    assert again.warm_start == "hit", "a policy shares the baseline's warm-up"
    assert len(warmstart.Cache(tmp_path).entries()) == 1
    os.environ["FLOWSIM_CACHE"] = str(tmp_path)
    try:
        warm_base = run(base, seed=7)
        warm_policy = run(policy, seed=7)
    finally:
        os.environ["FLOWSIM_CACHE"] = "off"
    _same(cold_base, warm_base)
    _same(cold_policy, warm_policy)
    assert not cold_policy.timeseries.equals(cold_base.timeseries), "the policy acts"


@pytest.mark.parametrize(
    "change",
    [
        {"talent.move_rate": 0.02},
        {"research.papers_per_project_lab": 3.0},
        {"scale": 0.012},
        {"warmup_steps": 12},
        {"deterrence.talent.border_effect": 0.6},
        {"timing.steady_state": True, **POLICY},
    ],
    ids=["behaviour", "research", "scale", "warm-up", "deterrence", "steady-state policy"],
)
def test_anything_the_warm_up_reads_is_another_entry(tmp_path, change):
    base = with_overrides(Scenario(), SMALL)
    assert FlowModel(base, rng=3, cache=tmp_path).warm_start == "miss"
    assert FlowModel(with_overrides(base, change), rng=3, cache=tmp_path).warm_start == "miss"
    assert FlowModel(base, rng=3, cache=tmp_path).warm_start == "hit"


def test_what_the_warm_up_does_not_read_shares_the_entry(tmp_path):
    base = with_overrides(Scenario(), SMALL)
    assert FlowModel(base, rng=3, cache=tmp_path).warm_start == "miss"
    for change in (
        POLICY,
        {"steps": 12, "name": "another", "outputs.flows": False},
        {"research.grant_portability": 1.0, "timing.start": 2},
    ):
        model = FlowModel(with_overrides(base, change), rng=3, cache=tmp_path)
        assert model.warm_start == "hit", change
    assert FlowModel(base, rng=4, cache=tmp_path).warm_start == "miss", "another seed"


def test_another_version_of_flowsim_misses(tmp_path, monkeypatch):
    base = with_overrides(Scenario(), SMALL)
    FlowModel(base, rng=3, cache=tmp_path)
    import flowsim

    monkeypatch.setattr(warmstart, "_FINGERPRINT", None)
    monkeypatch.setattr(flowsim, "__version__", "99.0")
    assert FlowModel(base, rng=3, cache=tmp_path).warm_start == "miss"
    monkeypatch.setattr(warmstart, "_FINGERPRINT", None)
    monkeypatch.setattr(flowsim, "__version__", flowsim.__version__)


def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path):
    base = with_overrides(Scenario(), SMALL)
    FlowModel(base, rng=3, cache=tmp_path)
    (entry,) = warmstart.Cache(tmp_path).entries()
    entry.path.write_bytes(b"not a pickle")
    assert FlowModel(base, rng=3, cache=tmp_path).warm_start == "miss"
    entry.path.write_bytes(pickle.dumps({"key": "another", "world": None, "month": 0}))
    assert FlowModel(base, rng=3, cache=tmp_path).warm_start == "miss"
    assert FlowModel(base, rng=3, cache=tmp_path).warm_start == "hit"


def test_an_unwritable_cache_costs_a_warm_up_and_nothing_else(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    model = FlowModel(with_overrides(Scenario(), SMALL), rng=3, cache=blocker / "cache")
    assert model.warm_start == "miss"
    model.step()


def test_the_least_recently_used_entries_go_beyond_the_limit(tmp_path):
    base = with_overrides(Scenario(), SMALL)
    for seed in (1, 2, 3):
        FlowModel(base, rng=seed, cache=tmp_path)
    cache = warmstart.Cache(tmp_path)
    sizes = [e.size for e in cache.entries()]
    newest = cache.entries()[0].path
    small = warmstart.Cache(tmp_path, max_gb=(sizes[0] + sizes[1]) / 1e9)
    removed = small.trim()
    assert len(removed) == 1 and newest.exists() and len(small.entries()) == 2


def test_the_cache_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWSIM_CACHE", "off")
    assert warmstart.default_folder() is None
    assert FlowModel(with_overrides(Scenario(), SMALL), rng=1).warm_start == "off"
    monkeypatch.delenv("FLOWSIM_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert warmstart.default_folder() == tmp_path / "flowsim" / "warmup"


def test_flowsim_cache_info_and_clear(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLOWSIM_CACHE", str(tmp_path))
    FlowModel(with_overrides(Scenario(), SMALL), rng=1)
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out and "1 entry" in out and "flowsim cache clear" in out
    assert main(["cache", "clear"]) == 0
    assert "removed 1 entry" in capsys.readouterr().out
    assert not warmstart.Cache(tmp_path).entries()
    monkeypatch.setenv("FLOWSIM_CACHE", "off")
    assert main(["cache", "info"]) == 0
    assert "off" in capsys.readouterr().out


def test_run_no_cache_runs_the_warm_up(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLOWSIM_CACHE", str(tmp_path / "cache"))
    scenario = tmp_path / "s.yaml"
    scenario.write_text("scale: 0.005\nsteps: 3\nwarmup_steps: 6\n", encoding="utf-8")
    args = ["run", str(scenario), "--replications", "2", "--quiet"]
    assert main([*args, "--no-cache", "--out", str(tmp_path / "a")]) == 0
    assert not (tmp_path / "cache").exists(), "--no-cache writes no entry"
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    assert len(warmstart.Cache(tmp_path / "cache").entries()) == 2, "one entry per replicate"
    for table in ("timeseries", "by_city", "flows"):
        a = pd.read_parquet(tmp_path / "a" / f"{table}.parquet")
        assert a.equals(pd.read_parquet(tmp_path / "b" / f"{table}.parquet")), table


def test_a_world_pickles_while_its_researcher_pools_are_regrouped_on_a_thread():
    # begin_step regroups the researchers on a helper thread; the cache pickles the world
    # then: the pickle holds the finished pools, the same as the world's own
    model = FlowModel(with_overrides(Scenario(), SMALL), rng=3, cache=False)
    world = model.world
    world.begin_step(model.month)
    copy = pickle.loads(pickle.dumps(world))
    for name in ("members", "counts", "starts", "keys"):
        got, want = getattr(copy.researcher_pools, name), getattr(world.researcher_pools, name)
        assert (got == want).all(), f"the pickled researcher pools' {name} differ"
