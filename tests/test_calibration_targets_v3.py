"""Targets v3: levels, sources, the split, unreported figures, link targets, the priors file.

``scenarios/calibration/targets_v3.yaml`` lists real figures at seven levels, each with a
structured source, split into calibration and validation before any fit; figures the model
cannot report yet are listed with ``model_output: none``. ``priors.yaml`` gives the priors
of the deciding assumptions. These tests check the shipped files, the schema's refusals
(with file and line), the arithmetic of link targets on a synthetic links table, and that a
v3-style calibration no parameter can meet exits 1 and leaves nothing ``--ensemble`` can use.
"""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from flowsim.calibration.evaluate import model_value, model_values
from flowsim.calibration.targets import LEVELS, Source, Target, load_priors, load_targets
from flowsim.cli import main
from flowsim.yamlio import ConfigError

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "scenarios" / "calibration"
V3 = FOLDER / "targets_v3.yaml"
PRIORS = FOLDER / "priors.yaml"

DECIDING = (
    "research.data_quality_factor.HK",
    "research.samples_quality_factor.HK",
    "research.substitution_elasticity",
    "knowledge.elasticity",
    "knowledge.outside_jurisdiction",
    "deterrence.talent.border_effect",
    "deterrence.capital.border_effect",
    "deterrence.data.border_effect",
    "deterrence.samples.border_effect",
)
"""Assumptions issue 18 names as deciding the answers: each needs a prior."""


@pytest.fixture(scope="module")
def v3():
    return load_targets(V3)


def test_v3_has_25_sourced_targets_at_every_level(v3):
    targets = v3.spec.targets
    assert len(targets) >= 25, f"{len(targets)} targets"
    levels = {t.level for t in targets}
    assert levels == set(LEVELS), f"levels without a target: {set(LEVELS) - levels}"
    for t in targets:
        assert isinstance(t.source, Source), f"{t.id}: give title, publisher and year"
        assert len(t.reason) > 10 and t.unit, f"{t.id}: a reason and a unit"
    reported = [t for t in targets if t.reported]
    assert len(reported) >= 20, f"only {len(reported)} targets the model can report"
    for level in LEVELS:
        assert any(t.level == level for t in reported), f"no reportable {level} target"


def test_v3_is_split_before_any_fit_and_fits_only_what_the_model_reports(v3):
    calib, valid = v3.spec.of_role("calibration"), v3.spec.of_role("validation")
    assert len(calib) >= 5 and len(valid) >= 15, (len(calib), len(valid))
    assert all(t.reported for t in calib), "a calibration target must be reportable"
    unreported = [t for t in valid if not t.reported]
    assert unreported and all(len(t.model_output_note) > 20 for t in unreported), (
        "every figure the model cannot report says why"
    )
    header = V3.read_text(encoding="utf-8").split("\nname:")[0]
    assert "THE SPLIT" in header and "before any fit" in header, "the rationale is written down"


def test_the_deciding_assumptions_have_sourced_priors(v3):
    priors = load_priors(PRIORS)
    for name in DECIDING:
        assert name in priors, f"{name} has no prior"
        assert len(priors[name].note) > 40, f"{name}: the prior's source or reasoning"
        assert name in v3.spec.free, f"{name}: the v3 targets file frees it (from priors.yaml)"
    assert priors["knowledge.elasticity"].low == 0.1 and priors["knowledge.elasticity"].high == 0.3


def test_flowsim_validate_accepts_v3_and_still_the_old_file(capsys):
    assert main(["validate", str(V3), str(FOLDER / "targets.yaml")]) == 0
    out = capsys.readouterr().out
    assert "gba-v3" in out and "not reported by the model" in out and "by level:" in out, out
    assert "gba-2022" in out, out


# ---------------------------------------------------------------- the schema's refusals

HEAD = f"""\
name: t
scenario: {ROOT / "scenarios" / "baseline.yaml"}
free:
  research.pct_prob.GD: {{low: 0.05, high: 0.15}}
targets:
  - id: pct
    output: pct_applications
    value: 20000
    tolerance: 0.1
    source: {{title: Statistical annual report, publisher: CNIPA, year: 2024}}
    role: calibration
    reason: test
"""

UNREPORTED = """\
  - id: rd
    model_output: none
    model_output_note: no spending output
    value: 460000
    tolerance: 0.1
    source: {title: "High-tech companies exceed 75,000", publisher: Xinhua, year: 2024}
    role: validation
    reason: listed
"""


