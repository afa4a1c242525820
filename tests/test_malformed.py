"""The catalogue of malformed scenario files and the message each must produce.

Each file in ``tests/malformed/`` (besides the ``_parent*`` files that others
extend) has a row: the file the first problem must name, its line, how many
problems the file has, and text the report must contain.
"""

from __future__ import annotations

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
}


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
    for problem in err.problems:
        assert problem.file.endswith(".yaml"), f"{name}: a problem names no file: {problem}"
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
