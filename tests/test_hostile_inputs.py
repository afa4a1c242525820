"""benchmarks/hostile_inputs.py in CI: every hostile command line is refused cleanly.

The benchmark's catalogue (malformed targets files, ensemble folders, calibration
folders, sweep files and argument errors of every command) is run in this process at
a small size: every third case, each under a time limit. Each must exit 2 with no
traceback. The full catalogue, one process a case, is
``python benchmarks/hostile_inputs.py --catalogue-only``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "hostile_inputs.py"


@pytest.fixture(scope="module")
def hostile():
    spec = importlib.util.spec_from_file_location("hostile_inputs", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules["hostile_inputs"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("hostile_inputs", None)


def test_the_catalogue_covers_every_kind_and_every_command(hostile, tmp_path):
    cases = hostile.build_cases(tmp_path)
    kinds = {c.kind for c in cases}
    assert kinds == {"targets", "calibration folders", "sweep files", "ensembles", "command lines"}
    assert len(cases) >= 300, f"the catalogue holds {len(cases)} cases"
    commands = {c.argv[0] for c in cases if c.kind == "command lines" and c.argv}
    from flowsim.cli import COMMANDS

    assert set(COMMANDS) <= commands, f"commands without a case: {set(COMMANDS) - commands}"


def test_hostile_inputs_are_refused_with_exit_2_and_no_traceback(hostile, capsys):
    counts = hostile.run_catalogue(in_process=True, every=3, timeout=30.0)
    failures = sorted(counts.pop("failures"))
    totals = {v: sum(c[v] for c in counts.values()) for v in hostile.VERDICTS}
    capsys.readouterr()
    assert totals["clean"] >= 100, f"too few cases ran: {totals}"
    assert totals["traceback"] == totals["wrong exit code"] == totals["hang"] == 0, (
        f"{totals}\n" + "\n".join(failures)
    )


def test_a_case_that_prints_a_traceback_or_exits_0_is_counted(hostile):
    case = hostile.Case("command lines", "probe", ("validate",))
    assert hostile.verdict(case, 2, "usage: ...") == "clean"
    assert hostile.verdict(case, 1, "Traceback (most recent call last):\n") == "traceback"
    assert hostile.verdict(case, 0, "ok") == "wrong exit code"
    assert hostile.verdict(case, None, "") == "hang"
