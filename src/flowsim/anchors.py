"""Named anchors: the Bay Area's largest innovators as agents with sourced figures.

``flowsim/data/anchors.csv`` lists the biggest PCT filers headquartered in the Bay Area
and its leading universities, one figure a row (``staff``: researchers; ``pct``: PCT
applications a year; ``papers``: papers a year), each with its year and source or the
assumption behind it. ``flowsim/data/pct_totals.csv`` gives each jurisdiction's PCT
applications in the same year, the yardstick of the firms' shares.

:func:`flowsim.setup.build_world` makes every anchor one agent (a firm or a lab) of its
city and field with its staff times the scale (at least one researcher: the scale never
shrinks a named agent away), and draws synthetic agents for the rest of each city's
figures. An anchor firm's PCT propensity is set by :func:`pct_propensities` so that its
share of its jurisdiction's PCT filings is the real share; the synthetic firms' mean
propensity falls by as much, so each jurisdiction's expected filings stay as they were.
The agents' ``anchor`` column is the anchor's row here, -1 for a synthetic agent; the
names are :attr:`Anchors.names`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

from flowsim.geography import CITIES, FIELDS, JURISDICTIONS

ANCHOR_FILE = "anchors.csv"
PCT_TOTALS_FILE = "pct_totals.csv"
KINDS: tuple[str, ...] = ("lab", "firm")
"""Anchor kinds; the number is the employer kind (:data:`flowsim.employment.LAB`, ``FIRM``)."""
FIGURES: tuple[str, ...] = ("staff", "pct", "papers")
"""Figures an anchor may have: researchers, PCT applications a year, papers a year."""


class AnchorDataError(ValueError):
    """A row of the anchors' files that cannot be read."""


@dataclass(frozen=True)
class Anchors:
    """The named anchors, one entry per anchor, in file order.

    Attributes:
        names: each anchor's name.
        kind: 0 lab, 1 firm (:data:`KINDS`).
        city: city number.
        field: field number (a firm's sector).
        staff: researchers (real-world persons).
        pct: PCT applications a year (real world; NaN where none is given).
        papers: papers a year (real world; NaN where none is given).
        pct_totals: PCT applications a year of each jurisdiction (GD, HK, MO).
        sources: ``(name, figure) -> source`` for every figure.
    """

    names: tuple[str, ...]
    kind: np.ndarray
    city: np.ndarray
    field: np.ndarray
    staff: np.ndarray
    pct: np.ndarray
    papers: np.ndarray
    pct_totals: np.ndarray
    sources: dict[tuple[str, str], str]

    def __len__(self) -> int:
        return len(self.names)


def _rows(name: str) -> list[tuple[int, dict[str, str]]]:
    text = resources.files("flowsim.data").joinpath(name).read_text(encoding="utf-8")
    return list(enumerate(csv.DictReader(text.splitlines()), start=2))


def _choice(name: str, line: int, key: str, value: str, allowed: tuple[str, ...]) -> int:
    if value not in allowed:
        raise AnchorDataError(
            f"{name} line {line}: {key} {value!r} is not one of {', '.join(allowed)}; "
            "correct the row"
        )
    return allowed.index(value)


