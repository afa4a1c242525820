"""Provenance of files derived from results folders (figures, comparison tables).

A derived file cannot carry a manifest of its own, so a small JSON file beside it
says which results folders it was made from, with the hash that identifies each
folder's inputs (a run's ``scenario_sha256``, a sweep's ``spec_sha256``), the
flowsim version and the time.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowsim.diskio import strict_json, write_text_atomic
from flowsim.provenance import package_version

IDENTIFYING_KEYS: tuple[str, ...] = ("scenario", "scenario_sha256", "spec_sha256", "git_commit")
"""Manifest fields copied into a derived file's provenance."""


def source_record(folder: Path) -> dict[str, Any]:
    """What identifies a results folder: its path and the key fields of its manifest."""
    record: dict[str, Any] = {"folder": str(folder.resolve())}
    manifest = folder / "manifest.json"
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        record["manifest"] = None
        return record
    record.update({key: data[key] for key in IDENTIFYING_KEYS if key in data})
    return record


def write_provenance(
    path: Path, sources: Sequence[Path], outputs: Sequence[Path], what: str
) -> Path:
    """Write ``path`` (JSON) saying which folders ``outputs`` were made from, and how."""
    record = {
        "what": what,
        "made_by": f"flowsim {package_version('flowsim')}",
        "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "sources": [source_record(Path(s)) for s in sources],
        "outputs": [str(Path(o).name) for o in outputs],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, strict_json(record, indent=2) + "\n")
    return path
