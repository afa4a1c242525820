"""The house: the world is a container, the tools sit below the mechanisms (no import cycle).

The world (:mod:`flowsim.world`) holds state; shared tools act on it as functions; the
mechanisms use the tools; :mod:`flowsim.assembly` and :mod:`flowsim.model` sit on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

import flowsim

SRC = Path(flowsim.__file__).parent
BELOW_MECHANISMS = (
    "world.py",
    "gravity.py",
    "knowledge.py",
    "channels.py",
    "policy.py",
    "pools.py",
    "tally.py",
    "flows.py",
    "populations.py",
    "streams.py",
    "geography.py",
    "params.py",
    "outputs.py",
    "state.py",
    "employment.py",
    "firms.py",
    "setup.py",
)
ABOVE = ("flowsim.mechanisms", "flowsim.assembly", "flowsim.model")
"""Modules the world and the tools must not import (the mechanisms, and what composes them)."""

CONTAINER_METHODS = {
    "__init__",
    "tables_for",
    "border_for",
    "count",
    "count_by",
    "begin_step",
    "refresh_pools",
    "refresh_investor_pools",
}
"""The world's own bookkeeping: compiled tables, counters, pools; nothing that acts."""

WORLD_MAX_LINES = 260


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "flowsim":
                names.update(f"flowsim.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_world_and_tools_import_no_mechanism():
    for name in BELOW_MECHANISMS:
        bad = sorted(m for m in _imports(SRC / name) if m.startswith(ABOVE))
        assert not bad, f"flowsim/{name} imports {bad}: the world and tools sit below mechanisms"


def test_mechanisms_import_the_world_only_for_type_hints():
    for path in sorted((SRC / "mechanisms").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "flowsim.world":
                raise AssertionError(f"{path.name} imports flowsim.world at run time")


def test_the_world_is_a_container():
    path = SRC / "world.py"
    source = path.read_text(encoding="utf-8")
    n_lines = source.count("\n")
    assert n_lines <= WORLD_MAX_LINES, f"world.py has {n_lines} lines: move behaviour to a tool"
    tree = ast.parse(source)
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions == ["field_mix"], f"world.py defines functions {functions}: move them out"
    (world,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "World"]
    methods = {n.name for n in world.body if isinstance(n, ast.FunctionDef)}
    extra = sorted(methods - CONTAINER_METHODS)
    assert not extra, f"World defines {extra}: behaviour belongs in a tool or a mechanism"


def test_mechanisms_call_only_the_containers_bookkeeping():
    for path in sorted((SRC / "mechanisms").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "world"
            ):
                assert node.func.attr in CONTAINER_METHODS, (
                    f"{path.name} calls world.{node.func.attr}(): call a tool function instead"
                )


def test_every_mechanism_declares_its_state_and_parameters():
    from flowsim.assembly import MECHANISMS
    from flowsim.params import Scenario

    for module in MECHANISMS:
        assert isinstance(module.STATE, dict), f"{module.__name__} declares no STATE"
        assert module.PARAMS is None or module.PARAMS in Scenario.model_fields, (
            f"{module.__name__} owns the scenario section {module.PARAMS!r}, which does not exist"
        )
    owned = {m.PARAMS for m in MECHANISMS} - {None}
    assert owned == {
        "talent",
        "research",
        "transfer",
        "capital",
        "commercialization",
        "relocation",
    }


def test_every_mechanism_module_is_in_the_house():
    import pkgutil

    import flowsim.mechanisms
    from flowsim.assembly import MECHANISMS

    found = {
        f"flowsim.mechanisms.{m.name}"
        for m in pkgutil.iter_modules(flowsim.mechanisms.__path__)
        if m.name != "inputs"  # the shared core of data and samples, not a step of its own
    }
    listed = {m.__name__ for m in MECHANISMS}
    assert found == listed, (
        f"mechanism modules missing from flowsim.assembly.MECHANISMS: {sorted(found - listed)}"
    )
