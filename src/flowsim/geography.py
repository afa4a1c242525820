"""Places: the 11 cities, 3 jurisdictions, 3 border corridors and 4 cooperation zones.

The figures live in ``flowsim/data/*.csv``; every figure there carries its
source or the assumption behind it. This module turns them into arrays that the
mechanisms index by city number (the order of :data:`CITIES`).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

import numpy as np

JURISDICTIONS: tuple[str, ...] = ("GD", "HK", "MO")
"""Guangdong (mainland), Hong Kong SAR, Macao SAR."""

CITIES: tuple[str, ...] = (
    "Guangzhou",
    "Shenzhen",
    "Zhuhai",
    "Foshan",
    "Huizhou",
    "Dongguan",
    "Zhongshan",
    "Jiangmen",
    "Zhaoqing",
    "Hong Kong",
    "Macao",
)
"""The 11 cities of the Greater Bay Area; a city's number is its index here."""

CORRIDORS: tuple[str, ...] = ("GD-HK", "GD-MO", "HK-MO")
"""The three internal borders; a corridor's number is its index here."""

ELEMENTS: tuple[str, ...] = ("talent", "capital", "data", "samples")
"""The four flow elements that cross borders."""

FIELDS: tuple[str, ...] = (
    "biomedicine",
    "ict",
    "ai_data",
    "advanced_manufacturing",
    "new_materials",
    "energy_environment",
)
"""Research fields (and firm sectors); a field's number is its index here."""

INPUT_ELEMENTS: tuple[str, ...] = ("data", "samples")
"""Elements a research project may need as an input (rows of ``Geography.input_quality``)."""

ZONES: tuple[str, ...] = ("Hetao", "Qianhai", "Hengqin", "Nansha")
"""Cooperation zones; agents have zone number -1 outside every zone."""

DOMESTIC = -1
"""Corridor number of a flow that stays inside one jurisdiction."""

EXTERNALS: tuple[str, ...] = ("CN", "ROW")
"""External places (docs/open_region.md): the rest of mainland China and the rest of the
world. Aggregates, not agents: partners, sources and destinations of the Bay Area's flows,
each its own jurisdiction for the rule language."""

PLACES: tuple[str, ...] = CITIES + EXTERNALS
"""Every end a flow can have: the cities (numbers 0-10), then the external places (11, 12).
The flow ledger and the links are indexed by place number."""

BORDER_JURISDICTIONS: tuple[str, ...] = JURISDICTIONS + EXTERNALS
"""Jurisdictions of the rule language: the Bay Area's three, then the external places."""

EXTERNAL_CORRIDORS: tuple[str, ...] = ("CN-HK", "CN-MO", "ROW-GD", "ROW-HK", "ROW-MO")
"""Borders between an external place and the Bay Area (none between CN and GD)."""

ALL_CORRIDORS: tuple[str, ...] = CORRIDORS + EXTERNAL_CORRIDORS
"""The internal corridors, then the external ones; numbers of :attr:`Geography.place_corridor`."""

NO_BORDER: frozenset[frozenset[str]] = frozenset({frozenset({"CN", "GD"})})
"""Pairs of jurisdictions with no border between them (the rest of the mainland and Guangdong)."""


def place_corridor_name(jurisdiction_a: str, jurisdiction_b: str) -> str | None:
    """Name of the corridor between two jurisdictions of the rule language, None without one.

    None inside one jurisdiction, between CN and GD, and between CN and ROW (a flow the
    model never makes: both ends outside the Bay Area).
    """
    pair = frozenset({jurisdiction_a, jurisdiction_b})
    if jurisdiction_a == jurisdiction_b or pair in NO_BORDER or pair == {"CN", "ROW"}:
        return None
    for name in ALL_CORRIDORS:
        if set(name.split("-")) == pair:
            return name
    raise ValueError(f"no corridor between {jurisdiction_a!r} and {jurisdiction_b!r}")


def corridor_name(jurisdiction_a: str, jurisdiction_b: str) -> str | None:
    """Name of the corridor between two jurisdictions, or None inside one."""
    if jurisdiction_a == jurisdiction_b:
        return None
    pair = {jurisdiction_a, jurisdiction_b}
    for name in CORRIDORS:
        if set(name.split("-")) == pair:
            return name
    raise ValueError(f"no corridor between {jurisdiction_a!r} and {jurisdiction_b!r}")


