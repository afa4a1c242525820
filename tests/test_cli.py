"""The ``flowsim`` command: validate, run, describe; exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

import flowsim.commands.run as run_command
from flowsim.cli import main
from flowsim.results import FILES, read_run
from flowsim.scenario import load_scenario, scenario_dict

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
FAST = ["--scale", "0.002", "--steps", "6", "--set", "warmup_steps=2"]


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).with_name("flowsim")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "flowsim" in done.stdout, (
        f"flowsim --version failed: {done.stderr}"
    )


def test_validate_says_ok_per_file(capsys) -> None:
    files = sorted(str(p) for p in (ROOT / "scenarios").glob("*.yaml"))
    assert main(["validate", *files]) == 0, "every shipped scenario must validate"
    out = capsys.readouterr().out
    for file in files:
        assert f"{file}: ok" in out, f"no ok line for {file}"


def test_validate_mixed_files_exits_2_and_still_checks_all(capsys) -> None:
    bad = ROOT / "tests" / "malformed" / "unknown_top_key.yaml"
    assert main(["validate", str(bad), str(BASELINE)]) == 2, "one bad file makes exit code 2"
    captured = capsys.readouterr()
    assert "did you mean 'steps'?" in captured.err, captured.err
    assert f"{BASELINE}: ok" in captured.out, "the valid file after a bad one is still checked"


def test_run_writes_a_complete_folder_and_prints_tables(tmp_path: Path, capsys) -> None:
    out = tmp_path / "res"
    assert (
        main(["run", str(BASELINE), *FAST, "--replications", "2", "--seed", "5", "--out", str(out)])
        == 0
    )
    printed = capsys.readouterr().out
    for text in (
        "Yearly outputs",
        "papers",
        "pct",
        "vc_deals",
        "x_border_collab",
        "Cross-border flows",
        "GD-HK",
        "mean_delay_days",
        "refusals",
        f"results: {out}",
    ):
        assert text in printed, f"run output lacks {text!r}:\n{printed}"
    folder = read_run(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES), "results folder files"
    assert (
        folder.scenario.scale == 0.002 and folder.scenario.steps == 6 and folder.scenario.seed == 5
    ), "overrides"
    assert folder.scenario.warmup_steps == 2, "--set must reach the scenario"
    assert folder.manifest["command"][:3] == ["flowsim", "run", str(BASELINE)], (
        "the command line is recorded"
    )
    assert folder.timeseries["replicate"].nunique() == 2, "two replicates"


def test_run_refuses_an_existing_folder_unless_forced(tmp_path: Path, capsys) -> None:
    out = tmp_path / "res"
    assert main(["run", str(BASELINE), *FAST, "--out", str(out), "--quiet"]) == 0
    first = (out / "manifest.json").read_text()
    assert main(["run", str(BASELINE), *FAST, "--out", str(out), "--quiet"]) == 2, (
        "must refuse to overwrite"
    )
    assert "--force" in capsys.readouterr().err, "the refusal must say how to replace"
    assert (out / "manifest.json").read_text() == first, "the refused run must not touch the folder"
    assert main(["run", str(BASELINE), *FAST, "--out", str(out), "--quiet", "--force"]) == 0
    assert (out / "manifest.json").read_text() != first, "--force must replace the folder"


def test_default_folder_goes_under_results(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(BASELINE), *FAST, "--quiet"]) == 0
    made = list((tmp_path / "results").iterdir())
    assert len(made) == 1 and made[0].name.startswith("baseline-"), f"default folder: {made}"


@pytest.mark.parametrize(
    "options, text",
    [
        (["--scale", "-1"], "--scale: -1.0 is out of range"),
        (["--steps", "0"], "--steps: 0 is out of range"),
        (["--set", "talent.move_rat=0.1"], "did you mean 'move_rate'?"),
        (["--set", "nonsense"], "expected KEY=VALUE"),
    ],
)
def test_bad_overrides_exit_2_with_a_message(
    options: list[str], text: str, tmp_path: Path, capsys
) -> None:
    assert main(["run", str(BASELINE), *options, "--out", str(tmp_path / "res")]) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err, f"expected {text!r} in:\n{err}"
    assert not (tmp_path / "res").exists(), "bad input must create no folder"


def test_bad_file_exits_2(tmp_path: Path, capsys) -> None:
    bad = ROOT / "tests" / "malformed" / "several_errors.yaml"
    assert main(["run", str(bad), "--out", str(tmp_path / "res")]) == 2
    assert "4 problems:" in capsys.readouterr().err
    assert not (tmp_path / "res").exists(), "bad input must create no folder"


def test_bad_replications_is_an_argument_error(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["run", str(BASELINE), "--replications", "0"])
    assert caught.value.code == 2, "argparse errors exit 2"
    assert "give 1 or more" in capsys.readouterr().err


def test_failed_run_exits_1_and_writes_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("model blew up")

    monkeypatch.setattr(run_command, "run", broken)
    monkeypatch.delenv("FLOWSIM_DEBUG", raising=False)
    assert main(["run", str(BASELINE), *FAST, "--out", str(tmp_path / "res"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "run failed: RuntimeError: model blew up" in err and "no results were written" in err, (
        err
    )
    assert list(tmp_path.iterdir()) == [], "a failed run must leave nothing behind"


def test_describe_prints_the_resolved_scenario(capsys) -> None:
    path = ROOT / "scenarios" / "data_sandbox.yaml"
    assert main(["describe", str(path)]) == 0
    text = capsys.readouterr().out
    assert yaml.safe_load(text) == scenario_dict(load_scenario(path)), (
        "describe must print the resolved scenario"
    )
    assert "[default: 0.3]" in text, "a changed value shows its default"
    assert main(["describe", "--plain", str(path)]) == 0
    assert "#" not in capsys.readouterr().out.split("sources:")[0], "--plain prints no comments"


def test_describe_bad_file_exits_2(capsys) -> None:
    assert main(["describe", str(ROOT / "tests" / "malformed" / "unknown_city.yaml")]) == 2
    assert "did you mean 'Shenzhen'?" in capsys.readouterr().err


# ------------------------------------------------------------------ the README's examples stay true


def _readme_block(start: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    if start not in text:  # the scenario guide moved to docs/scenarios.md
        text = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    begin = text.index(start)
    return text[begin : text.index("```", begin)]


def test_readme_quick_start_is_two_commands_that_exist() -> None:
    block = _readme_block("bash scripts/quickstart.sh")
    commands = [line for line in block.splitlines() if line.strip()]
    assert commands == ["bash scripts/quickstart.sh", "bash .ci/run"], (
        f"quick start must be two commands: {commands}"
    )
    for script in ("scripts/quickstart.sh", ".ci/run"):
        assert (ROOT / script).is_file(), f"{script} is missing"


def test_readme_scenario_example_validates_and_its_typos_give_the_shown_errors(
    tmp_path: Path, capsys
) -> None:
    example = _readme_block("# scenarios/my_sandbox.yaml")
    (tmp_path / "baseline.yaml").write_text(BASELINE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "my_sandbox.yaml").write_text(example, encoding="utf-8")
    assert main(["validate", str(tmp_path / "my_sandbox.yaml")]) == 0, capsys.readouterr().err
    typos = (
        example.replace("      data:    {approval", "      dta:    {approval")
        .replace("    Hengqin:", "    Hengquin:")
        .replace("{Shenzhen: 1.2}", "{Shenzhen: -1.2}")
    )
    (tmp_path / "my_sandbox.yaml").write_text(typos, encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", str(tmp_path / "my_sandbox.yaml")]) == 2
    shown = _readme_block("$ flowsim validate my_sandbox.yaml").splitlines()[1:]
    printed = capsys.readouterr().err.replace(str(tmp_path) + "/", "").splitlines()
    assert printed == [line for line in shown if line.strip()], (
        f"README's error example is out of date:\n{printed}"
    )


def test_resolved_scenario_reproduces_the_run(tmp_path: Path) -> None:
    first = tmp_path / "first"
    assert (
        main(
            [
                "run",
                str(BASELINE),
                *FAST,
                "--seed",
                "9",
                "--replications",
                "2",
                "--out",
                str(first),
                "--quiet",
            ]
        )
        == 0
    )
    again = tmp_path / "again"
    resolved = first / "scenario.resolved.yaml"
    assert main(["run", str(resolved), "--replications", "2", "--out", str(again), "--quiet"]) == 0
    a, b = read_run(first), read_run(again)
    assert a.manifest["scenario_sha256"] == b.manifest["scenario_sha256"], (
        "same resolved scenario, same hash"
    )
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries, obj="time series of the re-run")
    pd.testing.assert_frame_equal(a.flows, b.flows, obj="flows of the re-run")
