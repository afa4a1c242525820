"""The targets file: validation errors that name file, line, key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowsim.calibration.targets import load_targets
from flowsim.cli import main
from flowsim.yamlio import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "scenarios" / "calibration" / "targets.yaml"

HEAD = f"""\
name: t
scenario: {ROOT / "scenarios" / "baseline.yaml"}
free:
  research.inventions_per_project_firm: {{low: 3.0, high: 12.0}}
targets:
"""

GOOD = """\
  - id: pct
    output: pct_applications
    year: 2022
    value: 20000
    tolerance: 0.1
    source: CNIPA
    role: calibration
    reason: test
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _problems(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_targets(_write(tmp_path, text))
    return str(err.value)


def test_the_shipped_file_is_valid_and_split_both_ways():
    targets = load_targets(SHIPPED)
    spec = targets.spec
    assert len(spec.of_role("calibration")) >= 4 and len(spec.of_role("validation")) >= 6
    for t in spec.targets:
        assert len(t.source) > 10 and len(t.reason) > 10, f"{t.id}: source and reason are cited"
    assert set(targets.free_names()) <= set(
        __import__("flowsim.calibration.screen", fromlist=["x"]).screen_factors(targets)
    ), "every free parameter is one that screening covers"


def test_a_good_file_loads(tmp_path):
    targets = load_targets(_write(tmp_path, HEAD + GOOD))
    assert targets.spec.targets[0].band == pytest.approx(2000.0)


def test_a_misspelt_key_is_named_with_its_line_and_a_suggestion(tmp_path):
    text = _problems(tmp_path, HEAD + GOOD.replace("tolerance:", "tolerence:"))
    assert "targets.yaml:10:" in text and "unknown key 'tolerence'" in text
    assert "did you mean 'tolerance'?" in text


def test_an_unknown_output_suggests_the_closest_name(tmp_path):
    text = _problems(tmp_path, HEAD + GOOD.replace("pct_applications", "pct_aplications"))
    assert "output 'pct_aplications' is not an output the run reports" in text
    assert "did you mean 'pct_applications'?" in text
    assert "targets.yaml:6:" in text, "the problem points at the target"


def test_tolerance_and_sd_are_exclusive(tmp_path):
    text = _problems(tmp_path, HEAD + GOOD.replace("tolerance: 0.1", "tolerance: 0.1\n    sd: 5"))
    assert "give exactly one of `tolerance:` (relative) and `sd:` (absolute)" in text


def test_a_role_must_be_calibration_or_validation(tmp_path):
    text = _problems(tmp_path, HEAD + GOOD.replace("role: calibration", "role: calibrate"))
    assert "'calibrate' is not allowed" in text and "validation" in text


def test_a_city_must_be_a_gba_city(tmp_path):
    text = _problems(tmp_path, HEAD + GOOD.replace("year: 2022", "city: Shenzen\n    year: 2022"))
    assert "'Shenzen' is not a city" in text and "did you mean 'Shenzhen'?" in text


def test_a_growth_rate_needs_its_base_year(tmp_path):
    text = _problems(
        tmp_path, HEAD + GOOD.replace("year: 2022", "statistic: growth_rate\n    year: 2022")
    )
    assert "a growth_rate needs `base_year:` and `year:`" in text


def test_target_ids_are_unique(tmp_path):
    text = _problems(tmp_path, HEAD + GOOD + GOOD)
    assert "target id 'pct' is used twice" in text


def test_a_free_parameter_must_exist_in_the_scenario(tmp_path):
    text = _problems(
        tmp_path, HEAD.replace("inventions_per_project_firm", "inventions_per_projekt_firm") + GOOD
    )
    assert "'research.inventions_per_projekt_firm' is not a numeric parameter" in text
    assert "did you mean 'research.inventions_per_project_firm'?" in text
    assert "targets.yaml:4:" in text


def test_free_bounds_must_stay_in_the_parameters_range(tmp_path):
    head = HEAD.replace(
        "research.inventions_per_project_firm: {low: 3.0, high: 12.0}",
        "research.patent_prob: {low: 0.5, high: 1.5}",
    )
    text = _problems(tmp_path, head + GOOD)
    assert "leave the parameter's range" in text and "allows 0.0 to 1.0" in text


def test_free_bounds_must_be_ordered(tmp_path):
    text = _problems(tmp_path, HEAD.replace("low: 3.0, high: 12.0", "low: 12.0, high: 3.0") + GOOD)
    assert "`low` (12.0) must be below `high` (3.0)" in text


def test_a_missing_scenario_file_is_reported(tmp_path):
    text = _problems(tmp_path, HEAD.replace("baseline.yaml", "nope.yaml") + GOOD)
    assert "no such scenario file" in text and "relative to the folder of the targets file" in text


def test_the_cli_prints_problems_and_exits_2(tmp_path, capsys):
    path = _write(tmp_path, HEAD + GOOD.replace("value: 20000", "value: many"))
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "targets.yaml:9:" in err and "value" in err
    assert not (tmp_path / "out").exists(), "nothing is written for a bad file"


def test_validate_recognises_a_targets_file(capsys):
    assert main(["validate", str(SHIPPED)]) == 0
    assert "ok (targets 'gba-2022'" in capsys.readouterr().out


def test_validate_of_an_invalid_targets_file_exits_2_with_its_problems(tmp_path, capsys):
    path = _write(tmp_path, HEAD + GOOD.replace("value: 20000", "value: '20000'"))
    assert main(["validate", str(path)]) == 2, "not a NameError: a clean refusal"
    err = capsys.readouterr().err
    assert "targets.yaml:9:" in err and "without quotes" in err and "Traceback" not in err, err
    bare = tmp_path / "bare.yaml"
    bare.write_text("name: x\ntargets:\n  - {id: a}\n", encoding="utf-8")
    assert main(["validate", str(bare)]) == 2
    err = capsys.readouterr().err
    assert "scenario: required key is missing" in err, "read as a targets file, not a scenario"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("value: 20000", "value: yes", "'yes' has the wrong type"),
        ("value: 20000", "value: true", "True has the wrong type"),
        ("year: 2022", "year: '2022'", "'2022' has the wrong type"),
        ("tolerance: 0.1", "tolerance: '0.1'", "'0.1' has the wrong type"),
    ],
)
def test_targets_coerce_strictly(tmp_path, old, new, message):
    assert old in GOOD, old
    with pytest.raises(ConfigError, match=message):
        load_targets(_write(tmp_path, HEAD + GOOD.replace(old, new)))


def test_a_second_writer_of_a_calibration_folder_is_refused(tmp_path):
    from flowsim.calibration.fit import CalibrationError, calibrate
    from flowsim.diskio import WriterLock

    folder = tmp_path / "calib"
    with WriterLock(folder, what="calibration folder"):
        try:
            calibrate(tmp_path / "missing.yaml", folder, budget=1, progress=False)
        except CalibrationError as err:
            assert "being written by" in str(err), str(err)
        else:
            raise AssertionError("a second writer of a locked calibration folder must be refused")


def test_calibrate_takes_the_sweep_executor_options(capsys):
    from flowsim.cli import main

    assert main(["calibrate", "x.yaml", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert main(["calibrate", "x.yaml", "--tls-ca-file", "ca.pem"]) == 2
    assert "flowsim calibrate: --tls-* options are for --scheduler" in capsys.readouterr().err