def _number(name: str, line: int, key: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or number < 0:
        raise AnchorDataError(
            f"{name} line {line}: {key} {value!r} is not a number >= 0; correct the row"
        )
    return number


@cache
def load_anchors() -> Anchors:
    """Read the shipped anchors and PCT totals (cached; arrays read-only).

    Raises:
        AnchorDataError: a row names an unknown kind, city, field or figure, a value is not
            a number >= 0, a figure has no source, an anchor lacks its staff, or one name
            is given two kinds, cities or fields.
    """
    order: list[str] = []
    where: dict[str, tuple[int, int, int]] = {}
    values: dict[str, dict[str, float]] = {}
    sources: dict[tuple[str, str], str] = {}
    for line, row in _rows(ANCHOR_FILE):
        name = row["name"].strip()
        kind = _choice(ANCHOR_FILE, line, "kind", row["kind"], KINDS)
        city = _choice(ANCHOR_FILE, line, "city", row["city"], CITIES)
        field = _choice(ANCHOR_FILE, line, "field", row["field"], FIELDS)
        figure = row["figure"]
        _choice(ANCHOR_FILE, line, "figure", figure, FIGURES)
        if not row["source"].strip():
            raise AnchorDataError(
                f"{ANCHOR_FILE} line {line}: {name} {figure} has no source; give one or "
                "'assumption: ...' with the reasoning"
            )
        if name not in where:
            order.append(name)
            where[name] = (kind, city, field)
            values[name] = {}
        elif where[name] != (kind, city, field):
            raise AnchorDataError(
                f"{ANCHOR_FILE} line {line}: {name} has another kind, city or field than on "
                "its first row; one anchor has one of each"
            )
        values[name][figure] = _number(ANCHOR_FILE, line, "value", row["value"])
        sources[(name, figure)] = row["source"]
    missing = [name for name in order if "staff" not in values[name]]
    if missing:
        raise AnchorDataError(f"{ANCHOR_FILE}: no staff row for {', '.join(missing)}")
    totals = np.full(len(JURISDICTIONS), math.nan)
    for line, row in _rows(PCT_TOTALS_FILE):
        j = _choice(PCT_TOTALS_FILE, line, "jurisdiction", row["jurisdiction"], JURISDICTIONS)
        totals[j] = _number(PCT_TOTALS_FILE, line, "value", row["value"])
    if np.isnan(totals).any():
        raise AnchorDataError(f"{PCT_TOTALS_FILE}: needs one row for each of GD, HK, MO")

    def column(get, dtype) -> np.ndarray:
        array = np.array([get(name) for name in order], dtype=dtype)
        array.flags.writeable = False
        return array

    totals.flags.writeable = False
    return Anchors(
        names=tuple(order),
        kind=column(lambda n: where[n][0], np.int8),
        city=column(lambda n: where[n][1], np.int8),
        field=column(lambda n: where[n][2], np.int8),
        staff=column(lambda n: values[n]["staff"], np.float64),
        pct=column(lambda n: values[n].get("pct", math.nan), np.float64),
        papers=column(lambda n: values[n].get("papers", math.nan), np.float64),
        pct_totals=totals,
        sources=sources,
    )


def pct_propensities(
    anchor_staff: np.ndarray,
    anchor_pct_share: np.ndarray,
    anchor_jurisdiction: np.ndarray,
    firm_researchers: np.ndarray,
    firm_invention_share: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """PCT propensities of the anchor firms and the synthetic firms' multiplier (pure core).

    A firm's expected PCT filings are proportional to its researchers times its propensity
    (mean 1 over the synthetic firms). An anchor with ``anchor_pct_share`` of its
    jurisdiction's filings, of which firms make ``firm_invention_share``, gets the
    propensity that gives it that share of the firms' filings; the synthetic firms' mean
    propensity is multiplied by what keeps the jurisdiction's total as it was.

    Args:
        anchor_staff: researchers of each anchor firm (model units).
        anchor_pct_share: each anchor's real PCT filings over its jurisdiction's.
        anchor_jurisdiction: jurisdiction number of each anchor.
        firm_researchers: firm researchers of each jurisdiction, anchors included.
        firm_invention_share: share of each jurisdiction's inventions made in firms.

    Returns:
        (propensity of each anchor, multiplier of each jurisdiction's synthetic firms).

    Raises:
        ValueError: the anchors of a jurisdiction would file all its applications or more,
            or employ all its firm researchers.
    """
    staff = np.asarray(anchor_staff, dtype=np.float64)
    jur = np.asarray(anchor_jurisdiction, dtype=np.int64)
    n_j = len(firm_researchers)
    firm_share = np.asarray(anchor_pct_share, dtype=np.float64) / np.maximum(
        np.asarray(firm_invention_share, dtype=np.float64)[jur], 1e-12
    )
    researchers = np.asarray(firm_researchers, dtype=np.float64)
    propensity = firm_share * researchers[jur] / np.maximum(staff, 1.0)
    taken = np.bincount(jur, weights=firm_share, minlength=n_j)
    anchored = np.bincount(jur, weights=staff, minlength=n_j)
    bad = (taken >= 1.0) | ((anchored >= researchers) & (taken > 0))
    if bad.any():
        names = ", ".join(JURISDICTIONS[j] for j in np.flatnonzero(bad))
        raise ValueError(
            f"the anchor firms of {names} would file all of its PCT applications or employ all "
            f"of its firm researchers; lower their figures in {ANCHOR_FILE} or raise the scale"
        )
    rest = researchers - anchored
    multiplier = np.where(rest > 0, (1.0 - taken) * researchers / np.maximum(rest, 1.0), 1.0)
    return propensity, multiplier
