"""Every third-party package that flowsim imports is declared in pyproject.toml.

Each module under src/flowsim is parsed (ast, nothing is imported); every ``import X``
and ``from X import ...`` — at the top of a module or inside a function, as flowsim
imports its heavy packages on first use — whose top-level name is neither the standard
library nor flowsim must be a dependency of the package: a core dependency, or one of
the extra that the module belongs to (the dashboard package: ``dashboard``; PRIM and the
EMA adapter: ``discover``; the Excel writer: ``export``). A plain ``pip install .`` then
has what every command but those three needs, and those three name their extra.
"""

from __future__ import annotations

import ast
import functools
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "flowsim"

EXTRA_OF: dict[str, str] = {
    "dashboard/": "dashboard",
    "discover.py": "discover",
    "ema.py": "discover",
    "export.py": "export",
}
"""Module (path under src/flowsim; a folder ends in /) -> the extra its imports may come from."""

DISTRIBUTION_OF: dict[str, str] = {
    "yaml": "pyyaml",
    "sklearn": "scikit-learn",
    "SALib": "salib",
    "ema_workbench": "ema-workbench",
    "mesa": "mesa",
    "solara": "solara-ui",
    "annotated_types": "annotated-types",
    "setuptools_scm": "setuptools-scm",
}
"""Import name -> distribution where they differ, for packages this environment may lack
(where it has them, importlib.metadata.packages_distributions() says)."""


def normalise(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    """``"dask[distributed]>=2024.1"`` -> ``dask``."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    assert match, f"pyproject.toml: cannot read the requirement {requirement!r}"
    return normalise(match.group(1))


def declared() -> tuple[set[str], dict[str, set[str]]]:
    """(core dependencies, extra -> its dependencies), normalised names.

    A requirement with extras whose name is a distribution of its own (``dask[distributed]``)
    declares that distribution too, as Dask documents it.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        out = set()
        for requirement in requirements:
            out.add(requirement_name(requirement))
            extras = re.match(r"\s*[A-Za-z0-9._-]+\[([^\]]*)\]", requirement)
            if extras and requirement_name(requirement) == "dask":
                out.update(normalise(e) for e in extras.group(1).split(","))
        return out

    extras = {name: names(reqs) for name, reqs in project["optional-dependencies"].items()}
    return names(project["dependencies"]), extras


def imported(path: Path) -> dict[str, int]:
    """Top-level names of the absolute imports in one module -> the first line of each."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            out.setdefault(top, node.lineno)
    return out


@functools.cache
def installed() -> dict[str, list[str]]:
    """Import name -> the installed distributions that provide it (one scan)."""
    return metadata.packages_distributions()


def distribution(import_name: str) -> set[str]:
    """The distributions that may provide an import name."""
    found = installed().get(import_name, [])
    out = {normalise(name) for name in found}
    out.add(normalise(DISTRIBUTION_OF.get(import_name, import_name)))
    return out


def third_party(name: str) -> bool:
    return name not in sys.stdlib_module_names and name not in {"flowsim", "__future__"}


def extra_of(path: Path) -> str | None:
    relative = path.relative_to(SOURCE).as_posix()
    for prefix, extra in EXTRA_OF.items():
        if relative == prefix or (prefix.endswith("/") and relative.startswith(prefix)):
            return extra
    return None


def test_every_third_party_import_is_declared():
    core, extras = declared()
    modules = sorted(SOURCE.rglob("*.py"))
    assert len(modules) > 50, f"found only {len(modules)} modules under {SOURCE}"
    missing = []
    seen = set()
    for path in modules:
        extra = extra_of(path)
        allowed = core | (extras[extra] if extra else set())
        for name, line in imported(path).items():
            if not third_party(name):
                continue
            seen.add(name)
            if not distribution(name) & allowed:
                where = f"core or the {extra!r} extra" if extra else "core dependencies"
                missing.append(
                    f"{path.relative_to(ROOT)}:{line}: imports {name} (distribution "
                    f"{' or '.join(sorted(distribution(name)))}), not among the {where}"
                )
    assert not missing, "undeclared imports; add them to pyproject.toml:\n" + "\n".join(missing)
    # the scan sees the imports it must (a parser that found nothing would pass vacuously)
    assert {"numpy", "pandas", "yaml", "mesa", "ema_workbench", "openpyxl", "solara"} <= seen, seen


def test_the_check_catches_an_undeclared_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import numpy\n\ndef f():\n    import sklearn.tree\n    from . import x\n")
    names = imported(module)
    assert set(names) == {"numpy", "sklearn"} and names["sklearn"] == 4, names
    core, extras = declared()
    assert not distribution("sklearn") & core, "scikit-learn is no core dependency"
    assert distribution("yaml") & core and distribution("distributed") & core


def test_the_ema_workbench_is_in_the_discover_extra_only():
    core, extras = declared()
    assert "ema-workbench" not in core, "PRIM's EMA Workbench is an extra, not core"
    assert "ema-workbench" in extras["discover"], extras["discover"]
    test_extra = " ".join(
        tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "optional-dependencies"
        ]["test"]
    )
    assert "discover" in test_extra, "the test extra installs the discover extra"
