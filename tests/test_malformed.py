"""The catalogue of malformed scenario files and the message each must produce.

Each file in ``tests/malformed/`` (besides the ``_parent*`` files that others
extend) has a row: the file the first problem must name, its line, how many
problems the file has, and text the report must contain.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError

MALFORMED = Path(__file__).parent / "malformed"

# name: (file named by the first problem, its line, number of problems, texts in the report)
CATALOGUE: dict[str, tuple[str, int | None, int, tuple[str, ...]]] = {
    # unknown keys, with did-you-mean
    "unknown_top_key": (
        "unknown_top_key",
        2,
        1,
        ("stepz", "unknown key 'stepz'", "did you mean 'steps'?"),
    ),
    "unknown_nested_key": (
        "unknown_nested_key",
        3,
        1,
        ("talent.move_rat", "did you mean 'move_rate'?"),
    ),
    "unknown_friction_field": (
        "unknown_friction_field",
        6,
        1,
        (
            "policy.corridors.GD-HK.data.delay",
            "allowed: delay_days, approval, cost, quota",
            "did you mean 'delay_days'?",
        ),
    ),
    "misspelt_extends": (
        "misspelt_extends",
        1,
        1,
        ("unknown key 'extend'", "did you mean 'extends'?"),
    ),
    # unknown places and elements
    "unknown_corridor": (
        "unknown_corridor",
        4,
        1,
        ("unknown key 'GD-HX'", "allowed: GD-HK, GD-MO, HK-MO", "did you mean 'GD-HK'?"),
    ),
    "unknown_element": (
        "unknown_element",
        5,
        1,
        ("allowed: talent, capital, data, samples", "did you mean 'talent'?"),
    ),
    "unknown_zone": (
        "unknown_zone",
        4,
        1,
        ("allowed: Hetao, Qianhai, Hengqin, Nansha", "did you mean 'Hetao'?"),
    ),
    "unknown_city": (
        "unknown_city",
        4,
        1,
        ("population.city_multipliers.Shenzen", "Hong Kong", "did you mean 'Shenzhen'?"),
    ),
    # wrong types
    "string_for_number": (
        "string_for_number",
        2,
        1,
        ("scale: 'big' has the wrong type", "a valid number"),
    ),
    "float_for_integer": (
        "float_for_integer",
        2,
        1,
        ("steps: 12.5 has the wrong type", "a valid integer"),
    ),
    "bool_for_integer": (
        "bool_for_integer",
        2,
        1,
        ("steps: True has the wrong type", "a valid integer"),
    ),
    "mapping_for_number": ("mapping_for_number", 2, 1, ("scale:", "wrong type", "a valid number")),
    "list_for_mapping": (
        "list_for_mapping",
        2,
        1,
        (
            "talent: [0.01, 0.03] has the wrong type",
            "a mapping of `key: value` lines",
            "move_rate, visit_rate",
        ),
    ),
    "sources_not_a_list": ("sources_not_a_list", 2, 1, ("sources:", "a valid list")),
    "empty_name": (
        "empty_name",
        1,
        1,
        (
            "name:",
            "at least 1 character",
        ),
    ),
    # out of range
    "approval_above_one": (
        "approval_above_one",
        6,
        1,
        ("policy.corridors.GD-HK.talent.approval: 1.5 is out of range", "allowed: <= 1.0"),
    ),
    "negative_scale": ("negative_scale", 2, 1, ("scale: -0.5 is out of range", "allowed: > 0.0")),
    "negative_quota": (
        "negative_quota",
        5,
        1,
        ("policy.corridors.GD-MO.samples.quota: -10 is out of range", "allowed: >= 0.0"),
    ),
    "negative_seed": ("negative_seed", 2, 1, ("seed: -1 is out of range", "allowed: >= 0")),
    "too_many_steps": ("too_many_steps", 2, 1, ("steps: 5000 is out of range", "allowed: <= 1200")),
    "zone_override_out_of_range": (
        "zone_override_out_of_range",
        5,
        1,
        ("policy.zones.Hengqin.data.approval: -0.2 is out of range",),
    ),
    "field_shares_all_zero": (
        "field_shares_all_zero",
        3,
        1,
        ("population.field_multipliers", "must not all be zero"),
    ),
    # duplicate keys and YAML syntax
    "duplicate_key": ("duplicate_key", 4, 1, ("duplicate key 'steps' (first given at line 2)",)),
    "duplicate_nested_key": (
        "duplicate_nested_key",
        6,
        1,
        ("policy.corridors.GD-HK.data", "duplicate key 'data' (first given at line 5)"),
    ),
    "bad_indentation": ("bad_indentation", 4, 1, ("not valid YAML", "check indentation")),
    "unclosed_bracket": ("unclosed_bracket", 4, 1, ("not valid YAML", "expected ',' or '}'")),
    "missing_space_after_colon": (
        "missing_space_after_colon",
        1,
        1,
        ("must be a mapping", "'name:syntax'"),
    ),
    "top_level_list": ("top_level_list", 1, 1, ("must be a mapping", "not a list")),
    "empty": ("empty", 1, 1, ("the scenario file is empty", "name: my-scenario")),
    "python_tag": (
        "python_tag",
        2,
        1,
        ("could not determine a constructor", "YAML tags (!!...) are not used"),
    ),
    "merge_key": ("merge_key", 5, 1, ("merge keys (<<) are not supported", "use `extends:`")),
    # extends
    "missing_extends": (
        "missing_extends",
        1,
        1,
        (
            "extends: 'no_such_scenario.yaml'",
            "no such file",
            "relative to the folder of the extending file",
        ),
    ),
    "extends_folder": ("extends_folder", 1, 1, ("is a folder, not a scenario file",)),
    "extends_not_a_name": ("extends_not_a_name", 1, 1, ("extends: must be a file name",)),
    "cyclic_extends_a": (
        "cyclic_extends_b",
        1,
        1,
        (
            "makes a cycle",
            "cyclic_extends_a.yaml -> ",
            "cyclic_extends_b.yaml -> ",
            "remove `extends:`",
        ),
    ),
    "cyclic_extends_b": ("cyclic_extends_a", 1, 1, ("makes a cycle",)),
    "extends_itself": ("extends_itself", 1, 1, ("makes a cycle", "extends_itself.yaml -> ")),
    "error_in_parent": (
        "_parent_with_error",
        7,
        1,
        ("policy.corridors.GD-HK.samples.delay_days: -20 is out of range",),
    ),
    "syntax_error_in_parent": (
        "_parent_with_syntax_error",
        4,
        1,
        ("not valid YAML", "this file is extended by", "syntax_error_in_parent.yaml"),
    ),
    "child_overrides_parent_error": (
        "child_overrides_parent_error",
        6,
        1,
        ("delay_days: -3 is out of range",),
    ),
    # several problems at once
    "several_errors": (
        "several_errors",
        2,
        4,
        (
            "4 problems:",
            "did you mean 'steps'?",
            "scale: -1 is out of range",
            "talent.move_rate: 'lots'",
            "did you mean 'Nansha'?",
        ),
    ),
    "errors_in_child_and_parent": (
        "_parent_with_error",
        7,
        2,
        (
            "2 problems:",
            "_parent_with_error.yaml:7:",
            "errors_in_child_and_parent.yaml:3:",
            "warmup_steps: 1000 is out of range",
        ),
    ),
    # YAML 1.1 surprises: what a person wrote is what they get
    "yaml11_sexagesimal": (
        "yaml11_sexagesimal",
        3,
        1,
        ("'1:30' has the wrong type", "not as a base-60 number", "write the number itself"),
    ),
    "yaml11_yes_key": ("yaml11_yes_key", 2, 1, ("unknown key 'yes'",)),
    "yaml11_yes_value": (
        "yaml11_yes_value",
        3,
        1,
        ("outputs.flows: 'yes' has the wrong type", "write true or false"),
    ),
    "bad_hex": ("bad_hex", 2, 1, ("steps: '0x' has the wrong type",)),
    # tags on mappings and lists, not only on scalars
    "custom_tag_mapping": (
        "custom_tag_mapping",
        2,
        1,
        ("talent: could not determine a constructor for the tag '!custom'", "YAML tags"),
    ),
    "custom_tag_list": ("custom_tag_list", 2, 1, ("the tag '!mylist'",)),
    "set_tag": ("set_tag", 2, 1, ("the tag 'tag:yaml.org,2002:set'",)),
    "timestamp_tag": ("timestamp_tag", 2, 1, ("the tag 'tag:yaml.org,2002:timestamp'",)),
    # values that validate by type but cannot give a meaningful run
    "scale_without_agents": (
        "scale_without_agents",
        1,
        1,
        ("scale 1e-05 gives about 0.0319 fund managers", "the scale must be at least 0.00031"),
    ),
    "city_multipliers_all_zero": (
        "city_multipliers_all_zero",
        3,
        1,
        ("population.city_multipliers are all zero",),
    ),
    "fund_size_huge": (
        "fund_size_huge",
        3,
        1,
        ("population.fund_size_mean: 1e+308 is out of range", "allowed: <= 1000000.0"),
    ),
    "distance_decay_tiny": (
        "distance_decay_tiny",
        3,
        1,
        ("talent.distance_decay_minutes: 1e-300 is out of range", "allowed: >= 1.0"),
    ),
    # bounded inputs: answered at once, with the file named
    "alias_bomb": ("alias_bomb", 7, 1, ("holds more than 100,000 values once its aliases",)),
    "alias_bomb_merge": (
        "alias_bomb_merge",
        45,
        1,
        ("holds more than 100,000 values once its aliases",),
    ),
    "deep_nesting": ("deep_nesting", 2, 1, ("nested deeper than 64 levels",)),
    "nesting_100": ("nesting_100", 66, 1, ("nested deeper than 64 levels",)),
    "extends_dev_zero": ("extends_dev_zero", 1, 1, ("/dev/zero is not a regular file",)),
    "extends_not_a_scenario": (
        "_not_a_scenario",
        None,
        1,
        ("is not a scenario file", "its content is not shown", "extends_not_a_scenario.yaml"),
    ),
    # terminal escape codes are shown escaped
    "escape_codes_in_key": (
        "escape_codes_in_key",
        1,
        2,
        ("name: the name must not hold control characters", "unknown key '\\x1b[2Jsteps'"),
    ),
}

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "extends_not_a_scenario": ("SECRET", "root:x"),
    "escape_codes_in_key": ("\x1b",),
}
"""Text a report must never hold: another file's content, raw terminal escape codes."""


