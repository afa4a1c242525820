"""The dashboard's difference views (map, by city / field) and its report button's brief."""

from __future__ import annotations

import re

import pytest
from run_folders import POLICY, run_replicates, tiny_scenario

from flowsim.cells import margins, read_tables
from flowsim.dashboard import views
from flowsim.numbers import format_percent, format_value


@pytest.fixture(scope="module")
def pair():
    reference = tiny_scenario("baseline")
    current = tiny_scenario("current", **POLICY)
    return run_replicates(current), current, run_replicates(reference), reference


def test_city_differences_are_compares_cells(pair):
    current, _, reference, _ = pair
    by_city, by_field = views.city_differences(current, reference)
    expected_city, expected_field = margins(
        [read_tables("reference", reference), read_tables("current", current)],
        views.DEFAULT_OUTPUTS,
    )
    assert by_city["diff"].tolist() == pytest.approx(expected_city["diff"].tolist())
    assert by_field["p_adjusted"].tolist() == pytest.approx(expected_field["p_adjusted"].tolist())
    # current - reference, never levels
    row = by_city.iloc[0]
    assert row["diff"] == pytest.approx(row["mean"] - row["reference_mean"])


def test_difference_grid_marks_significant_cells(pair):
    current, _, reference, _ = pair
    by_city, _ = views.city_differences(current, reference)
    marked = by_city.copy()
    marked["significant"] = False
    marked.loc[marked.index[0], "significant"] = True
    grid = views.difference_grid(marked, "city")
    first = marked.iloc[0]
    cell = grid.loc[grid["city"] == first["city"], first["output"]].item()
    assert cell == f"{format_percent(float(first['diff_pct']))} *"
    assert sum(str(v).endswith(" *") for v in grid.drop(columns="city").to_numpy().ravel()) == 1
    html = views.html_table(grid, "by-city-diff", key="city")
    assert f'data-key="{first["city"]}"' in html


def test_report_button_brief_has_the_pages_numbers(pair):
    current, scenario, reference, reference_scenario = pair
    text = views.report_html(current, scenario, reference, reference_scenario).decode("utf-8")
    assert text.startswith("<!DOCTYPE html>")
    diff = views.difference_table(current, reference)
    shown = dict(re.findall(r'data-output="([a-z_]+)" data-diff="[^"]+">([^<]+)<', text))
    row = diff.set_index("output").loc["papers"]
    assert shown["papers"] == format_value("papers", row["difference"], difference=True)
    assert "current against baseline" in text
