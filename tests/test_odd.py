"""docs/ODD.md: the ODD sections exist and its generated tables match the code."""

from __future__ import annotations

import re

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


PHASE = re.compile(r"^(\d+)\. \*\*([^*]+)\*\*", re.MULTILINE)
"""A numbered phase of a step order: ``3. **Research: start** — ...``."""


def _phases(text: str) -> list[tuple[int, str]]:
    return [(int(n), name.strip().lower()) for n, name in PHASE.findall(text)]


def test_the_odd_lists_the_phases_of_the_model_docstring_in_order():
    """The step order is written once, in model.py's docstring; the ODD's §3 must be its copy."""
    import flowsim.model

    code = _phases(flowsim.model.__doc__)
    text = _odd_text()
    section = text[text.index("## 3. Process overview") : text.index("## 4. Design concepts")]
    odd = _phases(section)
    assert len(code) >= 10, f"model.py's docstring lists too few phases: {code}"
    assert [n for n, _ in code] == list(range(len(code))), "model.py's phases are numbered 0, 1..."
    assert odd == code, (
        "docs/ODD.md §3 lists the phases "
        f"{[name for _, name in odd]}, model.py's docstring {[name for _, name in code]}: "
        "the ODD must list the same phases, in the same order"
    )


def test_the_model_runs_the_phases_of_its_docstring():
    """Each mechanism phase of the docstring is a call in FlowModel._advance, in that order."""
    import inspect

    from flowsim.model import FlowModel

    source = inspect.getsource(FlowModel._advance)
    calls = {
        "begin": "w.begin_step(",
        "growth": "growth.step(",
        "talent": "talent.step(",
        "research: start": "research.start_projects(",
        "research: complete": "research.complete_projects(",
        "transfer": "transfer.step(",
        "capital": "capital.step(",
        "commercialization": "commercialization.step(",
        "relocation": "relocation.step(",
        "knowledge": "knowledge.step(",
    }
    import flowsim.model

    phases = [name for _, name in _phases(flowsim.model.__doc__) if name in calls]
    assert phases == list(calls), f"the docstring's mechanism phases changed: {phases}"
    positions = [source.index(calls[name]) for name in phases]
    assert positions == sorted(positions), (
        "FlowModel._advance does not run the phases in the order of model.py's docstring"
    )
