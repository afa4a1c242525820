"""Outputs by city and field, and links between cities, add up to the region-wide outputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flowsim.flows import CHANNELS
from flowsim.geography import CITIES
from flowsim.model import BY_CITY_TABLE, FlowModel
from flowsim.params import Scenario
from flowsim.results import read_run, write_run
from flowsim.run import run
from flowsim.tally import BY_CITY_COUNTERS, BY_CITY_GAUGES, LINK_KINDS, RowCounts

SMALL = Scenario(scale=0.02, steps=30, warmup_steps=24)  # 2.5 years: a partial year too
MONEY = {"licence_fees", "vc_volume", "guidance_coinvestment", "vc_written_off"}
MONEY |= {"commercialized_value", "capital_held", "capital_invested"}


@pytest.fixture(scope="module")
def result():
    return run(SMALL, seed=11)


def _by_city_totals(result) -> pd.DataFrame:
    return result.by_city.groupby(["year", "output"], observed=True)["value"].sum().unstack()


def _link_totals(result, measure: str = "count") -> pd.DataFrame:
    """Links between two Bay Area cities (those with CN or ROW left out: docs/open_region.md)."""
    links = result.links
    inside = links["origin"].astype(str).isin(CITIES) & links["destination"].astype(str).isin(
        CITIES
    )
    links = links[inside].groupby(["year", "kind"], observed=True)[measure].sum().unstack()
    return links.reindex(columns=list(LINK_KINDS), fill_value=0.0).fillna(0.0)


def test_every_counter_adds_up_to_the_region_every_year(result):
    totals = _by_city_totals(result)
    yearly = result.yearly.set_index("year")
    assert len(yearly) == 3, "2.5 years: two full years and a partial one"
    for output in BY_CITY_COUNTERS:
        if output == "papers":
            continue
        region = yearly[output].to_numpy()
        cities = totals[output].reindex(yearly.index).to_numpy()
        if output in MONEY:
            np.testing.assert_allclose(cities, region, rtol=1e-9, err_msg=output)
        else:
            assert np.array_equal(cities, region), f"{output}: cities {cities} != region {region}"
    assert yearly["pct_applications"].sum() > 0 and yearly["vc_deals"].sum() > 0, "outputs exist"


def test_stocks_add_up_at_each_year_end(result):
    totals = _by_city_totals(result)
    yearly = result.yearly.set_index("year")
    for output in BY_CITY_GAUGES:
        cities = totals[output].reindex(yearly.index).to_numpy()
        np.testing.assert_allclose(cities, yearly[output].to_numpy(), rtol=1e-9, err_msg=output)


def test_papers_use_whole_counting(result):
    # a paper counts once in each city with an author: the cities' papers are the region's
    # plus one more for every co-authored paper between two distinct cities
    totals = _by_city_totals(result)["papers"]
    yearly = result.yearly.set_index("year")["papers"]
    coauthored = _link_totals(result)["coauthored_papers"]
    assert coauthored.sum() > 0, "some papers are co-authored across cities"
    assert np.array_equal(totals.to_numpy(), (yearly + coauthored).to_numpy()), (
        f"whole counting: {totals.to_numpy()} != {yearly.to_numpy()} + {coauthored.to_numpy()}"
    )


def test_links_agree_with_the_counters(result):
    links = _link_totals(result)
    volume = _link_totals(result, "volume")
    ts = result.timeseries.groupby("year")
    # links between two cities: rounds led from CN or ROW are linked to them, not to a city
    expect = {
        "collaborations": ts["projects_with_collaborator"].sum(),
        "licences": ts["licences"].sum(),
        "vc_deals": ts["vc_deals"].sum() - ts["vc_deals_inward"].sum(),
        "job_moves": ts["researcher_moves"].sum(),
        "visits": ts["visits"].sum(),
    }
    for kind, counter in expect.items():
        assert np.array_equal(links[kind].to_numpy(), counter.to_numpy()), kind
    np.testing.assert_allclose(
        volume["vc_deals"], ts["vc_volume"].sum() - ts["vc_volume_inward"].sum(), rtol=1e-9
    )
    np.testing.assert_allclose(volume["licences"], ts["licence_fees"].sum(), rtol=1e-9)


def test_coauthored_papers_never_exceed_either_citys_papers(result):
    papers = result.by_city[result.by_city["output"] == "papers"].set_index(
        ["year", "city", "field"]
    )["value"]
    co = result.links[
        (result.links["kind"] == "coauthored_papers")
        & result.links["destination"].astype(str).isin(CITIES)
    ]
    assert len(co) > 0 and (co["origin"] != co["destination"]).all(), "distinct author cities"
    pair = co.groupby(["year", "origin", "destination", "field"], observed=True)["count"].sum()
    for (year, origin, destination, field), n in pair.items():
        assert n <= papers[(year, origin, field)], f"{origin}->{destination} {field} {year}"
        assert n <= papers[(year, destination, field)], f"{origin}->{destination} {field} {year}"


def test_flows_are_split_by_channel(result):
    # the region's flows: the funds' investment in CN and ROW leaves it (vc_volume_outward)
    flows = result.flows
    outward = flows["destination"].astype(str).isin(("CN", "ROW"))
    ts = result.timeseries
    out = flows[outward & (flows["channel"] == "vc_round")]["volume"].sum()
    np.testing.assert_allclose(out, ts["vc_volume_outward"].sum(), rtol=1e-9)
    flows = flows[~outward | (flows["channel"] != "vc_round")]
    by = (
        flows.groupby("channel", observed=True)[["count", "volume", "refusals"]]
        .sum()
        .reindex([name for _, name in CHANNELS], fill_value=0.0)
    )
    # job moves within the region, and researchers arriving from and leaving for CN and ROW
    moves = ts[["researcher_moves", "researcher_arrivals", "researcher_departures"]].sum().sum()
    assert by.loc["job_move", "count"] == moves
    assert by.loc["visit", "count"] == ts["visits"].sum()
    assert by.loc["vc_round", "count"] == ts["vc_deals"].sum()
    assert by.loc["licence_fee", "count"] == ts["licences"].sum()
    np.testing.assert_allclose(by.loc["licence_fee", "volume"], ts["licence_fees"].sum())
    np.testing.assert_allclose(
        by.loc["vc_round", "volume"] + by.loc["guidance_coinvestment", "volume"],
        ts["vc_volume"].sum(),
        err_msg="a round's money: the investor's part plus the private money it mobilised",
    )
    np.testing.assert_allclose(
        by.loc["guidance_coinvestment", "volume"], ts["guidance_coinvestment"].sum()
    )
    assert by.loc["data_request", "count"] + by.loc["data_request", "refusals"] == (
        ts["data_requests"].sum()
    )
    pairs = set(zip(flows["element"].astype(str), flows["channel"].astype(str), strict=True))
    assert pairs <= set(CHANNELS), f"each channel belongs to its element: {pairs - set(CHANNELS)}"
    assert {"job_move", "visit", "collaboration", "vc_round"} <= {c for _, c in pairs}


def test_mesa_table_holds_the_by_city_outputs():
    model = FlowModel(Scenario(scale=0.02, steps=3, warmup_steps=2), rng=5)
    for _ in range(3):
        model.step()
    table = model.datacollector.get_table_dataframe(BY_CITY_TABLE)
    assert len(table) == 3 * 11 * 7, "one row per step, city and field (six fields and `any`)"
    ts = model.datacollector.get_model_vars_dataframe()
    per_step = table.groupby("step")[["pct_applications", "startups", "researchers"]].sum()
    for output in per_step.columns:
        np.testing.assert_allclose(per_step[output].to_numpy(), ts[output].to_numpy())


def test_results_folder_holds_by_city_and_links(tmp_path, result):
    other = run(SMALL, seed=12)
    folder = read_run(write_run([result, other], SMALL, tmp_path / "out"))
    assert set(folder.by_city["replicate"]) == {0, 1}
    assert list(folder.by_city.columns) == [
        "replicate",
        "seed",
        "year",
        "city",
        "field",
        "output",
        "value",
    ]
    assert list(folder.links.columns) == [
        "replicate",
        "seed",
        "year",
        "kind",
        "origin",
        "destination",
        "field",
        "count",
        "volume",
    ]
    assert "channel" in folder.flows.columns
    # summary.json: the mean over the two replicates per (year, city, field, output)
    summary = pd.DataFrame(folder.summary["by_city"])
    row = summary[(summary.city == "Shenzhen") & (summary.output == "pct_applications")]
    row = row[row.year == SMALL.start_year].set_index("field")["value"]
    both = folder.by_city[
        (folder.by_city.city == "Shenzhen")
        & (folder.by_city.output == "pct_applications")
        & (folder.by_city.year == SMALL.start_year)
    ]
    mean = both.groupby("field", observed=True)["value"].sum() / 2
    mean = mean[mean != 0]
    np.testing.assert_allclose(row.reindex(mean.index.astype(str)).to_numpy(), mean.to_numpy())


@pytest.mark.parametrize("dtype, absent", [(np.uint8, 255), (np.int16, -1)])
def test_row_counts_follow_changed_and_added_rows_exactly(dtype, absent):
    rng = np.random.default_rng(21)
    counter = RowCounts(30)
    keys = rng.integers(0, 30, 4000).astype(dtype)
    for month in range(8):
        keys = keys.copy()
        keys[rng.choice(keys.size, 100, replace=False)] = rng.integers(0, 30, 100)
        keys[rng.choice(keys.size, 20, replace=False)] = absent
        keys = np.concatenate((keys, rng.integers(0, 30, 50).astype(dtype)))
        want = np.bincount(keys[keys != absent].astype(np.int64), minlength=30)
        got = counter.update(keys)
        assert np.array_equal(got, want), f"month {month}: {got} != a full count {want}"
    assert np.array_equal(
        counter.update(keys[:100].copy()),
        np.bincount(keys[:100][keys[:100] != absent].astype(np.int64), minlength=30),
    ), "fewer rows: a full count"
