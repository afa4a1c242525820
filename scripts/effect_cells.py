"""What the scripts that print policy effects share: the headline outputs, percent cells, CSVs.

Imported by ``scripts/policy_table.py``, ``scripts/scenario_effects.py`` and
``scripts/analyst_question.py`` (each puts the scripts folder on ``sys.path`` first: the
folder is not a package, and tests load the scripts by path).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pandas as pd

from flowsim.explain import HEADLINE

COUNTS: tuple[str, ...] = tuple(o for o in HEADLINE if o != "commercialized_value")
"""Headline counts (ten-year or yearly totals)."""

OUTPUTS: tuple[str, ...] = (*COUNTS, "cross_border_collaboration_share")
"""The README's policy table's outputs: the counts, then a share (a mean)."""


def pct(value: float, base: float) -> float:
    """``value`` in percent of ``base``; NaN where ``base`` is 0."""
    return 100.0 * value / base if base else math.nan


def signed(value: float, digits: int = 1) -> str:
    """``value`` with its sign, e.g. ``+1.2``."""
    return f"{value:+.{digits}f}"


def cell(effect: float, low: float, high: float, digits: int = 1) -> str:
    """An effect with its interval, ``+1.2 [-0.3, +2.7]``."""
    return f"{signed(effect, digits)} [{signed(low, digits)}, {signed(high, digits)}]"


def write_csvs(folder: Path, prefix: str, frames: dict[str, pd.DataFrame]) -> None:
    """Write each frame to ``folder/<prefix>_<name>.csv`` (no index), making the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in frames.items():
        frame.to_csv(folder / f"{prefix}_{name}.csv", index=False)


def flowsim_command(*args: str) -> list[str]:
    """The command line of ``flowsim ARGS`` with this interpreter."""
    return [sys.executable, "-m", "flowsim.cli", *args]
