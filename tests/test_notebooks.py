"""The notebooks run start to finish at small size (``FLOWSIM_SMALL=1``) and draw figures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
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
def test_notebook_runs_small_and_draws_figures(name, monkeypatch):
    monkeypatch.setenv("FLOWSIM_SMALL", "1")
    book = execute(NOTEBOOKS / name)
    code = [cell for cell in book.cells if cell.cell_type == "code"]
    errors = [o for cell in code for o in cell.outputs if o.output_type == "error"]
    assert not errors, f"{name}: cells raised {[e.ename for e in errors]}"
    images = [o for cell in code for o in cell.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= FIGURES[name[:2]], f"{name}: only {len(images)} figures were drawn"


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