def _load(tmp_path: Path, text: str):
    path = tmp_path / "targets.yaml"
    path.write_text(text, encoding="utf-8")
    return load_targets(path)


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    return str(err.value)


def test_an_unreported_figure_loads_and_is_never_evaluated(tmp_path):
    targets = _load(tmp_path, HEAD + UNREPORTED)
    rd = targets.spec.targets[1]
    assert not rd.reported and rd.output is None
    values, reasons = model_values([rd], SimpleNamespace())
    assert math.isnan(values["rd"]) and "cannot report it yet: no spending output" in reasons["rd"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("role: validation", "role: calibration"), "cannot be fitted"),
        (("    model_output_note: no spending output\n", ""), "needs `model_output_note:`"),
        (("    model_output: none\n    model_output_note: no spending output\n", ""), "`output:`"),
    ],
    ids=["fitted", "no-note", "no-output"],
)
def test_unreported_figures_are_refused_when_incomplete_with_their_line(tmp_path, change, message):
    text = _problems(tmp_path, HEAD + UNREPORTED.replace(*change))
    assert message in text and "targets.yaml:13" in text, text


def test_a_source_needs_title_publisher_and_year(tmp_path):
    text = _problems(tmp_path, HEAD.replace(", year: 2024}", "}"))
    assert "year" in text and "targets.yaml:" in text, text


def _with_priors(tmp_path: Path, priors: str, free: str = "") -> str:
    (tmp_path / "priors.yaml").write_text(priors, encoding="utf-8")
    head = HEAD.replace("free:\n  research.pct_prob.GD: {low: 0.05, high: 0.15}\n", free)
    return head.replace("targets:\n", "priors: priors.yaml\ntargets:\n", 1)


GOOD_PRIOR = """\
priors:
  knowledge.elasticity: {low: 0.1, high: 0.3, note: "Jaffe 1986, Griliches 1992: 0.1-0.3"}
"""


def test_a_priors_file_adds_free_parameters(tmp_path):
    targets = _load(tmp_path, _with_priors(tmp_path, GOOD_PRIOR))
    assert targets.free_names() == ["knowledge.elasticity"]


@pytest.mark.parametrize(
    ("priors", "free", "message", "where"),
    [
        (GOOD_PRIOR, "free:\n  knowledge.elasticity: {low: 0.1, high: 0.2}\n", "here and in", 2),
        (GOOD_PRIOR.replace("knowledge.elasticity", "knowledge.elastcity"), "", "did you mean", 2),
        (GOOD_PRIOR.replace("low: 0.1", "low: -0.1"), "", "leave the parameter's range", 2),
        (GOOD_PRIOR.replace('note: "Jaffe 1986, Griliches 1992: 0.1-0.3"', "note: x"), "",
         "source or reasoning", None),
    ],
    ids=["twice", "unknown", "bounds", "no-note"],
)  # fmt: skip
def test_a_bad_prior_is_refused_in_the_priors_file(tmp_path, priors, free, message, where):
    text = _problems(tmp_path, _with_priors(tmp_path, priors, free))
    assert message in text and "priors.yaml" in text, text
    if where is not None:
        assert f"priors.yaml:{where}" in text, text


def test_a_missing_priors_file_is_named(tmp_path):
    text = _problems(tmp_path, HEAD.replace("targets:\n", "priors: nowhere.yaml\ntargets:\n", 1))
    assert "no such priors file" in text and "targets.yaml:" in text, text


# ---------------------------------------------------------------------- link targets


def _links_result() -> SimpleNamespace:
    """2022: co-authored papers between Hong Kong and Guangzhou/Shenzhen/Foshan and Macao."""
    links = pd.DataFrame(
        [
            (2022, "coauthored_papers", "Hong Kong", "Shenzhen", "ict", 30.0, 30.0),
            (2022, "coauthored_papers", "Shenzhen", "Hong Kong", "ict", 10.0, 10.0),
            (2022, "coauthored_papers", "Guangzhou", "Hong Kong", "biomedicine", 20.0, 20.0),
            (2022, "coauthored_papers", "Hong Kong", "Foshan", "ict", 10.0, 10.0),
            (2022, "coauthored_papers", "Hong Kong", "Macao", "ict", 5.0, 5.0),
            (2022, "coauthored_papers", "Shenzhen", "Guangzhou", "ict", 99.0, 99.0),
            (2022, "collaborations", "Hong Kong", "Shenzhen", "ict", 50.0, 50.0),
        ],
        columns=["year", "kind", "origin", "destination", "field", "count", "volume"],
    )
    by_city = pd.DataFrame(
        [
            (0, 1, 2022, "Hong Kong", "ict", "papers", 200.0),
            (0, 1, 2022, "Hong Kong", "biomedicine", "papers", 100.0),
        ],
        columns=["replicate", "seed", "year", "city", "field", "output", "value"],
    )
    yearly = pd.DataFrame({"year": [2022], "months": [12]})
    return SimpleNamespace(links=links, by_city=by_city, yearly=yearly)


