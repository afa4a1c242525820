"""flowsim report: the brief's numbers are compare's, nothing leaves the page, text is escaped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from run_folders import POLICY, run_replicates, tiny_scenario, write_run_folder

from flowsim import cli
from flowsim.ensemble import read_parameter_sets
from flowsim.numbers import format_interval, format_value
from flowsim.outputs import COMPARED
from flowsim.report import build_report, policy_changes, screening, write_report

HOSTILE = '<script>alert("x")</script><img src="https://evil.invalid/t.png"> & more'


@pytest.fixture(scope="module")
def brief(policy_folder, baseline_folder):
    return build_report(policy_folder, baseline_folder)


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory):
    scenario = tiny_scenario("hostile", **POLICY, description=HOSTILE, sources=[HOSTILE])
    return write_run_folder(run_replicates(scenario), tmp_path_factory.mktemp("runs") / "hostile")


def _diffs(text: str) -> dict[str, float]:
    found = re.findall(r'data-output="([a-z_]+)" data-diff="([^"]+)">([^<]+)<', text)
    return {name: (float(value), shown) for name, value, shown in found}


def test_headline_numbers_are_those_of_compare_tables(
    brief, policy_folder, baseline_folder, tmp_path
):
    out = tmp_path / "cmp"
    assert cli.main(["compare", str(baseline_folder), str(policy_folder), "--out", str(out)]) == 0
    table = pd.read_csv(out / "compare_headline.csv")
    table = table[table["scenario"] == "data_sandbox"].dropna(subset=["diff"])
    shown = _diffs(brief.html)
    assert set(shown) == set(table["output"]), "every compared output is in the headline"
    assert set(shown) <= set(COMPARED)
    for row in table.itertuples():
        value, text = shown[row.output]
        assert value == pytest.approx(row.diff, rel=1e-12, abs=1e-12), row.output
        assert text == format_value(row.output, row.diff, difference=True)


def test_sections_and_policy_in_words(brief):
    for section in ("question", "headline", "path", "map", "fields", "channels", "decides", "made"):
        assert f'id="{section}"' in brief.html
    assert "policy.corridors.GD-HK.data.approval" in brief.html
    assert "probability a crossing is approved" in brief.html
    assert "Parameter uncertainty is not included" in brief.html
    assert "flowsim explain" in brief.html  # how to get the channels
    assert "@media print" in brief.html and "break-before:page" in brief.html
    # numbers in plain notation
    assert not re.search(r"\d\.\d+e[+-]\d", brief.html.split("<img")[0])


def test_policy_changes_list_exactly_the_changed_values():
    base = tiny_scenario("baseline")
    policy = tiny_scenario("policy", **POLICY)
    rows = policy_changes(policy, base)
    assert [r["path"] for r in rows] == sorted(POLICY)
    approval = next(r for r in rows if r["path"].endswith("approval"))
    assert (approval["baseline"], approval["policy"]) == ("0.3", "0.95")
    assert approval["what"] == "GD-HK corridor, data: approval"
    assert policy_changes(base, base) == []


def test_nothing_external_and_no_script(brief):
    sources = re.findall(r'(?:src|href)="([^"]*)"', brief.html)
    assert sources and all(s.startswith("data:") for s in sources), sources[:3]
    assert "<script" not in brief.html.lower()
    assert "<link" not in brief.html.lower()
    assert "url(" not in brief.html


def test_hostile_description_is_escaped(hostile_folder, baseline_folder):
    text = build_report(hostile_folder, baseline_folder).html
    assert "<script" not in text.lower()
    assert "evil.invalid" in text  # shown as text ...
    assert 'src="https://evil.invalid' not in text  # ... never as a tag
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in text


def test_cli_writes_once_and_refuses_to_overwrite(policy_folder, baseline_folder, tmp_path, capsys):
    out = tmp_path / "brief.html"
    argv = ["report", str(policy_folder), str(baseline_folder), "--out", str(out)]
    assert cli.main(argv) == 0
    first = out.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>") and first.rstrip().endswith("</html>")
    assert cli.main(argv) == 2
    assert "--force" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == first
    assert cli.main([*argv, "--force"]) == 0
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file is left"
    with pytest.raises(FileExistsError):
        write_report("x", out)


def test_cli_bad_input_exits_2(policy_folder, baseline_folder, tmp_path, capsys):
    assert (
        cli.main(
            ["report", str(policy_folder), str(baseline_folder), "--out", str(tmp_path / "b.txt")]
        )
        == 2
    )
    assert (
        cli.main(
            [
                "report",
                str(tmp_path / "none"),
                str(baseline_folder),
                "--out",
                str(tmp_path / "b.html"),
            ]
        )
        == 2
    )
    one = write_run_folder(run_replicates(tiny_scenario("one", **POLICY), 1), tmp_path / "one")
    base = write_run_folder(run_replicates(tiny_scenario("baseline"), 1), tmp_path / "base1")
    assert cli.main(["report", str(one), str(base), "--out", str(tmp_path / "b.html")]) == 2
    assert "replicates" in capsys.readouterr().err
    assert not (tmp_path / "b.html").exists()


def test_explain_folder_is_shown(policy_folder, baseline_folder, tmp_path):
    explain = tmp_path / "explain"
    explain.mkdir()
    pd.DataFrame(
        {"output": ["papers", "papers"], "part": ["data", "talent"], "value": [12345.6, -0.5]}
    ).to_csv(explain / "explain.csv", index=False)
    text = build_report(policy_folder, baseline_folder, explain=explain, outputs=["papers"]).html
    assert "12,346" in text and "talent" in text
    assert "Not included in this brief" not in text


@dataclass
class _Ensemble:
    ids: tuple[int, ...]
    sets: tuple[dict[str, float], ...]
    parameters: tuple[str, ...]
    path: Path = Path("ens")


def test_screening_finds_the_parameter_that_moves_the_effect():
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 1, 12)
    b = rng.uniform(0, 1, 12)
    ensemble = _Ensemble(
        tuple(range(12)),
        tuple({"x.a": float(x), "x.b": float(y)} for x, y in zip(a, b, strict=True)),
        ("x.a", "x.b"),
    )
    table = pd.DataFrame(
        {
            "output": "papers",
            "period": "all",
            "parameter_set": np.arange(12, dtype=float),
            "diff": 100 * a + rng.normal(0, 1, 12),
        }
    )
    screen = screening(table, ensemble, ["papers"])
    assert list(screen["parameter"]) == ["x.a", "x.b"]
    assert screen["r"].iloc[0] > 0.99
    assert abs(screen["r"].iloc[1]) < 0.7
    sd_y = float(np.std(table["diff"], ddof=1))
    assert screen["slope_sd"].iloc[0] == pytest.approx(screen["r"].iloc[0] * sd_y)


def test_difference_map_marks_significant_cities():
    from flowsim.geography import CITIES
    from flowsim.plots.bay_map import plot_difference_map

    values = {city: float(i - 5) for i, city in enumerate(CITIES)}
    fig = plot_difference_map(values, {CITIES[0]: True}, label="effect", title="t")
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert f"{CITIES[0]} *" in labels and f"{CITIES[1]} *" not in labels
    widths = np.concatenate([c.get_linewidths() for c in fig.axes[0].collections])
    assert (widths > 2).sum() == 1
    with pytest.raises(ValueError, match="unknown cities"):
        plot_difference_map({"Atlantis": 1.0}, {}, label="", title="")


def test_ensemble_brief_screens_the_parameter_that_moves_the_effect(tmp_path, capsys):
    from test_ensemble import CLOSED, write_ensemble, write_tiny_scenario

    ens = write_ensemble(tmp_path / "ens", rates=(0.002, 0.01, 0.05))
    base = write_tiny_scenario(tmp_path / "base.yaml", "baseline")
    policy = write_tiny_scenario(tmp_path / "closed.yaml", "closed", **CLOSED)
    for name, file in (("b", base), ("p", policy)):
        args = [str(file), "--ensemble", str(ens), "--replications", "2", "--quiet"]
        assert cli.main(["run", *args, "--out", str(tmp_path / name)]) == 0
    outputs = ["researcher_moves_cross_border", "papers"]
    brief = build_report(tmp_path / "p", tmp_path / "b", ensemble=ens, outputs=outputs)
    text = brief.html
    assert "95% across parameter sets" in text
    assert "Parameter uncertainty is not included" not in text
    screen = screening(brief.comparison.table, read_parameter_sets(ens), outputs)
    moves = screen[screen["output"] == "researcher_moves_cross_border"].iloc[0]
    assert moves["parameter"] == "talent.move_rate" and moves["sets"] == 3
    assert moves["r"] < -0.8, "closing the talent corridors costs more moves where people move more"
    assert "talent.move_rate" in text.split('id="decides"')[1]
    head = brief.comparison.headline
    row = head[(head["scenario"] == "closed") & (head["output"] == "papers")].iloc[0]
    assert format_interval("papers", row.diff_ui_low, row.diff_ui_high) in text


def test_border_rules_are_told_in_words_with_the_friction_they_replace():
    from flowsim.report import policy_changes
    from flowsim.scenario import load_scenario

    root = Path(__file__).parents[1] / "scenarios"
    rows = policy_changes(
        load_scenario(root / "analyst_question.yaml"), load_scenario(root / "baseline.yaml")
    )
    assert [r["what"] for r in rows] == [
        "border rule 1: biomedical research data, Shenzhen <-> Hong Kong",
        "border rule 2: research samples in 3 working days, Shenzhen <-> Hong Kong",
    ]
    first = rows[0]
    assert first["meaning"] == (
        "selects data; field biomedicine; category research; from Shenzhen, Hong Kong; "
        "to Shenzhen, Hong Kong"
    )
    assert first["baseline"] == "approval 0.3; delay 60 days; cost 50 thousand yuan"
    assert first["policy"] == "approval 0.8; delay 10 days; cost 10 thousand yuan"
    assert rows[1]["baseline"] == "delay 20 days" and rows[1]["policy"] == "delay 4.2 days"
    assert not any("{" in r["baseline"] + r["policy"] for r in rows), "no raw mappings"