@dataclass(frozen=True)
class Geography:
    """City attributes and the pairwise matrices the mechanisms use.

    Attributes:
        city_jurisdiction: jurisdiction number of each city, shape (11,).
        lat, lon: city centres in degrees.
        figures: real-world city figures by name (researchers, firms, ...), each shape (11,).
            ``researchers`` is the R&D personnel of ``cities.csv`` plus its
            ``university_researchers`` (kept as ``rd_personnel``); ``public_research_share``
            is the public share of that total, and ``public_spending_share`` the public share
            of R&D spending (the file's ``public_research_share``).
        travel_minutes: door-to-door travel time between city centres, shape (11, 11).
        corridor: corridor number for each city pair, ``DOMESTIC`` (-1) inside a jurisdiction.
        zone_city: city number of each zone.
        zone_corridors: boolean (zones, corridors): which corridors a zone's rules cover.
        zone_population_share: share of its city's agents located in each zone.
        zone_area_km2: area of each zone [km2].
        field_mix: ``"labs"`` / ``"firms"`` -> share of each field per city, shape (11, fields)
            (``field_mix.csv``, one source or assumption per city).
        input_quality: quality of the best data (row 0) and samples (row 1) available in each
            jurisdiction, per field, shape (2, 3, fields), in [0, 1] (``input_quality.csv``).
        sources: ``(city, figure) -> source`` for every city figure.
    """

    city_jurisdiction: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    figures: dict[str, np.ndarray]
    travel_minutes: np.ndarray
    corridor: np.ndarray
    zone_city: np.ndarray
    zone_corridors: np.ndarray
    zone_population_share: np.ndarray
    zone_area_km2: np.ndarray
    field_mix: dict[str, np.ndarray]
    input_quality: np.ndarray
    sources: dict[tuple[str, str], str]

    @cached_property
    def place_jurisdiction(self) -> np.ndarray:
        """Jurisdiction of each place (:data:`PLACES`) in :data:`BORDER_JURISDICTIONS`, (13,)."""
        out = np.concatenate(
            [self.city_jurisdiction, np.arange(len(EXTERNALS)) + len(JURISDICTIONS)]
        ).astype(np.int8)
        out.flags.writeable = False
        return out

    @cached_property
    def place_corridor(self) -> np.ndarray:
        """Corridor number (:data:`ALL_CORRIDORS`) of each pair of places, -1 without a border.

        Shape (13, 13); the cities' block equals :attr:`corridor`.
        """
        jur = self.place_jurisdiction
        n = jur.size
        out = np.full((n, n), DOMESTIC, dtype=np.int8)
        names = [BORDER_JURISDICTIONS[j] for j in jur]
        for a in range(n):
            for b in range(n):
                name = place_corridor_name(names[a], names[b])
                if name is not None:
                    out[a, b] = ALL_CORRIDORS.index(name)
        out.flags.writeable = False
        return out

    @property
    def n_cities(self) -> int:
        """Number of cities."""
        return len(CITIES)

    def distance_km(self) -> np.ndarray:
        """Great-circle distance between city centres in km, shape (11, 11)."""
        lat = np.radians(self.lat)
        lon = np.radians(self.lon)
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        h = (
            np.sin(dlat / 2) ** 2
            + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
        )
        return 2 * 6371.0 * np.arcsin(np.sqrt(h))


