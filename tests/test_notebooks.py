"""The notebooks run start to finish at small size (``FLOWSIM_SMALL=1``) and draw figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"

USER_DRAFT = """\
name: my_draft_policy
description: A user's own draft, not shipped; notebook 2 must leave it out.
extends: baseline.yaml
"""
FIGURES = {"01": 3, "02": 5, "03": 2}
"""Figures each notebook draws at least."""


def execute(path: Path) -> nbformat.NotebookNode:
    """Run a notebook in a fresh kernel from its own folder; raises on the first failing cell."""
    book = nbformat.read(path, as_version=4)
    NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return book


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs_small_and_draws_figures(name, monkeypatch, tmp_path):
    """Each notebook runs small in a copy of the repository, with its own temporary folder.

    The copy also holds a user's draft scenario: the notebooks must leave it out, and
    leave no temporary folder behind.
    """
    repo = tmp_path / "repo"
    shutil.copytree(ROOT / "scenarios", repo / "scenarios")
    shutil.copytree(NOTEBOOKS, repo / "notebooks")
    (repo / "scenarios" / "my_draft_policy.yaml").write_text(USER_DRAFT, encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setenv("FLOWSIM_SMALL", "1")
    book = execute(repo / "notebooks" / name)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{name}: cells raised {[e.ename for e in errors]}"
    images = [o for cell in code for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= FIGURES[name[:2]], f"{name}: only {len(images)} figures were drawn"
    text = str([o for cell in code for o in cell.outputs])
    assert "my_draft_policy" not in text, f"{name}: a user's own scenario file was used"
    left = sorted(p.name for p in temp.iterdir() if "flowsim" in p.name)
    assert not left, f"{name}: left temporary folders behind: {left}"


def test_notebook_2_compares_exactly_the_shipped_scenarios():
    book = nbformat.read(NOTEBOOKS / "02_policy_comparison.ipynb", as_version=4)
    source = "\n".join(c.source for c in book.cells if c.cell_type == "code")
    assert ".glob(" not in source, "no scanning of scenarios/ for whatever is there"
    namespace: dict = {}
    start = source.index("SHIPPED = [")
    exec(source[start : source.index("]", start) + 1], namespace)
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    assert sorted(namespace["SHIPPED"]) == shipped, (
        f"notebook 2 names the shipped scenarios {shipped}: {namespace['SHIPPED']}"
    )
    assert namespace["SHIPPED"][0] == "baseline", "the reference first"


def test_notebooks_explain_what_the_reader_learns():
    books = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert [b.name[:2] for b in books] == ["01", "02", "03"], (
        f"the three notebooks: {[b.name for b in books]}"
    )
    for path in books:
        book = nbformat.read(path, as_version=4)
        prose = " ".join(c.source for c in book.cells if c.cell_type == "markdown")
        assert book.cells[0].cell_type == "markdown" and book.cells[0].source.startswith("# "), (
            f"{path.name}: a title"
        )
        assert "FLOWSIM_SMALL" in prose, f"{path.name}: says how to run it small"
        assert len(prose.split()) > 250, (
            f"{path.name}: too little explanation ({len(prose.split())} words)"
        )
        sources = " ".join(c.source for c in book.cells if c.cell_type == "code")
        assert "!flowsim" not in sources and "subprocess" not in sources, (
            f"{path.name}: Python API only"
        )
        assert not any(c.get("outputs") for c in book.cells if c.cell_type == "code"), (
            f"{path.name}: stored clean"
        )
