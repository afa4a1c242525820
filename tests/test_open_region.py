"""The open region (docs/open_region.md): CN and ROW, their borders, rules and co-authors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from flowsim import openregion
from flowsim.geography import (
    ALL_CORRIDORS,
    CITIES,
    CORRIDORS,
    EXTERNALS,
    FIELDS,
    PLACES,
    load_geography,
)
from flowsim.params import Scenario
from flowsim.policy import FlowKeys, compile_external, compile_policy, compile_rules, resolve
from flowsim.run import run
from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError

ROOT = Path(__file__).resolve().parents[1]
GEO = load_geography()
CN, ROW = PLACES.index("CN"), PLACES.index("ROW")
HK, SZ, MO = CITIES.index("Hong Kong"), CITIES.index("Shenzhen"), CITIES.index("Macao")
TALENT = 0
TINY = {"scale": 0.01, "steps": 12, "warmup_steps": 12}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\n{text}", encoding="utf-8")
    return path


def _run(seed: int = 1, **overrides):
    return run(Scenario(**TINY), seed=seed, overrides=overrides or None)


# ------------------------------------------------------------------ geography and borders


def test_borders_of_the_external_places():
    name = {
        (a, b): ALL_CORRIDORS[c] if (c := GEO.place_corridor[a, b]) >= 0 else None
        for a in range(len(PLACES))
        for b in range(len(PLACES))
    }
    assert name[(CN, SZ)] is None and name[(SZ, CN)] is None, "no border between CN and GD"
    assert name[(CN, HK)] == "CN-HK" and name[(MO, CN)] == "CN-MO"
    assert {name[(ROW, SZ)], name[(ROW, HK)], name[(MO, ROW)]} == {"ROW-GD", "ROW-HK", "ROW-MO"}
    n = len(CITIES)
    assert (GEO.place_corridor[:n, :n] == GEO.corridor).all(), "the cities' borders unchanged"


def test_cn_meets_hong_kong_at_the_baseline_gd_hk_border_and_row_its_own():
    p = Scenario().policy
    tables = compile_external(p, compile_policy(p, GEO, 1.0), 1.0)
    for e, element in enumerate(("talent", "capital", "data", "samples")):
        gd_hk = getattr(p.corridors.for_corridor("GD-HK"), element)
        cn_hk = ALL_CORRIDORS.index("CN-HK")
        assert tables.approval[0, e, cn_hk] == gd_hk.approval, element
        assert tables.delay_days[0, e, cn_hk] == gd_hk.delay_days, element
    row_hk = ALL_CORRIDORS.index("ROW-HK")
    assert tables.approval[0, 1, row_hk] > tables.approval[0, 1, ALL_CORRIDORS.index("ROW-GD")], (
        "capital leaves Hong Kong for the world more freely than it leaves Guangdong"
    )


def test_a_scenario_opening_gd_hk_leaves_cn_hk_at_its_default():
    p = Scenario(**{"policy": {"corridors": {"GD-HK": {"talent": {"approval": 1.0}}}}}).policy
    tables = compile_external(p, compile_policy(p, GEO, 1.0), 1.0)
    assert tables.approval[0, TALENT, 0] == 1.0
    assert tables.approval[0, TALENT, ALL_CORRIDORS.index("CN-HK")] == 0.85


# ------------------------------------------------------------------ rule language


def _friction(rules_yaml: list[dict], origin: int, destination: int) -> float:
    p = Scenario(policy={"rules": rules_yaml}).policy
    tables = compile_external(p, compile_policy(p, GEO, 1.0), 1.0)
    rules = compile_rules(p, GEO, 1.0)
    o, d = np.array([origin]), np.array([destination])
    f = resolve(
        tables,
        rules,
        TALENT,
        o,
        d,
        np.array([-1]),
        FlowKeys(),
        GEO.place_jurisdiction,
        GEO.place_corridor,
    )
    return float(f.approval[0])


@pytest.mark.parametrize(
    "rule",
    [
        {"element": "talent", "corridor": "ROW-HK", "approval": 0.2},
        {"element": "talent", "direction": "HK->ROW", "approval": 0.2},
        {"element": "talent", "to": "ROW", "approval": 0.2},
        {"element": "talent", "from": "Hong Kong", "to": ["ROW", "CN"], "approval": 0.2},
    ],
)
def test_a_rule_naming_an_external_border_sets_its_friction(rule):
    assert _friction([rule], HK, ROW) == 0.2, f"{rule} selects Hong Kong -> ROW"
    assert _friction([rule], HK, SZ) == 0.85, f"{rule} leaves Hong Kong -> Shenzhen alone"


def test_a_rule_naming_no_external_place_keeps_to_the_bay_areas_borders():
    rule = {"element": "talent", "approval": 0.2}
    assert _friction([rule], HK, SZ) == 0.2
    assert _friction([rule], HK, ROW) == 0.9, "ROW-HK keeps its own default"
    assert _friction([rule], HK, CN) == 0.85, "CN-HK keeps its own default"


def test_rules_for_the_external_places_load_from_yaml(tmp_path):
    path = _write(
        tmp_path,
        "policy:\n"
        "  external:\n"
        "    ROW-GD: {data: {approval: 0.5}}\n"
        "  rules:\n"
        "    - {element: data, direction: ROW->GD, delay_days: 10}\n"
        "    - {element: samples, from: CN, to: Hong Kong, approval: 1.0}\n",
    )
    scenario = load_scenario(path)
    assert scenario.policy.external.for_corridor("ROW-GD").data.approval == 0.5
    assert len(scenario.policy.rules) == 2


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("{element: talent, corridor: ROW-CN, approval: 1.0}", ["ROW-CN", "ROW-HK"]),
        ("{element: talent, to: CNN, approval: 1.0}", ["CNN", "'CN'"]),
        ("{element: talent, direction: GD->CN, approval: 1.0}", ["GD->CN", "allowed"]),
        (
            "{element: talent, corridor: CN-HK, direction: ROW->HK, approval: 1.0}",
            ["not on corridor CN-HK"],
        ),
    ],
)
def test_bad_external_names_are_clear_errors(tmp_path, line, words):
    path = _write(tmp_path, f"policy:\n  rules:\n    - {line}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    text = str(err.value)
    for word in words:
        assert word in text, f"the error names {word!r}: {text}"


def test_bad_external_corridor_in_policy_external_is_a_clear_error(tmp_path):
    path = _write(tmp_path, "policy:\n  external:\n    ROW-CN: {data: {approval: 0.5}}\n")
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert "ROW-CN" in str(err.value), str(err.value)


# ------------------------------------------------------------------ co-authors (pure core)


def test_coauthor_probability_is_the_share_at_baseline_and_grows_with_openness():
    share = np.array([0.3, 0.3, 0.3])
    base = np.array([0.4, 0.4, 0.4])
    p = openregion.coauthor_probability(share, np.array([0.4, 0.8, 0.0]) / 0.85, base / 0.85)
    assert p[0] == pytest.approx(0.3) and p[1] == pytest.approx(0.6) and p[2] == 0.0


def test_every_pool_figure_has_a_source():
    pools = openregion.load_pools()
    assert pools.share.shape == (3, len(EXTERNALS)) and pools.capability.shape[0] == 2
    assert all("assumption" in text or "20" in text for text in pools.sources.values()), (
        "each row says its source (with a year) or that it is an assumption"
    )
    # Hong Kong's papers go abroad more than Guangdong's (the sources' main contrast)
    assert pools.share[1, 1] > 2 * pools.share[0, 1]


# ------------------------------------------------------------------ runs


def test_external_links_flows_and_counters_agree_and_bay_area_totals_exclude_them():
    r = _run()
    ts, links, flows = r.timeseries, r.links, r.flows
    ext = links[links["destination"].astype(str).isin(EXTERNALS)]
    for x in EXTERNALS:
        papers = ext[(ext["kind"] == "coauthored_papers") & (ext["destination"] == x)]["count"]
        assert papers.sum() == pytest.approx(ts[f"papers_coauthored_{x}"].sum()), x
    assert ts["papers_coauthored_ROW"].sum() > 0 and ts["papers_coauthored_CN"].sum() > 0
    # the ledger holds every external collaboration, approved and refused
    out = flows[
        (flows["channel"] == "collaboration") & flows["destination"].astype(str).isin(EXTERNALS)
    ]
    assert out["count"].sum() == pytest.approx(ts["external_collaborations"].sum())
    assert out["refusals"].sum() == pytest.approx(ts["external_collaborations_refused"].sum())
    # Bay Area totals: no city row for CN or ROW; the cities' papers are the region's plus
    # the co-authored papers between two cities, not those with CN or ROW
    by = r.by_city
    assert set(by["city"].astype(str)) <= set(CITIES)
    city_papers = by[by["output"] == "papers"]["value"].sum()
    inside = links[
        (links["kind"] == "coauthored_papers") & links["destination"].astype(str).isin(CITIES)
    ]["count"].sum()
    assert city_papers == pytest.approx(ts["papers"].sum() + inside, rel=1e-9)
    # corridor tables keep the Bay Area's three corridors
    from flowsim.tables import corridor_flows

    assert set(corridor_flows([r])["corridor"]) <= set(CORRIDORS)


def test_lower_row_friction_brings_more_links_to_row():
    """Direction: opening every ROW border to talent raises the co-authored papers with ROW."""
    opened = {
        f"policy.external.ROW-{j}.talent.{k}": v
        for j in ("GD", "HK", "MO")
        for k, v in (("approval", 1.0), ("delay_days", 0.0), ("cost", 0.0))
    }
    gains = []
    for seed in (1, 2):
        base = _run(seed)
        open_ = _run(seed, **opened)

        def row(result):
            links = result.links
            sel = (links["kind"] == "collaborations") & (links["destination"] == "ROW")
            return links[sel]["count"].sum()

        gains.append(row(open_) / row(base) - 1.0)
    assert min(gains) > 0.3, f"ROW collaborations +{gains} with an open ROW border (> +30%)"


def test_a_closed_region_has_no_external_flows():
    r = _run(**{"open_region.enabled": False})
    assert r.timeseries["external_collaborations"].sum() == 0
    assert not r.links["destination"].astype(str).isin(EXTERNALS).any()


# ------------------------------------------------------------------ data and samples


def test_the_best_input_abroad_is_asked_for_when_its_border_is_open():
    """Pure core: ROW offers the best samples; an open ROW border brings them, a closed one not."""
    from flowsim.mechanisms.inputs import ExternalSources, request_inputs
    from flowsim.policy import Crossing

    n = 400
    jur = GEO.city_jurisdiction
    quality = np.full((3, 6), 0.5)
    weights = np.zeros((3, len(CITIES), len(CITIES)))
    for j in range(3):
        weights[j][:, jur == j] = 1.0

    def crossing(source, destination, zone, keys):
        m = source.size
        ok = np.ones(m, bool)
        return Crossing(
            ok, ~ok, ~ok, np.zeros(m), np.zeros(m, np.int64), np.zeros(m), np.zeros(m, np.int64)
        )

    def asked(weight):
        ext = ExternalSources(
            quality=np.full((2, 6), 1.0),
            places=np.array([CN, ROW]),
            expected=lambda place, d, z, k: np.full(place.size, weight if place[0] == ROW else 0.0),
            crossing=crossing,
        )
        rng = np.random.default_rng(5)
        req = request_inputs(
            np.zeros(n, np.int64),
            np.full(n, SZ),
            np.full(n, -1),
            np.full(n, -1),
            np.ones(6),
            quality,
            jur,
            weights,
            np.ones((5, len(CITIES), len(CITIES))) * 0.5,
            0.0,
            2.0,
            1.0,
            2,
            crossing,
            rng,
            external=ext,
        )
        return (req.source[req.asked_across] == ROW).sum(), req.quality.mean()

    open_n, open_q = asked(1.0)
    shut_n, shut_q = asked(0.0)
    assert open_n > 0.5 * n and shut_n == 0, (open_n, shut_n)
    assert open_q > shut_q, "a better input from abroad raises the project's quality"


def test_data_from_row_is_in_the_ledger_and_grows_when_its_border_opens():
    opened = {
        f"policy.external.ROW-{j}.data.{k}": v
        for j in ("GD", "HK", "MO")
        for k, v in (("approval", 1.0), ("delay_days", 0.0), ("cost", 0.0))
    }
    # every project needs data, so that the baseline's rare ROW transfers are counted at
    # test size (0 of them at the default need, seed 1; 500 with this need -> 13,300 opened)
    need = {f"research.data_need.{f}": 1.0 for f in FIELDS}
    counts = []
    for overrides in (need, need | opened):
        r = _run(1, **overrides)
        f = r.flows
        row = f[(f["channel"] == "data_request") & (f["origin"] == "ROW")]
        assert row["count"].sum() == pytest.approx(r.timeseries["data_transfers_external"].sum())
        counts.append(row["count"].sum())
    assert counts[1] > 1.5 * counts[0] > 0, f"data from ROW {counts[0]} -> {counts[1]}"


# ------------------------------------------------------------------ capital


def test_capital_with_the_external_places_balances_in_the_ledger_and_the_books():
    r = _run(2)
    ts, f = r.timeseries, r.flows
    vc = f[f["channel"] == "vc_round"]
    inward = vc[vc["origin"].astype(str).isin(EXTERNALS)]
    outward = vc[vc["destination"].astype(str).isin(EXTERNALS)]
    assert inward["volume"].sum() == pytest.approx(ts["vc_volume_inward"].sum(), rel=1e-9)
    assert inward["count"].sum() == pytest.approx(ts["vc_deals_inward"].sum())
    assert outward["volume"].sum() == pytest.approx(ts["vc_volume_outward"].sum(), rel=1e-9)
    assert ts["vc_deals_inward"].sum() > 0 and ts["vc_volume_outward"].sum() > 0
    assert (ts["vc_deals"] >= ts["vc_deals_inward"]).all(), "inward rounds are the region's deals"
    last = ts.iloc[-1]
    books = (
        last["capital_invested"]
        + last["capital_held"]
        + last["capital_written_off"]
        + last["capital_realised"]
    )
    assert last["capital_raised"] == pytest.approx(books, rel=1e-9), "money is conserved"


def test_an_open_row_border_sends_more_of_guangdongs_capital_abroad():
    # three times the outward shares (a prior's upper end) so that a tiny run has some
    more = {"open_region.capital_factor": 3.0}
    opened = more | {
        f"policy.external.ROW-GD.capital.{k}": v
        for k, v in (("approval", 1.0), ("delay_days", 0.0), ("cost", 0.0))
    }
    out = []
    for overrides in (more, opened):
        # the funds' dry powder settles in a warm-up of 36 months (capital.settle)
        scenario = Scenario(scale=0.02, steps=12, warmup_steps=36)
        f = run(scenario, seed=1, overrides=overrides).flows
        gd = [c for c, j in zip(CITIES, GEO.city_jurisdiction, strict=True) if j == 0]
        sel = (
            (f["channel"] == "vc_round")
            & f["origin"].astype(str).isin(gd)
            & (f["destination"] == "ROW")
        )
        out.append(f[sel]["volume"].sum())
    assert out[1] > 2.0 * out[0], f"Guangdong's VC to ROW {out[0]:.0f} -> {out[1]:.0f} RMB m"


# ------------------------------------------------------------------ targets


def test_targets_read_links_to_the_external_places():
    from types import SimpleNamespace

    import pandas as pd

    from flowsim.calibration.evaluate import model_value
    from flowsim.calibration.targets import Target

    links = pd.DataFrame(
        [
            (2022, "coauthored_papers", "Hong Kong", "Shenzhen", "ict", 20.0, 20.0),
            (2022, "coauthored_papers", "Hong Kong", "CN", "ict", 30.0, 30.0),
            (2022, "coauthored_papers", "Hong Kong", "ROW", "ict", 40.0, 40.0),
        ],
        columns=["year", "kind", "origin", "destination", "field", "count", "volume"],
    )
    by_city = pd.DataFrame(
        [(0, 1, 2022, "Hong Kong", "ict", "papers", 100.0)],
        columns=["replicate", "seed", "year", "city", "field", "output", "value"],
    )
    result = SimpleNamespace(
        links=links, by_city=by_city, yearly=pd.DataFrame({"year": [2022], "months": [12]})
    )
    base = {
        "id": "t",
        "output": "count",
        "year": 2022,
        "value": 0.5,
        "sd": 0.1,
        "source": "test",
        "role": "validation",
        "reason": "test",
        "statistic": "share",
        "of": {"output": "papers", "city": "Hong Kong"},
    }
    mainland = Target.model_validate(
        base | {"link": {"kind": "coauthored_papers", "ends": ["Hong Kong", ["GD", "CN"]]}}
    )
    world = Target.model_validate(
        base | {"link": {"kind": "coauthored_papers", "ends": ["Hong Kong", "ROW"]}}
    )
    assert model_value(mainland, result) == pytest.approx(0.5), "Shenzhen 20 + CN 30 of 100"
    assert model_value(world, result) == pytest.approx(0.4)
    with pytest.raises(ValueError, match="external place"):
        Target.model_validate(
            base | {"link": {"kind": "coauthored_papers", "ends": ["Hong Kong", "RoW"]}}
        )


# ------------------------------------------------------------------ where patents are filed


def test_every_filing_share_has_a_source_and_guangdong_files_at_home():
    shares = openregion.load_filing_shares()
    assert shares.shape == (3, len(EXTERNALS))
    assert shares[0, 0] == 0.0, "Guangdong's home office is CNIPA: no filing across a border in CN"
    text = (ROOT / "src" / "flowsim" / "data" / "patent_filing.csv").read_text(encoding="utf-8")
    rows = text.strip().splitlines()[1:]
    assert len(rows) == 6 and all("CNIPA" in r or "assumption" in r for r in rows), rows


def test_file_patents_draws_the_shares_and_counts_every_pct_filing_abroad():
    """Pure core: CN filings are share x patents; ROW = PCT + share x the other patents."""
    rng = np.random.default_rng(5)
    n = 200_000
    patents = np.full(n, 3)
    pct = np.full(n, 1)
    jur = np.tile([0, 1], n // 2)
    shares = np.array([[0.0, 0.1], [0.6, 0.25], [0.5, 0.1]])
    cn, row = openregion.file_patents(patents, pct, jur, shares, rng)
    assert (cn[jur == 0] == 0).all(), "no CN filing from Guangdong"
    assert (row >= pct).all() and (cn <= patents).all()
    for j in (0, 1):
        want_cn, want_row = 3 * shares[j, 0], 1 + 2 * shares[j, 1]
        got_cn, got_row = cn[jur == j].mean(), row[jur == j].mean()
        # 100,000 projects: the means' standard errors are below 0.003
        assert abs(got_cn - want_cn) < 0.01, f"jurisdiction {j}: CN {got_cn:.4f} vs {want_cn}"
        assert abs(got_row - want_row) < 0.01, f"jurisdiction {j}: ROW {got_row:.4f} vs {want_row}"


def test_patent_filings_abroad_are_links_to_cn_and_row_and_move_nothing_else():
    """Counters and links agree, and Hong Kong files at CNIPA at its share (3 replicates).

    The filing factor changes the filings only (their own random stream).
    """
    ratios = []
    for seed in (1, 2, 3):
        r = _run(seed)
        ts, links = r.timeseries, r.links
        filings = links[links["kind"] == "patent_filings"]
        for x in EXTERNALS:
            got = filings[filings["destination"] == x]["count"].sum()
            assert got == pytest.approx(ts[f"patents_filed_{x}"].sum()), x
        assert ts["patents_filed_ROW"].sum() >= ts["pct_applications"].sum()
        to_cn = filings[filings["destination"] == "CN"]
        origins = set(to_cn["origin"].astype(str))
        assert origins <= {"Hong Kong", "Macao"}, "only HK/MO cross to CNIPA"
        by = r.by_city
        hk_patents = by[(by["output"] == "invention_patents") & (by["city"] == "Hong Kong")]
        hk_cn = to_cn[to_cn["origin"] == "Hong Kong"]["count"].sum()
        ratios.append(hk_cn / hk_patents["value"].sum())
        if seed == 1:
            none = _run(seed, **{"open_region.filing_factor": 0.0})
            assert none.timeseries["patents_filed_CN"].sum() == 0
            same = [c for c in ts.columns if not c.startswith("patents_filed")]
            pd.testing.assert_frame_equal(none.timeseries[same], ts[same])
    share = openregion.load_filing_shares()[1, 0]
    assert abs(np.mean(ratios) - share) < 0.1, f"HK's CNIPA filings per patent {ratios} vs {share}"
