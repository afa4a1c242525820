"""``manifest.json`` of a sweep: how its results were made, and how far it got.

Like a run's manifest it records software versions, the git commit of the code,
hashes of the inputs and the seeds; a sweep's adds the design, the sample size,
the number of runs, the failed runs with their errors, and a ``status`` that is
``"running"`` until every run is recorded and the parts are consolidated.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowsim import provenance
from flowsim.provenance import versions


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_json(data: Any) -> str:
    """Hex SHA-256 of a JSON-serialisable value, keys sorted (stable across runs)."""
    return sha256_bytes(
        json.dumps(data, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")
    )


def git_commit() -> dict[str, Any] | None:
    """The flowsim source's git commit and whether it has uncommitted changes (None outside git)."""
    commit, dirty = provenance.git_commit()
    return None if commit is None else {"commit": commit, "dirty": dirty}


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    """Write ``manifest.json`` atomically (a reader never sees half a file)."""
    from flowsim.diskio import strict_json, write_text_atomic

    path = folder / "manifest.json"
    return write_text_atomic(path, strict_json(manifest, indent=2, default=str) + "\n")


class DamagedManifestError(ValueError):
    """``manifest.json`` exists but is not a JSON object; the message names the file."""


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a sweep folder, or None if it has none.

    Raises:
        DamagedManifestError: the file is not valid JSON, not an object, or unreadable.
    """
    path = Path(folder) / "manifest.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise DamagedManifestError(
            f"{path}: damaged ({err}); the folder's record of its sweep is lost"
        ) from None
    if not isinstance(data, dict):
        raise DamagedManifestError(f"{path}: damaged (holds {type(data).__name__}, not an object)")
    return data


__all__ = [
    "DamagedManifestError",
    "now",
    "read_manifest",
    "sha256_bytes",
    "sha256_json",
    "versions",
    "git_commit",
    "write_manifest",
]
