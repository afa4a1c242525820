"""Provenance shared by every manifest: software versions and the git commit of the code."""

from __future__ import annotations

import importlib
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES: tuple[str, ...] = (
    "flowsim",
    "mesa",
    "numpy",
    "pandas",
    "pyarrow",
    "pydantic",
    "dask",
    "distributed",
    "SALib",
)
"""Packages whose versions a manifest records."""


def package_version(name: str) -> str | None:
    """Installed version of a package, or None if it is not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Python's version and each package's."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    out.update({name: package_version(name) for name in names})
    return out


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, capture_output=True, text=True, timeout=10, check=True
    ).stdout.strip()


def build_commit() -> tuple[str | None, bool | None]:
    """(commit, uncommitted changes?) that flowsim was built from; (None, None) if unknown.

    setuptools-scm writes them into ``flowsim/_version.py`` when a wheel is built or the
    package installed (``pip install .``, from a git checkout): ``commit_id`` is the
    abbreviated commit (``g`` and 7 or more hex digits), and a version with a ``.dYYYYMMDD``
    local part was built from a checkout with uncommitted changes.
    """
    try:
        # generated at build time, git-ignored; looked up in sys.modules first (not as the
        # package's attribute), so a test can stand in another build's file
        _version = importlib.import_module("flowsim._version")
    except ImportError:
        return None, None
    node = getattr(_version, "commit_id", None)
    if not isinstance(node, str) or not re.fullmatch(r"g?[0-9a-f]{4,40}", node):
        return None, None
    local = str(getattr(_version, "version", "")).partition("+")[2]
    dirty = re.search(r"(^|\.)d\d{8}$", local) is not None
    return node.removeprefix("g"), dirty


def git_commit(folder: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, uncommitted changes?) of the code of flowsim that runs.

    From git where this module is a tracked file of the checkout holding ``folder`` (by
    default flowsim's own folder: an editable install or ``PYTHONPATH=src``); otherwise (a
    plain install into site-packages, which may even sit inside another project's git
    checkout) the commit the installed package was built from (:func:`build_commit`, an
    abbreviated id); (None, None) where neither knows.
    """
    folder = folder or Path(__file__).resolve().parent
    try:
        _git(folder, "ls-files", "--error-unmatch", "--", str(Path(__file__).resolve()))
        commit = _git(folder, "rev-parse", "HEAD")
        dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return build_commit()
    return (commit, bool(dirty)) if commit else build_commit()
