"""The house: the world and the shared tools never import a mechanism (no import cycle)."""

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
)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_world_and_tools_import_no_mechanism():
    for name in BELOW_MECHANISMS:
        bad = sorted(m for m in _imports(SRC / name) if m.startswith("flowsim.mechanisms"))
        assert not bad, f"flowsim/{name} imports {bad}: the world and tools sit below mechanisms"


def test_mechanisms_import_the_world_only_for_type_hints():
    for path in sorted((SRC / "mechanisms").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module == "flowsim.world":
                raise AssertionError(f"{path.name} imports flowsim.world at run time")
