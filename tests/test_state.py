"""Declared state: tables assembled from the core columns and each mechanism's STATE."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.assembly import COLUMNS, MECHANISMS, OWNERS
from flowsim.state import CORE, CORE_OWNER, TABLES, Column, StateError, assemble

# every column of every table (as before the columns moved to their owners, plus the
# exits of issue 10: investors' realised, deals' at_cost; researchers' partner_step; the open
# region's investors' invested_outside and projects' external co-authors)
NAMES = {
    "researchers": "city zone field skill partner partner_step employer_kind employer tie_city "
    "tie_until arrive_step dest_city dest_zone dest_employer_kind dest_employer",
    "labs": "city zone field budget staff anchor open_posts inventions ownership "
    "ownership_readiness patents pct_applications papers",
    "firms": "city zone sector stage alive staff anchor open_posts cash rounds vc_raised "
    "born_step closed_step pct_propensity patents pct_applications papers products signal",
    "investors": "city zone investor_type raised held invested written_off realised deals "
    "invested_outside",
    "deals": "firm investor amount step at_cost written_off",
    "projects": "active employer_kind employer pi collaborator collab_city city field "
    "cross_border external quality end_step data_ready samples_ready",
    "developments": "active firm cost funded created_step end_step",
}


def test_the_tables_have_every_column_once():
    assert tuple(COLUMNS) == TABLES
    for table, names in NAMES.items():
        got = [c.name for c in COLUMNS[table]]
        assert sorted(got) == sorted(names.split()), table
        assert len(set(got)) == len(got), table
        assert set(OWNERS[table]) == set(got), table


def test_core_columns_come_first_then_mechanisms_in_step_order():
    order = [CORE_OWNER] + [m.__name__ for m in MECHANISMS]
    for table, columns in COLUMNS.items():
        ranks = [order.index(OWNERS[table][c.name]) for c in columns]
        assert ranks == sorted(ranks), table
        core = [c.name for c in CORE.get(table, ())]
        assert [c.name for c in columns[: len(core)]] == core, table


def test_a_column_declared_twice_is_an_error():
    twice = {"researchers": (Column("tie_city", np.int8, -1, "again"),)}
    owners = [(m.__name__, m.STATE) for m in MECHANISMS] + [("flowsim.mechanisms.other", twice)]
    with pytest.raises(StateError, match="researchers.tie_city is declared by both"):
        assemble(CORE, owners)
    with pytest.raises(StateError, match="city is declared by both flowsim.state"):
        assemble(CORE, [("x", {"labs": (Column("city", np.int8, 0, "again"),)})])


def test_an_unknown_table_is_an_error():
    with pytest.raises(StateError, match="not a table"):
        assemble(CORE, [("x", {"researcher": (Column("y", np.int8, 0, "typo"),)})])


# --------------------------------------------------------------------------- memory and outputs

MOVED = (
    "pending_moves lab_inflow lab_history book_history relocation_tables entry_base "
    "invested_history data_need samples_need move_amenity collab_weights source_weights knowledge"
).split()
"""The tables and memories that World.__init__ and setup.py held before each mechanism
declared and initialised its own (issue 17)."""


def test_each_mechanism_declares_its_memory_and_init():
    from flowsim.assembly import MEMORY_OWNERS

    for module in MECHANISMS:
        for name in ("STATE", "MEMORY", "OUTPUTS", "init"):
            assert hasattr(module, name), f"{module.__name__} declares no {name}"
    assert set(MOVED) <= set(MEMORY_OWNERS), sorted(set(MOVED) - set(MEMORY_OWNERS))
    assert MEMORY_OWNERS["pending_moves"] == "flowsim.mechanisms.talent"
    assert MEMORY_OWNERS["knowledge"] == "flowsim.mechanisms.knowledge"
    assert MEMORY_OWNERS["book_history"] == "flowsim.mechanisms.capital"


def test_the_world_holds_no_mechanism_memory_and_init_sets_exactly_the_declared():
    from flowsim.assembly import MEMORY_OWNERS, build_world
    from flowsim.params import Scenario
    from flowsim.world import World

    bare = World(Scenario(scale=0.002), seed=1)
    held = set(MEMORY_OWNERS) & set(vars(bare))
    assert not held, f"World.__init__ still sets the mechanisms' memory {sorted(held)}"
    world = build_world(Scenario(scale=0.002), seed=1)
    for name, owner in MEMORY_OWNERS.items():
        assert hasattr(world, name), f"{owner}.init did not set {name}"


def test_an_init_that_sets_an_undeclared_name_or_misses_a_declared_one_is_an_error():
    from types import SimpleNamespace

    from flowsim.state import Memory, assemble_memory, initialise

    def sets_extra(world):
        world.declared = 1
        world.sneaky = 2

    with pytest.raises(StateError, match="sneaky"):
        initialise(SimpleNamespace(), [("m", (Memory("declared", "x"),), sets_extra)])
    with pytest.raises(StateError, match="missing|unset"):
        initialise(SimpleNamespace(), [("m", (Memory("other", "x"),), lambda w: None)])
    with pytest.raises(StateError, match="both"):
        assemble_memory([("a", (Memory("x", ""),)), ("b", (Memory("x", ""),))])


def test_knowledge_is_a_mechanism_with_its_own_section():
    from flowsim.assembly import PARAMS
    from flowsim.mechanisms import knowledge
    from flowsim.params import KnowledgeParams, Scenario

    assert knowledge in MECHANISMS and MECHANISMS[-1] is knowledge, "knowledge runs last"
    assert PARAMS["knowledge"] == "flowsim.mechanisms.knowledge"
    assert KnowledgeParams is knowledge.KnowledgeParams
    assert Scenario.model_fields["knowledge"].annotation is knowledge.Params


def test_no_mechanism_reads_the_warm_up_length():
    from pathlib import Path

    import flowsim

    for path in sorted((Path(flowsim.__file__).parent / "mechanisms").glob("*.py")):
        assert "warmup_steps" not in path.read_text(encoding="utf-8"), (
            f"{path.name} reads warmup_steps: the warm-up is model.py's, which passes a flag"
        )


def test_every_counter_is_declared_by_exactly_one_module():
    from flowsim.assembly import OUTPUT_OWNERS
    from flowsim.outputs import COUNTERS

    assert list(OUTPUT_OWNERS) != [] and set(OUTPUT_OWNERS) == set(COUNTERS)
    declared = [o for m in MECHANISMS for o in m.OUTPUTS]
    assert len(declared) == len(set(declared)), "a counter is declared by two mechanisms"


def test_a_mechanism_counts_only_what_it_declares(monkeypatch):
    """Every count of a small run, attributed to the innermost mechanism on the call stack."""
    import sys

    from flowsim.assembly import SHARED_OUTPUTS
    from flowsim.geography import ZONES
    from flowsim.model import FlowModel
    from flowsim.world import World

    modules = {m.__name__: m for m in MECHANISMS}
    counted: dict[str, set[str]] = {}
    original = World.count

    def count(self, name, value):
        frame = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__") not in modules:
            frame = frame.f_back
        owner = frame.f_globals["__name__"] if frame is not None else "outside a mechanism"
        counted.setdefault(owner, set()).add(name)
        original(self, name, value)

    monkeypatch.setattr(World, "count", count)
    # zone rules so that relocation acts; a short warm-up so the settle hooks run
    settings = {"relocation.rate": 0.2, "relocation.researcher_density": 3000.0}
    for zone in ZONES:
        settings[f"policy.zones.{zone}.talent.approval"] = 1.0
        settings[f"policy.zones.{zone}.talent.delay_days"] = 0.0
    model = FlowModel(scale=0.01, steps=3, warmup_steps=13, rng=5, **settings)
    for _ in range(3):
        model.step()
    assert set(counted) <= set(modules), f"counted outside every mechanism: {counted}"
    for owner, names in counted.items():
        undeclared = names - set(modules[owner].OUTPUTS) - SHARED_OUTPUTS
        assert not undeclared, f"{owner} counts {sorted(undeclared)} but does not declare them"
    seen = set().union(*counted.values())
    for m in MECHANISMS:
        assert set(m.OUTPUTS) & seen or not m.OUTPUTS, f"{m.__name__} counted none of its outputs"