def test_catalogue_covers_every_file() -> None:
    files = {p.stem for p in MALFORMED.glob("*.yaml") if not p.name.startswith("_")}
    assert files == set(CATALOGUE), (
        f"files without a catalogue row: {files - set(CATALOGUE)}; "
        f"rows without a file: {set(CATALOGUE) - files}"
    )
    assert len(files) >= 25, (
        f"the catalogue must hold at least 25 malformed files, has {len(files)}"
    )


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_malformed_file_gives_its_message(name: str) -> None:
    file_stem, line, count, texts = CATALOGUE[name]
    with pytest.raises(ConfigError) as caught:
        load_scenario(MALFORMED / f"{name}.yaml")
    err = caught.value
    report = err.report()
    first = err.problems[0]
    assert Path(first.file).stem == file_stem, (
        f"{name}: first problem names {first.file}, expected {file_stem}\n{report}"
    )
    assert first.line == line, (
        f"{name}: first problem at line {first.line}, expected {line}\n{report}"
    )
    assert len(err.problems) == count, (
        f"{name}: {len(err.problems)} problems, expected {count}\n{report}"
    )
    for text in texts:
        assert text in report, f"{name}: report lacks {text!r}\n{report}"
    for text in FORBIDDEN.get(name, ()):
        assert text not in report, f"{name}: report must not hold {text!r}\n{report}"
    for problem in err.problems:
        assert Path(problem.file).suffix in (".yaml", ".txt"), (
            f"{name}: a problem names no file: {problem}"
        )
        assert f"{Path(problem.file).name}:" in str(problem), (
            f"{name}: file not in the message: {problem}"
        )


