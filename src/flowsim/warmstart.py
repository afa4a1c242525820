"""One warm-up for many policies: the state at the end of the warm-up, cached on disk.

The warm-up runs under the baseline's levers (:mod:`flowsim.timing`), so its end state
depends on the behaviour parameters, the scale and the seed — not on the policy. A sweep of
N policy points x R replicates then needs R warm-ups, not N x R, and so does the dashboard.

The cache is content-addressed: an entry's key is a SHA-256 of everything the warm-up
reads (the warm-up's scenario without the fields it never reads — name, description,
sources, steps, start year, timing, outputs, growth, which acts from the first reported
month only — the seed, and a fingerprint of flowsim
itself: its version, the text of every module and data file, and numpy's version). A
change to any of them is another key, so a stale entry is never used; an entry is a
pickle of the world written atomically, so a half-written file is never read. Deleting
the folder is always safe (``flowsim cache clear``). A run from the cache is bit-identical
to a cold run: the world is restored whole, and every later draw comes from streams
derived from the seed, the mechanism and the month (:mod:`flowsim.streams`).

Where: ``$FLOWSIM_CACHE`` if set (``off`` turns the cache off), else
``$XDG_CACHE_HOME/flowsim/warmup`` (``~/.cache/flowsim/warmup``). Entries beyond
``$FLOWSIM_CACHE_MAX_GB`` (default 4) are removed, least recently used first.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowsim.params import Scenario

OFF = ("off", "0", "false", "no", "none")
"""Values of ``FLOWSIM_CACHE`` that turn the cache off."""

NOT_READ = (
    "name",
    "description",
    "sources",
    "steps",
    "start_year",
    "timing",
    "outputs",
    "growth",
)
"""Scenario fields the warm-up never reads: they are left out of the key."""

SUFFIX = ".warmup.pkl"
DEFAULT_MAX_GB = 4.0
_FINGERPRINT: str | None = None


def default_folder() -> Path | None:
    """The cache folder from the environment; None when ``FLOWSIM_CACHE`` turns it off."""
    given = os.environ.get("FLOWSIM_CACHE")
    if given is not None:
        if given.strip().lower() in OFF:
            return None
        return Path(given).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "flowsim" / "warmup"


def fingerprint() -> str:
    """Flowsim's version, the SHA-256 of its modules and data files, and numpy's version."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import numpy as np

        import flowsim

        root = Path(flowsim.__file__).parent
        digest = hashlib.sha256(f"{flowsim.__version__}|numpy {np.__version__}".encode())
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".csv", ".yaml", ".json", ".txt"):
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
        _FINGERPRINT = digest.hexdigest()
    return _FINGERPRINT


def key(warm: Scenario, seed: int) -> str:
    """The content address of a warm-up: what it reads, the seed and flowsim's fingerprint."""
    data = warm.model_dump(by_alias=True, mode="json", exclude=set(NOT_READ))
    text = json.dumps(
        {"scenario": data, "seed": int(seed), "flowsim": fingerprint()}, sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One cached warm-up: its file, size in bytes and last use (seconds since the epoch)."""

    path: Path
    size: int
    used: float


class Cache:
    """A folder of warm-up states, keyed by :func:`key`."""

    def __init__(self, folder: str | Path, max_gb: float | None = None):
        self.folder = Path(folder)
        if max_gb is None:
            max_gb = float(os.environ.get("FLOWSIM_CACHE_MAX_GB", DEFAULT_MAX_GB))
        self.max_bytes = int(max_gb * 1e9)

    @classmethod
    def from_setting(cls, setting: str | Path | bool | None) -> Cache | None:
        """The cache a model uses: None or True from the environment, False none, a path there."""
        if setting is False:
            return None
        if setting is None or setting is True:
            folder = default_folder()
            return None if folder is None else cls(folder)
        return cls(setting)

    def path(self, name: str) -> Path:
        """The file of entry ``name``."""
        return self.folder / f"{name}{SUFFIX}"

    def load(self, name: str) -> tuple[Any, int] | None:
        """The (world, month) stored under ``name``; None when absent or unreadable."""
        path = self.path(name)
        try:
            with path.open("rb") as handle:
                stored = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError):
            return None
        if not isinstance(stored, dict) or stored.get("key") != name:
            return None
        try:
            os.utime(path)  # least recently used goes first
        except OSError:
            pass
        return stored["world"], stored["month"]

    def store(self, name: str, world: Any, month: int) -> bool:
        """Write the state atomically; False (and nothing left behind) if it cannot be written."""
        from flowsim.diskio import atomic_path

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path(name)) as tmp, tmp.open("wb") as handle:
                pickle.dump(
                    {"key": name, "world": world, "month": month},
                    handle,
                    protocol=pickle.HIGHEST_PROTOCOL,
                )
        except OSError:
            return False  # a full or read-only disk costs the next run a warm-up, nothing more
        self.trim()
        return True

    def entries(self) -> list[Entry]:
        """Every entry, most recently used first."""
        out = []
        for path in self.folder.glob(f"*{SUFFIX}"):
            try:
                stat = path.stat()
            except OSError:
                continue
            out.append(Entry(path, stat.st_size, stat.st_mtime))
        return sorted(out, key=lambda e: e.used, reverse=True)

    def trim(self) -> list[Path]:
        """Remove the least recently used entries beyond the size limit; the paths removed."""
        removed, total = [], 0
        for entry in self.entries():
            total += entry.size
            if total > self.max_bytes:
                try:
                    entry.path.unlink()
                    removed.append(entry.path)
                except OSError:
                    pass
        return removed

    def clear(self) -> tuple[int, int]:
        """Remove every entry; (entries, bytes) removed."""
        count = size = 0
        for entry in self.entries():
            try:
                entry.path.unlink()
            except OSError:
                continue
            count += 1
            size += entry.size
        return count, size


def describe(cache: Cache | None) -> str:
    """``flowsim cache info``: where the cache is, how many entries, how large."""
    if cache is None:
        return "the warm-start cache is off (FLOWSIM_CACHE=off)"
    entries = cache.entries()
    total = sum(e.size for e in entries)
    lines = [
        f"warm-start cache: {cache.folder}",
        f"  {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {total / 1e6:.1f} MB "
        f"(limit {cache.max_bytes / 1e9:g} GB; least recently used removed first)",
    ]
    for entry in entries[:10]:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.used))
        name = entry.path.name[:16]
        lines.append(f"  {name}...  {entry.size / 1e6:8.1f} MB  last used {when}")
    if len(entries) > 10:
        lines.append(f"  ... and {len(entries) - 10} more")
    lines.append("Safe to delete at any time: `flowsim cache clear`.")
    return "\n".join(lines)
