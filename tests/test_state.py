"""Declared state: tables assembled from the core columns and each mechanism's STATE."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.assembly import COLUMNS, MECHANISMS, OWNERS
from flowsim.state import CORE, CORE_OWNER, TABLES, Column, StateError, assemble

# every column of every table (as before the columns moved to their owners, plus the
# exits of issue 10: investors' realised, deals' at_cost; researchers' partner_step)
NAMES = {
    "researchers": "city zone field skill partner partner_step employer_kind employer tie_city "
    "tie_until arrive_step dest_city dest_zone dest_employer_kind dest_employer",
    "labs": "city zone field budget staff inventions ownership",
    "firms": "city zone sector stage alive staff cash rounds vc_raised born_step pct_propensity "
    "patents products signal",
    "investors": "city zone investor_type raised held invested written_off realised deals",
    "deals": "firm investor amount step at_cost written_off",
    "projects": "active employer_kind employer pi collaborator collab_city city field "
    "cross_border quality end_step data_ready samples_ready",
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