def test_validate_command_reports_every_malformed_file_without_traceback() -> None:
    files = sorted(str(p) for p in MALFORMED.glob("*.yaml") if not p.name.startswith("_"))
    flowsim = Path(sys.executable).with_name("flowsim")
    done = subprocess.run(
        [str(flowsim), "validate", *files], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, (
        f"validate of malformed files exited {done.returncode}\n{done.stderr}"
    )
    assert "Traceback" not in done.stderr + done.stdout, f"a traceback was printed:\n{done.stderr}"
    for file in files:
        assert Path(file).name in done.stderr, f"the report does not name {file}:\n{done.stderr}"


# ---------------------------------------------------------------------- sweep files

SWEEPS = MALFORMED / "sweeps"

# name: (exit code of `flowsim sweep FILE --dry-run`, texts the output must hold)
SWEEP_CATALOGUE: dict[str, tuple[int, tuple[str, ...]]] = {
    "approval_bools": (2, ("approval: True is not a valid value", "a valid number")),
    "replications_text": (2, ("replications: '3' has the wrong type", "a valid integer")),
    "samples_float": (2, ("samples: 10.5 has the wrong type",)),
    "factorial_1e16": (
        2,
        ("10,000,000,000,000,000 runs", "more than the 10,000,000 a sweep may have"),
    ),
    "factorial_200k": (2, ("200,000 runs", "confirm with --yes")),
    "base_not_a_scenario": (2, ("is not a scenario file", "its content is not shown")),
    "base_dev_zero": (2, ("/dev/zero: is a device, not a regular file", "`base:`")),
    "base_missing": (2, ("no_such.yaml' not found", "relative to the sweep file")),
    "unknown_design": (2, ("design: 'grid' is not allowed", "'factorial', 'lhs'")),
    "unknown_outcome": (2, ("unknown outcome 'paperz'", "did you mean 'papers'?")),
    "unknown_parameter": (2, ("'talent.move_rat' is not a scenario parameter", "move_rate")),
    "range_reversed": (2, ("a range needs finite low < high",)),
    "seed_as_lever": (2, ("'seed' cannot be varied",)),
    "lever_and_uncertainty": (2, ("listed both as lever and as uncertainty",)),
    "sobol_one_factor": (2, ("a sobol design needs at least two factors",)),
    "no_factors": (2, ("needs at least one factor",)),
    "factorial_with_samples": (2, ("a factorial design takes no `samples:`",)),
    "log_range_from_zero": (2, ("a log range needs low > 0",)),
    "values_repeat": (2, ("values repeat",)),
    "values_mixed_types": (2, ("values must share one type",)),
    "value_out_of_range": (2, ("1.5 is not a valid value", "less than or equal to 1")),
    "syntax_error": (2, ("not valid YAML",)),
    "top_level_list": (2, ("a sweep file must be a mapping of keys, not list",)),
    "name_with_escape": (2, ("'\\x1b[2Jclear'",)),
    "custom_tag_levers": (2, ("the tag 'tag:yaml.org,2002:omap'",)),
    "alias_bomb": (2, ("holds more than 100,000 values once its aliases",)),
    "sobol_not_power_of_two": (2, ("`samples:` a power of two (got 100)", "use 64 or 128")),
    "second_order_on_lhs": (2, ("`calc_second_order:` is an option of the sobol design only",)),
    "num_levels_on_sobol": (2, ("`num_levels:` sets the levels of factorial and morris",)),
}


def _cli(argv: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``flowsim ARGV`` in this process: its exit code and everything it printed."""
    from flowsim import cli

    try:
        code = cli.main([str(a) for a in argv])
    except SystemExit as done:  # argparse's own usage errors
        code = int(done.code or 0)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_sweep_catalogue_covers_every_file() -> None:
    files = {p.stem for p in SWEEPS.glob("*.yaml") if not p.name.startswith("_")}
    assert files == set(SWEEP_CATALOGUE), (
        f"files without a row: {files - set(SWEEP_CATALOGUE)}; "
        f"rows without a file: {set(SWEEP_CATALOGUE) - files}"
    )


@pytest.mark.parametrize("name", sorted(SWEEP_CATALOGUE))
def test_malformed_sweep_file_gives_its_message(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, texts = SWEEP_CATALOGUE[name]
    done, output = _cli(["sweep", SWEEPS / f"{name}.yaml", "--dry-run"], capsys)
    assert done == code, f"{name}: exit {done}, expected {code}\n{output}"
    assert "Traceback" not in output, f"{name}: a traceback\n{output}"
    for text in texts:
        assert text in output, f"{name}: output lacks {text!r}\n{output}"
    assert "\x1b" not in output, f"{name}: a raw escape code was printed"
    assert "SECRET" not in output, f"{name}: another file's content was printed"


def test_yaml_1_2_numbers_in_a_sweep_file(capsys: pytest.CaptureFixture[str]) -> None:
    code, output = _cli(["sweep", SWEEPS / "_replications_010_ok.yaml", "--dry-run"], capsys)
    assert code == 0 and "2 design points x 10 replications = 20 runs" in output, (
        f"`replications: 010` is ten, not octal 8\n{output}"
    )


def test_yaml_1_2_values_in_a_scenario_and_in_set(tmp_path: Path) -> None:
    from flowsim.yamlio import load_yaml_text

    data = load_yaml_text(
        "a: 1e-3\nb: 010\nc: 1:30\nyes: no\nd: 0x1F\ne: 1_000\nf: .5\ng: 2024-01-01\n"
        "h: True\ni: ~\nj: .inf\n"
    ).data
    assert data == {
        "a": 0.001,
        "b": 10,
        "c": "1:30",
        "yes": "no",
        "d": 31,
        "e": 1000,
        "f": 0.5,
        "g": "2024-01-01",
        "h": True,
        "i": None,
        "j": float("inf"),
    }, data
    from flowsim.scenario import load_scenario

    path = tmp_path / "s.yaml"
    path.write_text("name: small-rates\ntalent: {move_rate: 1e-3}\n")
    assert load_scenario(path).talent.move_rate == 0.001
    assert load_scenario(path, settings=["talent.visit_rate=2e-2"]).talent.visit_rate == 0.02


# ---------------------------------------------------------------------- the command line

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import flowsim
    from flowsim.results import write_run

    scenario = flowsim.Scenario(name="tiny", scale=0.002, steps=3, warmup_steps=0)
    out = tmp_path_factory.mktemp("good") / "run"
    return write_run([flowsim.run(scenario, 1)], scenario, out)


@pytest.fixture(scope="module")
def good_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sweep_helpers import ishigami, ishigami_spec

    import flowsim

    out = tmp_path_factory.mktemp("good") / "sweep"
    flowsim.sweep(ishigami_spec("sobol", 8), model=ishigami, workers=1, out=out, progress=False)
    return out


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:30])


def _drop_row(path: Path) -> None:
    import pandas as pd

    pd.read_parquet(path).iloc[1:].to_parquet(path)


def _repeat_row(path: Path) -> None:
    import pandas as pd

    runs = pd.read_parquet(path)
    pd.concat([runs, runs.iloc[:1]]).to_parquet(path)


def _rehashed(text: str):
    """Write ``text`` into a run folder's file and its sha256 into the manifest (a forgery)."""

    def change(path: Path) -> None:
        import hashlib

        _write(path, text)
        manifest = path.parent / "manifest.json"
        record = json.loads(manifest.read_text())
        record["files"][path.name] = hashlib.sha256(text.encode()).hexdigest()
        _write(manifest, json.dumps(record))

    return change


def _status_running(path: Path) -> None:
    data = json.loads(path.read_text())
    _write(path, json.dumps({**data, "status": "running"}))


def _edit_summary(path: Path) -> None:
    _write(path, path.read_text().replace('"scale"', '"scale" ', 1))


# id: (argv, exit code, texts the output must hold, damage: (file in the copied folder, change))
# In argv, {run} and {sweep} are copies of a good run and sweep folder (damaged as given),
# {tmp} a fresh folder, {m} tests/malformed, {baseline} the shipped baseline scenario,
# {files} a folder with a FIFO (fifo.yaml) and a 50 MB file (big.yaml).
CLI_CATALOGUE: dict[str, tuple[list[str], int, tuple[str, ...], tuple[str, object] | None]] = {
    "no command": ([], 2, ("usage: flowsim",), None),
    "unknown command": (["simulate"], 2, ("invalid choice: 'simulate'",), None),
    "run missing file": (["run", "{tmp}/none.yaml"], 2, ("none.yaml: file not found",), None),
    "run a folder": (["run", "{tmp}"], 2, ("is a folder, not a YAML file",), None),
    "run a FIFO": (["run", "{files}/fifo.yaml"], 2, ("is a FIFO (named pipe)",), None),
    "run /dev/zero": (["run", "/dev/zero"], 2, ("/dev/zero: is a device",), None),
    "run a 50 MB file": (["run", "{files}/big.yaml"], 2, ("input files may be at most",), None),
    "run zero replications": (
        ["run", "{baseline}", "--replications", "0"],
        2,
        ("0 is not allowed: give 1 or more",),
        None,
    ),
    "run --set without =": (
        ["run", "{baseline}", "--set", "talent.move_rate"],
        2,
        ("--set talent.move_rate: expected KEY=VALUE",),
        None,
    ),
    "run --set with the file's problems": (
        ["run", "{m}/negative_scale.yaml", "--set", "oops"],
        2,
        ("2 problems:", "scale: -0.5 is out of range", "--set oops: expected KEY=VALUE"),
        None,
    ),
    "run --set out of range": (
        ["run", "{baseline}", "--set", "talent.move_rate=2"],
        2,
        ("--set talent.move_rate: 2 is out of range",),
        None,
    ),
    "run --set 1:30": (
        ["run", "{baseline}", "--set", "talent.distance_decay_minutes=1:30"],
        2,
        ("'1:30' has the wrong type", "base-60"),
        None,
    ),
    "run --scale negative": (
        ["run", "{baseline}", "--scale", "-1"],
        2,
        ("--scale: -1.0 is out of range",),
        None,
    ),
    "run --scale without agents": (
        ["run", "{baseline}", "--scale", "1e-9"],
        2,
        ("gives about", "the scale must be at least"),
        None,
    ),
    "run --out . --force": (
        ["run", "{baseline}", "--out", ".", "--force"],
        2,
        ("is the current folder or holds it",),
        None,
    ),
    "run --out under /proc": (
        ["run", "{baseline}", "--out", "/proc/flowsim/x"],
        2,
        ("cannot write results in /proc/flowsim",),
        None,
    ),
    "run --out at a file": (
        ["run", "{baseline}", "--out", "{tmp}/notes.txt"],
        2,
        ("exists and is not a results folder",),
        None,
    ),
    "run --out existing results": (
        ["run", "{baseline}", "--out", "{run}"],
        2,
        ("a results folder already exists here; nothing was written",),
        None,
    ),
    "run --force over a folder of other files": (
        ["run", "{baseline}", "--out", "{tmp}", "--force"],
        2,
        ("is not a flowsim results folder", "--force will not replace it"),
        None,
    ),
    "sweep --workers 0": (
        ["sweep", "{m}/sweeps/values_repeat.yaml", "--workers", "0"],
        2,
        ("--workers must be at least 1",),
        None,
    ),
    "sweep --resume without --out": (
        ["sweep", "{m}/sweeps/_replications_010_ok.yaml", "--resume"],
        2,
        ("--resume needs --out",),
        None,
    ),
    "sweep --resume of an empty folder": (
        ["sweep", "{m}/sweeps/_replications_010_ok.yaml", "--resume", "--out", "{tmp}"],
        2,
        ("nothing to resume",),
        None,
    ),
    "sweep --out at a file": (
        ["sweep", "{m}/sweeps/_replications_010_ok.yaml", "--out", "{tmp}/notes.txt"],
        2,
        ("exists and is not a folder",),
        None,
    ),
    "sweep --out a run folder": (
        ["sweep", "{m}/sweeps/_replications_010_ok.yaml", "--out", "{run}", "--force"],
        2,
        ("holds other results",),
        None,
    ),
    "sweep --scheduler not a url": (
        ["sweep", "{m}/sweeps/_replications_010_ok.yaml", "--scheduler", "not a url"],
        2,
        ("not a Dask scheduler address",),
        None,
    ),
    "sweep 200k runs without --yes": (
        ["sweep", "{m}/sweeps/factorial_200k.yaml", "--out", "{tmp}/o"],
        2,
        ("confirm with --yes",),
        None,
    ),
    "validate a sweep file": (
        ["validate", "{m}/sweeps/values_repeat.yaml"],
        2,
        ("this is a sweep file",),
        None,
    ),
    "sensitivity --conf-level 2": (
        ["sensitivity", "{sweep}", "--conf-level", "2"],
        2,
        ("--conf-level must be between 0 and 1",),
        None,
    ),
    "compare one folder": (["compare", "{run}"], 2, ("give at least two run folders",), None),
    "compare unknown output": (
        ["compare", "{run}", "{run}", "--outputs", "bogus"],
        2,
        ("unknown output(s) ['bogus']",),
        None,
    ),
    "plot no folder": (["plot", "{tmp}/none"], 2, ("no such folder",), None),
    "plot an empty folder": (["plot", "{tmp}"], 2, ("neither a run folder",), None),
    # damaged run folders
    "plot summary []": (
        ["plot", "{run}", "--out", "{tmp}/f"],
        2,
        ("summary.json changed since the run was written",),
        ("summary.json", lambda p: _write(p, "[]")),
    ),
    "plot summary [] with its hash": (
        ["plot", "{run}", "--out", "{tmp}/f"],
        2,
        ("summary.json: holds list, not a JSON object",),
        ("summary.json", _rehashed("[]")),
    ),
    "plot summary null with its hash": (
        ["plot", "{run}", "--out", "{tmp}/f"],
        2,
        ("summary.json: holds null, not a JSON object",),
        ("summary.json", _rehashed("null")),
    ),
    "compare summary null": (
        ["compare", "{run}", "{run}"],
        2,
        ("summary.json changed since the run was written",),
        ("summary.json", lambda p: _write(p, "null")),
    ),
    "compare summary [] with its hash": (
        ["compare", "{run}", "{run}"],
        2,
        ("summary.json: holds list",),
        ("summary.json", _rehashed("[]")),
    ),
    "plot edited summary": (
        ["plot", "{run}", "--out", "{tmp}/f"],
        2,
        ("summary.json changed since the run was written",),
        ("summary.json", _edit_summary),
    ),
    "compare truncated timeseries": (
        ["compare", "{run}", "{run}"],
        2,
        ("timeseries.parquet changed since the run was written",),
        ("timeseries.parquet", _truncate),
    ),
    "plot without manifest": (
        ["plot", "{run}", "--out", "{tmp}/f"],
        2,
        ("missing manifest.json",),
        ("manifest.json", lambda p: p.unlink()),
    ),
    "plot manifest not JSON": (
        ["plot", "{run}", "--out", "{tmp}/f"],
        2,
        ("manifest.json:1:", "not valid JSON"),
        ("manifest.json", lambda p: _write(p, "{oops")),
    ),
    "plot manifest without hashes": (
        ["plot", "{run}", "--out", "{tmp}/f"],
        2,
        ("lists no file hashes",),
        ("manifest.json", lambda p: _write(p, "{}")),
    ),
    # damaged sweep folders
    "plot sweep with a run id twice": (
        ["plot", "{sweep}", "--out", "{tmp}/f"],
        2,
        ("1 run ids repeated (0)",),
        ("runs.parquet", _repeat_row),
    ),
    "sensitivity sweep with a run id missing": (
        ["sensitivity", "{sweep}"],
        2,
        ("1 run ids missing (0)",),
        ("runs.parquet", _drop_row),
    ),
    "sensitivity corrupt manifest": (
        ["sensitivity", "{sweep}"],
        2,
        ("manifest.json: damaged",),
        ("manifest.json", lambda p: _write(p, '{"kind": "sw')),
    ),
    "sensitivity manifest a list": (
        ["sensitivity", "{sweep}"],
        2,
        ("manifest.json: damaged (holds list",),
        ("manifest.json", lambda p: _write(p, "[]")),
    ),
    "plot unfinished sweep": (
        ["plot", "{sweep}", "--out", "{tmp}/f"],
        2,
        ("the sweep is unfinished",),
        ("manifest.json", _status_running),
    ),
    "sensitivity edited design": (
        ["sensitivity", "{sweep}"],
        2,
        ("design.parquet changed since the sweep was written",),
        ("design.parquet", _drop_row),
    ),
    "validate a name with escape codes": (
        ["validate", "{m}/_escape_name.yaml"],
        2,
        ("name: the name must not hold control characters",),
        None,
    ),
    "plot truncated runs.parquet": (
        ["plot", "{sweep}", "--out", "{tmp}/f"],
        2,
        ("runs.parquet: cannot be read as Parquet",),
        ("runs.parquet", _truncate),
    ),
}


@pytest.fixture(scope="module")
def odd_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    folder = tmp_path_factory.mktemp("odd")
    os.mkfifo(folder / "fifo.yaml")
    with open(folder / "big.yaml", "wb") as big:
        big.write(b"name: big\n#" + b"x" * 50_000_000 + b"\n")
    return folder


@pytest.mark.parametrize("case", sorted(CLI_CATALOGUE))
def test_command_line_misuse_and_damaged_folders(
    case: str,
    good_run: Path,
    good_sweep: Path,
    odd_files: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    argv, code, texts, damage = CLI_CATALOGUE[case]
    work = tmp_path / "work"  # every folder a case may write to or --force is a fresh one
    work.mkdir()
    (work / "notes.txt").write_text("a user's file")
    run = Path(shutil.copytree(good_run, tmp_path / "run"))
    sweep = Path(shutil.copytree(good_sweep, tmp_path / "sweep"))
    if damage is not None:
        name, change = damage
        target = run if any("{run}" in a for a in argv) else sweep
        change(target / name)
    places = {
        "run": run,
        "sweep": sweep,
        "tmp": work,
        "m": MALFORMED,
        "baseline": BASELINE,
        "files": odd_files,
    }
    monkeypatch.chdir(tmp_path)
    done, output = _cli([a.format(**places) for a in argv], capsys)
    assert (work / "notes.txt").read_text() == "a user's file", f"{case}: a user's file was lost"
    assert done == code, f"{case}: exit {done}, expected {code}\n{output}"
    assert "Traceback" not in output, f"{case}: a traceback\n{output}"
    for text in texts:
        assert text in output, f"{case}: output lacks {text!r}\n{output}"


# ---------------------------------------------------------------------- targets files

TARGETS = MALFORMED / "targets"

# name: (line of the first problem, texts the report must hold); each file is targets/_good.yaml
# with one fault. `flowsim validate` and `flowsim calibrate` must exit 2 naming the file.
TARGETS_CATALOGUE: dict[str, tuple[int | None, tuple[str, ...]]] = {
    "quoted_number": (13, ("targets[0].value: '20000' has the wrong type", "without quotes")),
    "yes_for_number": (13, ("'yes' has the wrong type: expected a valid number", "as text")),
    "bool_for_integer": (4, ("replicates: True has the wrong type", "a boolean, not a number")),
    "integer_free_parameter": (
        7,
        ("free.research.partner_candidates", "whole-number parameter", "flowsim sweep"),
    ),
    "run_setting_free": (7, ("free.scale: 'scale' is a run setting", "under `run:`")),
    "no_calibration_target": (8, ("no target has `role: calibration`", "role: validation")),
    "unknown_screen_section": (6, ("'talnet' is not allowed", "did you mean 'talent'?")),
    "name_climbs_out": (1, ("'../../outside' is not a plain name", "no '/'")),
    "scenario_malformed": (
        2,
        ("scenario: the scenario file", "string_for_number.yaml:2:1: scale: 'big'", "validate"),
    ),
    "scenario_missing": (2, ("no_such_scenario.yaml': no such scenario file", "relative")),
    "unknown_output": (9, ("'pct_aplications' is not an output", "'pct_applications'")),
    "unknown_target_key": (14, ("unknown key 'tolerence'", "did you mean 'tolerance'?")),
    "alias_bomb": (10, ("more than 100,000 values once its aliases",)),
    "low_above_high": (7, ("`low` (0.16) must be below `high` (0.04)",)),
}


def test_targets_catalogue_covers_every_file() -> None:
    files = {p.stem for p in TARGETS.glob("*.yaml") if not p.name.startswith("_")}
    assert files == set(TARGETS_CATALOGUE), (
        f"files without a row: {files - set(TARGETS_CATALOGUE)}; "
        f"rows without a file: {set(TARGETS_CATALOGUE) - files}"
    )


def test_the_good_targets_file_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    done, output = _cli(["validate", TARGETS / "_good.yaml"], capsys)
    assert done == 0 and "ok (targets 'good'" in output, output


@pytest.mark.parametrize("name", sorted(TARGETS_CATALOGUE))
@pytest.mark.parametrize("command", ["validate", "calibrate"])
def test_malformed_targets_file_exits_2_naming_file_and_line(
    name: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    line, texts = TARGETS_CATALOGUE[name]
    path = TARGETS / f"{name}.yaml"
    argv = [command, path] + (
        ["--quiet", "--out", tmp_path / "out"] if command == "calibrate" else []
    )
    done, output = _cli(argv, capsys)
    assert done == 2, f"{name}: {command} exited {done}, expected 2\n{output}"
    assert "Traceback" not in output, f"{name}: a traceback\n{output}"
    where = f"{path}:{line}:" if line is not None else str(path)
    assert where in output, f"{name}: the message does not name {where}\n{output}"
    for text in texts:
        assert text in output, f"{name}: output lacks {text!r}\n{output}"
    assert not (tmp_path / "out").exists(), f"{name}: calibrate wrote an output folder"


# ---------------------------------------------------------------------- ensemble folders

ENSEMBLES = MALFORMED / "ensembles"

# name: texts the report of `flowsim run FILE --ensemble DIR` must hold (exit 2, nothing run)
ENSEMBLE_CATALOGUE: dict[str, tuple[str, ...]] = {
    "truncated_table": ("2 rows, but", "`members: 3`", "truncated"),
    "members_not_a_number": ("ensemble.yaml: `members:` must be the number of rows",),
    "manifest_alias_bomb": ("ensemble.yaml:10:36:", "more than 100,000 values"),
    "steps_column": ("line 1: column 'steps' is a run setting", "--steps"),
    "seed_column": ("column 'seed' is a run setting",),
    "misfit_members": ("3 of 3 members have within_all false", "--allow-misfit"),
    "unknown_format": ("format 'flowsim-ensemble/9' is not 'flowsim-ensemble/1'",),
    "undeclared_column": ("['talent.move_rate'] are not among the manifest's `parameters:`",),
    "infinite_value": ("line 3, column 'research.pct_prob.GD': 'inf' is not a finite number",),
    "repeated_column": ("line 1: the columns ['research.pct_prob.GD'] are named twice",),
}


def test_ensemble_catalogue_covers_every_folder() -> None:
    folders = {p.name for p in ENSEMBLES.iterdir() if p.is_dir() and not p.name.startswith("_")}
    assert folders == set(ENSEMBLE_CATALOGUE), (
        f"folders without a row: {folders - set(ENSEMBLE_CATALOGUE)}; "
        f"rows without a folder: {set(ENSEMBLE_CATALOGUE) - folders}"
    )


@pytest.mark.parametrize("name", sorted(ENSEMBLE_CATALOGUE))
def test_malformed_ensemble_folder_exits_2_before_any_run(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    out = tmp_path / "out"
    argv = ["run", BASELINE, "--ensemble", ENSEMBLES / name, "--steps", "1", "--quiet"]
    start = time.perf_counter()
    done, output = _cli([*argv, "--out", out], capsys)
    seconds = time.perf_counter() - start
    assert done == 2, f"{name}: exit {done}, expected 2\n{output}"
    assert "Traceback" not in output, f"{name}: a traceback\n{output}"
    assert f"ensembles/{name}/ensemble." in output, f"{name}: the file is not named\n{output}"
    for text in ENSEMBLE_CATALOGUE[name]:
        assert text in output, f"{name}: output lacks {text!r}\n{output}"
    assert not out.exists(), f"{name}: a results folder was written"
    assert seconds < 30, f"{name}: refused after {seconds:.0f} s"


def test_the_good_ensemble_folder_reads() -> None:
    from flowsim.ensemble import read_parameter_sets

    assert len(read_parameter_sets(ENSEMBLES / "_good")) == 3


def test_the_catalogue_holds_at_least_60_hostile_inputs() -> None:
    total = len(CATALOGUE) + len(SWEEP_CATALOGUE) + len(CLI_CATALOGUE)
    assert total >= 60, f"the hostile-input catalogue has {total} entries"