def _add_university_researchers(
    figures: dict[str, np.ndarray], sources: dict[tuple[str, str], str]
) -> None:
    """Count research staff and research students of universities among the researchers.

    ``cities.csv`` gives R&D personnel per city (``researchers``) with a public share of
    R&D; ``university_researchers`` are the universities' academic staff and research
    postgraduates that this count leaves out (Hong Kong's and Macao's; zero on the mainland,
    whose R&D statistics count them). They all work in labs.
    """
    rd = figures["researchers"]
    university = figures["university_researchers"]
    share = figures["public_research_share"]
    total = rd + university
    figures["rd_personnel"] = rd
    figures["public_spending_share"] = share
    figures["researchers"] = total
    figures["public_research_share"] = np.divide(
        rd * share + university, total, out=share.copy(), where=total > 0
    )
    for city in CITIES:
        sources[(city, "rd_personnel")] = sources[(city, "researchers")]
        sources[(city, "public_spending_share")] = sources[(city, "public_research_share")]
        sources[(city, "researchers")] = "derived: rd_personnel + university_researchers"
        sources[(city, "public_research_share")] = (
            "derived: (rd_personnel x public_spending_share + university_researchers) / researchers"
        )


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("flowsim.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def load_geography() -> Geography:
    """Load the shipped city, travel-time and zone tables (cached; the result is read-only)."""
    city_index = {c: i for i, c in enumerate(CITIES)}
    n = len(CITIES)
    jurisdiction = np.full(n, -1, dtype=np.int8)
    figures: dict[str, np.ndarray] = {}
    sources: dict[tuple[str, str], str] = {}
    for row in _read_csv("cities.csv"):
        i = city_index[row["city"]]
        jurisdiction[i] = JURISDICTIONS.index(row["jurisdiction"])
        sources[(row["city"], row["figure"])] = row["source"]
        if row["figure"] == "name_zh":
            continue
        figures.setdefault(row["figure"], np.full(n, math.nan))[i] = float(row["value"])
    if (jurisdiction < 0).any():
        missing = [CITIES[i] for i in np.flatnonzero(jurisdiction < 0)]
        raise ValueError(f"cities.csv lacks rows for {missing}")
    _add_university_researchers(figures, sources)

    travel = np.full((n, n), math.nan)
    for row in _read_csv("travel_times.csv"):
        a, b = city_index[row["origin"]], city_index[row["destination"]]
        travel[a, b] = travel[b, a] = float(row["minutes"])
    if np.isnan(travel).any():
        raise ValueError("travel_times.csv does not cover every pair of cities")

    corridor = np.full((n, n), -1, dtype=np.int8)
    for a in range(n):
        for b in range(n):
            name = corridor_name(JURISDICTIONS[jurisdiction[a]], JURISDICTIONS[jurisdiction[b]])
            if name is not None:
                corridor[a, b] = CORRIDORS.index(name)

    zone_city = np.zeros(len(ZONES), dtype=np.int8)
    zone_corridors = np.zeros((len(ZONES), len(CORRIDORS)), dtype=bool)
    zone_share = np.zeros(len(ZONES))
    zone_area = np.zeros(len(ZONES))
    for row in _read_csv("zones.csv"):
        z = ZONES.index(row["zone"])
        zone_city[z] = city_index[row["city"]]
        for name in row["corridors"].split(";"):
            zone_corridors[z, CORRIDORS.index(name)] = True
        zone_share[z] = float(row["population_share"])
        zone_area[z] = float(row["area_km2"])

    field_mix = {kind: np.full((n, len(FIELDS)), math.nan) for kind in ("labs", "firms")}
    for line, row in enumerate(_read_csv("field_mix.csv"), start=2):
        shares = np.array([float(row[f]) for f in FIELDS])
        if (shares < 0).any() or shares.sum() <= 0:
            raise ValueError(f"field_mix.csv line {line}: shares must be >= 0 and not all zero")
        field_mix[row["agents"]][city_index[row["city"]]] = shares / shares.sum()
        sources[(row["city"], f"field_mix_{row['agents']}")] = row["source"]
    for kind, mix in field_mix.items():
        if np.isnan(mix).any():
            raise ValueError(f"field_mix.csv lacks a {kind} row for some city")

    input_quality = np.full((len(INPUT_ELEMENTS), len(JURISDICTIONS), len(FIELDS)), math.nan)
    for line, row in enumerate(_read_csv("input_quality.csv"), start=2):
        e, f = INPUT_ELEMENTS.index(row["element"]), FIELDS.index(row["field"])
        for j, name in enumerate(JURISDICTIONS):
            q = float(row[name])
            if not 0.0 < q <= 1.0:
                raise ValueError(f"input_quality.csv line {line}: {name} must be in (0, 1]")
            input_quality[e, j, f] = q
        sources[(row["element"], row["field"])] = row["source"]
    if np.isnan(input_quality).any():
        raise ValueError("input_quality.csv does not cover every element x field")

    for array in (
        jurisdiction,
        travel,
        corridor,
        zone_city,
        zone_corridors,
        zone_share,
        zone_area,
        input_quality,
        *field_mix.values(),
        *figures.values(),
    ):
        array.flags.writeable = False
    return Geography(
        city_jurisdiction=jurisdiction,
        lat=figures.pop("lat"),
        lon=figures.pop("lon"),
        figures=figures,
        travel_minutes=travel,
        corridor=corridor,
        zone_city=zone_city,
        zone_corridors=zone_corridors,
        zone_population_share=zone_share,
        zone_area_km2=zone_area,
        field_mix=field_mix,
        input_quality=input_quality,
        sources=sources,
    )
