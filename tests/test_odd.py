"""docs/ODD.md: the ODD sections exist and its generated tables match the code."""

from __future__ import annotations

from model_helpers import load_script

from flowsim.assembly import COLUMNS, OWNERS
from flowsim.geography import ELEMENTS
from flowsim.params import Scenario

SECTIONS = (
    "Purpose and patterns",
    "Entities, state variables and scales",
    "Process overview and scheduling",
    "Design concepts",
    "Initialization",
    "Input data",
    "Submodels",
    "Parameters, calibration and tests",
)


def _odd_text() -> str:
    return load_script("make_param_table").ODD_PATH.read_text(encoding="utf-8")


def test_odd_has_every_section():
    text = _odd_text()
    for title in SECTIONS:
        assert f"## {SECTIONS.index(title) + 1}. {title}" in text, (
            f"docs/ODD.md lacks section {title!r}"
        )


def test_generated_tables_are_up_to_date():
    script = load_script("make_param_table")
    text = _odd_text()
    for begin, end, fresh in script.generated_blocks():
        stored = script.block(text, begin, end)
        assert stored is not None, f"docs/ODD.md lacks the markers {begin!r} ... {end!r}"
        assert stored == fresh, (
            f"the table after {begin!r} in docs/ODD.md is out of date with the code; "
            "run python scripts/make_param_table.py"
        )


def test_every_parameter_has_unit_default_and_source():
    rows = load_script("make_param_table").parameter_rows()
    for row in rows:
        assert row.unit, f"parameter {row.path} has no unit"
        assert row.source, f"parameter {row.path} has no source or assumption"
        assert row.default != "", f"parameter {row.path} has no default"
        assert row.meaning, f"parameter {row.path} has no meaning"


def _leaf_paths(model, prefix: str = "") -> set[str]:
    paths = set()
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        key = prefix + (info.alias or name)
        if hasattr(type(value), "model_fields"):
            paths |= _leaf_paths(value, key + ".")
        else:
            paths.add(key)
    return paths


def test_every_scenario_field_is_in_the_table():
    rows = {row.path for row in load_script("make_param_table").parameter_rows()}
    for path in _leaf_paths(Scenario()):
        generic = path
        if path.startswith("policy.zones."):
            parts = path.split(".")
            if parts[3] in ELEMENTS:
                generic = ".".join(parts[:2] + ["<zone>", "<element>"] + parts[4:])
            else:
                generic = ".".join(parts[:2] + ["<zone>"] + parts[3:])
        assert generic in rows, f"Scenario field {path} is missing from the parameter table"


def test_every_declared_column_is_documented():
    text = _odd_text()
    for table, columns in COLUMNS.items():
        for column in columns:
            assert f"| `{column.name}` |" in text, f"column {column.name!r} is not in docs/ODD.md"
            owner = OWNERS[table][column.name]
            rows = [
                line
                for line in text.splitlines()
                if line.startswith(f"| `{column.name}` |") and line.endswith(f"| `{owner}` |")
            ]
            assert rows, f"docs/ODD.md does not say that {owner} owns {table}.{column.name}"


def test_the_step_order_matches_the_model():
    text = _odd_text()
    order = [
        "**Begin**",
        "**Talent**",
        "**Research: start**",
        "**Research: complete**",
        "**Transfer**",
        "**Capital**",
        "**Commercialization**",
        "**Record**",
    ]
    positions = [text.index(phase) for phase in order]
    assert positions == sorted(positions), (
        "the ODD's process overview must list the phases in model order"
    )
    import inspect

    from flowsim.model import FlowModel

    source = inspect.getsource(FlowModel._advance)
    calls = [
        "talent.step",
        "research.start_projects",
        "research.complete_projects",
        "transfer.step",
        "capital.step",
        "commercialization.step",
    ]
    assert [source.index(c) for c in calls] == sorted(source.index(c) for c in calls), (
        "FlowModel._advance no longer runs the mechanisms in the documented order; "
        "update docs/ODD.md §3"
    )
