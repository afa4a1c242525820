"""Geography: 11 cities in 3 jurisdictions, symmetric travel times, corridors, zones, sources."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np

from flowsim.geography import (
    CITIES,
    CORRIDORS,
    DOMESTIC,
    JURISDICTIONS,
    ZONES,
    corridor_name,
    load_geography,
)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("flowsim.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_eleven_cities_in_three_jurisdictions():
    geo = load_geography()
    assert len(CITIES) == 11, f"the GBA has 11 cities, got {len(CITIES)}"
    assert JURISDICTIONS == ("GD", "HK", "MO"), f"jurisdictions are GD, HK, MO, got {JURISDICTIONS}"
    by_jurisdiction = np.bincount(geo.city_jurisdiction, minlength=3)
    assert by_jurisdiction.tolist() == [9, 1, 1], (
        f"9 Guangdong cities, HK, Macao; got {by_jurisdiction}"
    )
    assert geo.city_jurisdiction[CITIES.index("Hong Kong")] == 1, "Hong Kong is in jurisdiction HK"
    assert geo.city_jurisdiction[CITIES.index("Macao")] == 2, "Macao is in jurisdiction MO"


def test_travel_matrix_is_symmetric_positive_and_complete():
    t = load_geography().travel_minutes
    assert t.shape == (11, 11), f"travel matrix must be 11 x 11, got {t.shape}"
    assert np.array_equal(t, t.T), "travel times must be symmetric"
    assert np.isfinite(t).all() and (t > 0).all(), (
        "every pair (and every city to itself) needs a positive time"
    )
    west_kowloon_futian = t[CITIES.index("Hong Kong"), CITIES.index("Shenzhen")]
    assert west_kowloon_futian < t[CITIES.index("Hong Kong"), CITIES.index("Guangzhou")], (
        "Hong Kong is closer to Shenzhen than to Guangzhou by rail"
    )


def test_corridors_cover_exactly_the_cross_jurisdiction_pairs():
    geo = load_geography()
    jur = geo.city_jurisdiction
    same = jur[:, None] == jur[None, :]
    assert (geo.corridor[same] == DOMESTIC).all(), "pairs inside a jurisdiction have no corridor"
    assert (geo.corridor[~same] >= 0).all(), "every cross-jurisdiction pair has a corridor"
    assert np.array_equal(geo.corridor, geo.corridor.T), "a corridor is the same in both directions"
    hk, mo, sz = CITIES.index("Hong Kong"), CITIES.index("Macao"), CITIES.index("Shenzhen")
    assert CORRIDORS[geo.corridor[sz, hk]] == "GD-HK", "Shenzhen-Hong Kong is on GD-HK"
    assert CORRIDORS[geo.corridor[sz, mo]] == "GD-MO", "Shenzhen-Macao is on GD-MO"
    assert CORRIDORS[geo.corridor[hk, mo]] == "HK-MO", "Hong Kong-Macao is on HK-MO"
    assert corridor_name("HK", "GD") == "GD-HK", "corridor names do not depend on direction"
    assert corridor_name("GD", "GD") is None, "no corridor inside a jurisdiction"


def test_zones_sit_in_their_cities_and_cover_border_corridors():
    geo = load_geography()
    expected = {
        "Hetao": "Shenzhen",
        "Qianhai": "Shenzhen",
        "Hengqin": "Zhuhai",
        "Nansha": "Guangzhou",
    }
    for z, zone in enumerate(ZONES):
        assert CITIES[geo.zone_city[z]] == expected[zone], f"{zone} is in {expected[zone]}"
        assert geo.zone_corridors[z].any(), f"{zone} must cover at least one corridor"
        assert 0 < geo.zone_population_share[z] < 1, f"{zone}'s population share must be in (0, 1)"
    hengqin = ZONES.index("Hengqin")
    assert geo.zone_corridors[hengqin].tolist() == [False, True, False], "Hengqin covers only GD-MO"


def test_every_figure_has_a_source():
    for name in ("cities.csv", "travel_times.csv", "zones.csv"):
        for line, row in enumerate(_rows(name), start=2):
            assert row["source"].strip(), f"{name}:{line} has no source or assumption: {row}"
    geo = load_geography()
    for city in CITIES:
        for figure in geo.figures:
            assert geo.sources.get((city, figure), "").strip(), f"{city} {figure} lacks a source"


def test_city_figures_are_complete_and_anchor_on_the_brief():
    geo = load_geography()
    for figure, values in geo.figures.items():
        assert np.isfinite(values).all(), f"figure {figure!r} is missing for some city"
        assert (values >= 0).all(), f"figure {figure!r} must not be negative"
    gz, sz = CITIES.index("Guangzhou"), CITIES.index("Shenzhen")
    assert geo.figures["researchers"][gz] == 278_700, (
        "Guangzhou's R&D personnel are 278,700 (2022 yearbook)"
    )
    assert geo.figures["gerd"][sz] == 1328.3, "Shenzhen's 2019 GERD is 1,328.3 (100m yuan)"
    assert geo.figures["fund_managers"][sz] == 1772, (
        "Shenzhen has 1,772 equity fund managers (Zero2IPO 2023)"
    )
    km = geo.distance_km()
    assert 90 < km[gz, sz] < 120, f"Guangzhou-Shenzhen is ~105 km apart, got {km[gz, sz]:.0f}"


def test_geography_arrays_are_read_only():
    geo = load_geography()
    try:
        geo.travel_minutes[0, 0] = 1.0
    except ValueError:
        return
    raise AssertionError(
        "the cached geography must be read-only so that no run can alter another's"
    )