def _link_target(**kw) -> Target:
    base = {
        "id": "l",
        "output": "count",
        "link": {"kind": "coauthored_papers", "ends": ["Hong Kong", "GD"]},
        "year": 2022,
        "value": 0.2,
        "sd": 0.05,
        "source": "test",
        "role": "validation",
        "reason": "test",
    }
    return Target.model_validate(base | kw)


def test_links_between_two_places_count_either_way_round():
    result = _links_result()
    assert model_value(_link_target(), result) == 70.0, "30 + 10 + 20 + 10, not Macao's 5"
    share = _link_target(statistic="share", of={"output": "papers", "city": "Hong Kong"})
    assert model_value(share, result) == pytest.approx(70.0 / 300.0)
    ict = _link_target(
        field="ict", statistic="share", of={"output": "papers", "city": "Hong Kong", "field": "ict"}
    )
    assert model_value(ict, result) == pytest.approx(50.0 / 200.0), "ict links over ict papers"


def test_a_share_of_links_over_links_with_a_list_of_places():
    corridor = _link_target(
        link={"kind": "coauthored_papers", "ends": ["Hong Kong", ["Guangzhou", "Shenzhen"]]},
        statistic="share",
        of={"link": {"kind": "coauthored_papers", "ends": ["Hong Kong", "GD"]}},
    )
    assert model_value(corridor, _links_result()) == pytest.approx(60.0 / 70.0)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"output": "papers"}, "output of a `link:` target is count or volume"),
        ({"city": "Hong Kong"}, "selects its ends in `link:"),
        ({"link": {"kind": "coauthored_papers", "ends": ["Hong Kong", "Shenzen"]}}, "Shenzhen"),
        ({"link": {"kind": "friendships", "ends": ["Hong Kong", "GD"]}}, "coauthored_papers"),
    ],
    ids=["measure", "city", "place", "kind"],
)
def test_bad_link_targets_are_refused(kw, message):
    with pytest.raises(ValueError) as err:
        _link_target(**kw)
    assert message in str(err.value), str(err.value)


# ------------------------------------------------------------ a calibration that fails


def test_a_v3_calibration_no_parameter_can_meet_exits_1_and_leaves_no_ensemble(tmp_path, capsys):
    spec = yaml.safe_load(V3.read_text(encoding="utf-8"))
    spec["scenario"] = str(FOLDER.parent / "baseline.yaml")
    spec["priors"] = str(PRIORS)
    spec["run"] = {"scale": 0.005, "steps": 12, "start_year": 2022, "warmup_steps": 0}
    spec["replicates"] = 1
    spec["search"] = {"method": "abc", "budget": 2, "ensemble": 2}
    for t in spec["targets"]:
        if t["id"] == "pct_GD_2022":
            t["value"] = 1e9  # a billion PCT filings: no parameter reaches it
    path = tmp_path / "impossible.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = tmp_path / "fail"
    code = main(["calibrate", str(path), "--workers", "1", "--quiet", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1, f"exit {code}\n{captured.err}"
    assert "CALIBRATION FAILED" in captured.out
    assert "not evaluated (the model cannot report it yet" in captured.out, (
        "unreported figures are shown, not dropped"
    )
    assert not (out / "ensemble.csv").exists(), "no ensemble of misfits"
    scenario = FOLDER.parent / "baseline.yaml"
    code = main(
        ["run", str(scenario), "--ensemble", str(out), "--quiet", "--out", str(tmp_path / "r")]
    )
    err = capsys.readouterr().err
    assert code == 2 and "not an ensemble folder" in err, err
    assert not (tmp_path / "r").exists(), "nothing was run on a failed calibration"
