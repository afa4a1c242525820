"""The house: the world is a container, the tools sit below the mechanisms (no import cycle).

The world (:mod:`flowsim.world`) holds state; shared tools act on it as functions; the
mechanisms use the tools and declare their state and parameter classes;
:mod:`flowsim.params` (which composes the mechanisms' parameter classes into the
scenario), :mod:`flowsim.assembly` and :mod:`flowsim.model` sit on top. The world and
the tools may name :mod:`flowsim.params` in type hints only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import flowsim

SRC = Path(flowsim.__file__).parent
BELOW_MECHANISMS = (
    "world.py",
    "regime.py",
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
    "paramtypes.py",
    "outputs.py",
    "state.py",
    "employment.py",
    "firms.py",
    "setup.py",
    "anchors.py",
    "agents.py",
)
ABOVE = ("flowsim.mechanisms", "flowsim.assembly", "flowsim.model")
"""Modules the world and the tools must not import (the mechanisms, and what composes them)."""

TYPE_HINTS_ONLY = ("flowsim.params",)
"""Modules above the mechanisms that the world, the tools and the mechanisms may import only
under ``if TYPE_CHECKING:`` (they import the mechanisms' parameter classes)."""

PARAMTYPES_MAY_IMPORT = ("pydantic", "flowsim.geography", "__future__", "typing", "collections.abc")
"""All :mod:`flowsim.paramtypes` imports: it sits below everything that declares parameters."""

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


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(path: Path) -> set[str]:
    """Like :func:`_imports`, skipping the bodies of ``if TYPE_CHECKING:`` (lazy imports count)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "flowsim":
                names.update(f"flowsim.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return names


def _names(modules: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(
        m for m in modules if m in prefixes or m.startswith(tuple(f"{p}." for p in prefixes))
    )


def test_world_and_tools_import_no_mechanism():
    for name in BELOW_MECHANISMS:
        bad = sorted(m for m in _imports(SRC / name) if m.startswith(ABOVE))
        assert not bad, f"flowsim/{name} imports {bad}: the world and tools sit below mechanisms"


def test_world_tools_and_mechanisms_import_the_params_for_type_hints_only():
    paths = [SRC / name for name in BELOW_MECHANISMS] + sorted((SRC / "mechanisms").glob("*.py"))
    for path in paths:
        bad = _names(_runtime_imports(path), TYPE_HINTS_ONLY)
        assert not bad, (
            f"{path.relative_to(SRC)} imports {bad} at run time: it composes the mechanisms' "
            "parameter classes and sits above them; import it under TYPE_CHECKING"
        )


def test_the_runtime_import_check_sees_through_type_checking(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from flowsim.params import A\n"
        "def f():\n    from flowsim import params\n",
        encoding="utf-8",
    )
    assert _runtime_imports(probe) == {"typing", "flowsim", "flowsim.params"}
    probe.write_text("import typing\nif typing.TYPE_CHECKING:\n    import flowsim.params\n")
    assert _runtime_imports(probe) == {"typing"}


def test_paramtypes_imports_only_pydantic_the_stdlib_and_geography():
    bad = sorted(
        m for m in _imports(SRC / "paramtypes.py") if not m.startswith(PARAMTYPES_MAY_IMPORT)
    )
    assert not bad, f"flowsim/paramtypes.py imports {bad}: it sits below the mechanisms"


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
    from flowsim.assembly import MECHANISMS, PARAMS
    from flowsim.params import Scenario

    for module in MECHANISMS:
        assert isinstance(module.STATE, dict), f"{module.__name__} declares no STATE"
        assert module.PARAMS is None or module.PARAMS in Scenario.model_fields, (
            f"{module.__name__} owns the scenario section {module.PARAMS!r}, which does not exist"
        )
        if module.PARAMS is None:
            assert module.Params is None, f"{module.__name__} declares a class but no section"
            continue
        declared = module.Params
        assert declared.__module__ == module.__name__, (
            f"{module.__name__}.Params is {declared.__module__}.{declared.__qualname__}: "
            "a mechanism declares its parameter class in its own module"
        )
        field = Scenario.model_fields[module.PARAMS]
        assert field.annotation is declared, (
            f"Scenario.{module.PARAMS} is {field.annotation}, not {module.__name__}.Params"
        )
        assert type(getattr(Scenario(), module.PARAMS)) is declared
        assert PARAMS[module.PARAMS] == module.__name__
    owned = {m.PARAMS for m in MECHANISMS} - {None}
    assert owned == {
        "growth",
        "talent",
        "research",
        "transfer",
        "capital",
        "commercialization",
        "relocation",
        "knowledge",
    }


def test_mechanisms_do_not_set_another_mechanisms_memory():
    """A mechanism assigns ``world.<name> = ...`` only for the memory it declares itself."""
    from flowsim.assembly import MECHANISMS, MEMORY_OWNERS

    for module in MECHANISMS:
        path = SRC / "mechanisms" / f"{module.__name__.rsplit('.', 1)[1]}.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "world"
                ):
                    owner = MEMORY_OWNERS.get(target.attr)
                    assert owner == module.__name__, (
                        f"{path.name} sets world.{target.attr}, which "
                        f"{owner or 'no mechanism'} declares: set only your own MEMORY"
                    )


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
