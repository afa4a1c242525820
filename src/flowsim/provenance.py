"""Provenance shared by every manifest: software versions and the git commit of the code."""

from __future__ import annotations

import platform
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


def git_commit(folder: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit, uncommitted changes?) of the checkout holding flowsim; (None, None) outside git."""
    folder = folder or Path(__file__).resolve().parent
    try:
        commit = _git(folder, "rev-parse", "HEAD")
        dirty = _git(folder, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit or None, bool(dirty)
