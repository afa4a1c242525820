"""Hostile inputs: how fast they are refused, and whether every refusal is clean (issues 13, 20).

Two parts, both printed by ``python benchmarks/hostile_inputs.py``:

1. **Scenario files that attack the reader** (issue 13). Each is loaded in a fresh process
   (``flowsim.scenario.load_scenario``); the script prints the time to the refusal, the
   process's peak memory and the first line of the message. Before the input limits, the
   1 kB alias bomb took minutes and 7.5 GB, the 50 MB file 452 s and 7.4 GB, ``/dev/zero``
   ran out of memory and a FIFO blocked forever.
2. **A catalogue of malformed inputs run through the command line** (issue 20): targets
   files (``flowsim validate`` and ``flowsim calibrate``), ensemble folders (``flowsim run
   --ensemble`` and ``flowsim sweep --ensemble --dry-run``), calibration folders
   (``--resume``, ``--report``) and argument errors of every command. Each case must exit
   2, print no traceback and finish within the time limit; the script prints, per kind,
   the counts of clean refusals, tracebacks, wrong exit codes and hangs, then every case
   that was not clean.

Options: ``--catalogue-only`` skips part 1; ``--in-process`` runs the catalogue inside this
process (quick; what ``tests/test_hostile_inputs.py`` does in CI) instead of one process
a case; ``--every N`` runs every N-th case only; ``--timeout S`` the limit per case.

    python benchmarks/hostile_inputs.py
    python benchmarks/hostile_inputs.py --catalogue-only --in-process
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
MALFORMED = ROOT / "tests" / "malformed"
BASELINE = ROOT / "scenarios" / "baseline.yaml"

PROBE = """
import json, resource, sys, time
from flowsim.scenario import load_scenario
from flowsim.yamlio import ConfigError
start = time.perf_counter()
try:
    load_scenario(sys.argv[1])
    message = "loaded"
except ConfigError as err:
    message = str(err.problems[0]).splitlines()[0]
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "message": message}))
"""


def measure(path: str) -> dict:
    """Time and peak memory of loading ``path`` in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, path], capture_output=True, text=True, timeout=120
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def scenario_readers() -> None:
    """Part 1: one line per hostile scenario file."""
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.yaml"
        with big.open("wb") as handle:
            handle.write(b"name: big\n#" + b"x" * 50_000_000 + b"\n")
        fifo = Path(tmp) / "fifo.yaml"
        os.mkfifo(fifo)
        baseline = measure(str(BASELINE))
        cases = {
            "baseline.yaml (a valid scenario, for reference)": None,
            "alias bomb (1 kB)": MALFORMED / "alias_bomb.yaml",
            "alias bomb with merge keys": MALFORMED / "alias_bomb_merge.yaml",
            "3000-deep nesting": MALFORMED / "deep_nesting.yaml",
            "100-deep nesting": MALFORMED / "nesting_100.yaml",
            "50 MB file": big,
            "FIFO": fifo,
            "/dev/zero": Path("/dev/zero"),
            "extends: /dev/zero": MALFORMED / "extends_dev_zero.yaml",
        }
        print(f"{'input':48s} {'refused in':>11s} {'peak memory':>12s}  message")
        for label, path in cases.items():
            row = baseline if path is None else measure(str(path))
            print(
                f"{label:48s} {row['seconds'] * 1000:8.1f} ms {row['peak_mb']:9.0f} MB  "
                f"{row['message'][:70]}"
            )
        print("(peak memory is the whole process: Python, numpy, pandas and pydantic included)")


# ------------------------------------------------------------------ the catalogue


@dataclass(frozen=True)
class Case:
    """One hostile command line: its kind, a name, the arguments; it must exit ``code``."""

    kind: str
    name: str
    argv: tuple[str, ...]
    code: int = 2
    in_process: bool = True  # False: may start a server or spawn processes; subprocess only


def _targets_spec() -> dict:
    """A valid, tiny targets file (one free parameter, a calibration and a validation target)."""
    return {
        "name": "hostile",
        "scenario": str(BASELINE),
        "run": {"scale": 0.01, "steps": 2, "start_year": 2022, "warmup_steps": 0},
        "replicates": 2,
        "seed": 1,
        "free": {"research.pct_prob.GD": {"low": 0.04, "high": 0.16}},
        "screen": {"trajectories": 2},
        "search": {"budget": 1, "ensemble": 2},
        "targets": [
            {
                "id": "pct",
                "output": "pct_applications",
                "jurisdiction": "GD",
                "year": 2022,
                "value": 20000.0,
                "tolerance": 0.2,
                "source": "a test figure",
                "role": "calibration",
                "reason": "a test",
            },
            {
                "id": "papers",
                "output": "papers",
                "year": 2022,
                "value": 90000.0,
                "tolerance": 0.2,
                "source": "a test figure",
                "role": "validation",
                "reason": "a test",
            },
        ],
    }


def _changed(change: Callable[[dict], object]) -> str:
    spec = _targets_spec()
    change(spec)
    return yaml.safe_dump(spec, sort_keys=False)


def _target(spec: dict, **fields: object) -> None:
    spec["targets"][0].update(fields)


def _drop(spec: dict, *keys: str) -> None:
    for key in keys:
        spec.pop(key, None)


VALID_TARGETS = yaml.safe_dump(_targets_spec(), sort_keys=False)

TARGETS_TEXT: dict[str, str | Callable[[Path], str]] = {
    "value '3' (a quoted number)": _changed(lambda s: _target(s, value="3")),
    "value yes": VALID_TARGETS.replace("value: 20000.0", "value: yes"),
    "value true": VALID_TARGETS.replace("value: 20000.0", "value: true"),
    "value .nan": VALID_TARGETS.replace("value: 20000.0", "value: .nan"),
    "value .inf": VALID_TARGETS.replace("value: 20000.0", "value: .inf"),
    "tolerance '0.2'": _changed(lambda s: _target(s, tolerance="0.2")),
    "year '2022'": _changed(lambda s: _target(s, year="2022")),
    "year 2022.5": _changed(lambda s: _target(s, year=2022.5)),
    "replicates '3'": _changed(lambda s: s.update(replicates="3")),
    "replicates true": _changed(lambda s: s.update(replicates=True)),
    "seed -1": _changed(lambda s: s.update(seed=-1)),
    "free log yes": VALID_TARGETS.replace("high: 0.16", "high: 0.16\n    log: yes"),
    "free low '0.04'": _changed(lambda s: s["free"]["research.pct_prob.GD"].update(low="0.04")),
    "free low above high": _changed(
        lambda s: s["free"]["research.pct_prob.GD"].update(low=0.5, high=0.1)
    ),
    "free unknown parameter": _changed(
        lambda s: s.update(free={"talent.move_rat": {"low": 0.1, "high": 0.2}})
    ),
    "free steps (a whole number)": _changed(
        lambda s: s.update(free={"steps": {"low": 2, "high": 9}})
    ),
    "free seed": _changed(lambda s: s.update(free={"seed": {"low": 1, "high": 9}})),
    "free scale (a run setting)": _changed(
        lambda s: s.update(free={"scale": {"low": 0.01, "high": 0.02}})
    ),
    "free a mapping of lists": _changed(lambda s: s.update(free={"research.pct_prob.GD": [1, 2]})),
    "free a list": _changed(lambda s: s.update(free=["research.pct_prob.GD"])),
    "unknown top key": _changed(lambda s: s.update(replicatez=3)),
    "unknown target key": _changed(lambda s: _target(s, tolerence=0.1)),
    "targets empty": _changed(lambda s: s.update(targets=[])),
    "targets a mapping": _changed(lambda s: s.update(targets={"pct": 1})),
    "targets holds a number": _changed(lambda s: s.update(targets=[3])),
    "no calibration target": _changed(lambda s: _target(s, role="validation")),
    "role fit": _changed(lambda s: _target(s, role="fit")),
    "role missing": _changed(lambda s: s["targets"][0].pop("role")),
    "output unknown": _changed(lambda s: _target(s, output="pct_aplications")),
    "city unknown": _changed(lambda s: _target(s, jurisdiction=None, city="Shenzen")),
    "tolerance and sd": _changed(lambda s: _target(s, sd=100.0)),
    "tolerance 0": _changed(lambda s: _target(s, tolerance=0)),
    "tolerance negative": _changed(lambda s: _target(s, tolerance=-0.1)),
    "weight 0": _changed(lambda s: _target(s, weight=0)),
    "duplicate target ids": _changed(lambda s: _target(s, id="papers")),
    "id with a space": _changed(lambda s: _target(s, id="p c t")),
    "name with a slash": _changed(lambda s: s.update(name="../../escape")),
    "name with control characters": _changed(lambda s: s.update(name="a\x1b[31mred")),
    "scenario missing": _changed(lambda s: s.update(scenario="nowhere.yaml")),
    "scenario a folder": _changed(lambda s: s.update(scenario=str(ROOT / "scenarios"))),
    "scenario /dev/zero": _changed(lambda s: s.update(scenario="/dev/zero")),
    "scenario malformed": _changed(
        lambda s: s.update(scenario=str(MALFORMED / "string_for_number.yaml"))
    ),
    "scenario a number": _changed(lambda s: s.update(scenario=3)),
    "run steps 0": _changed(lambda s: s["run"].update(steps=0)),
    "run steps '2'": _changed(lambda s: s["run"].update(steps="2")),
    "run unknown key": _changed(lambda s: s["run"].update(stepz=2)),
    "search budget 0": _changed(lambda s: s["search"].update(budget=0)),
    "search batch 0": _changed(lambda s: s["search"].update(batch=0)),
    "screen levels 1": _changed(lambda s: s["screen"].update(levels=1)),
    "screen spread 1": _changed(lambda s: s["screen"].update(spread=1.0)),
    "screen sections unknown": _changed(lambda s: s["screen"].update(sections=["talnet"])),
    "top 0": _changed(lambda s: _target(s, statistic="top_share", across="city", top=0)),
    "growth_rate without base_year": _changed(lambda s: _target(s, statistic="growth_rate")),
    "share without of": _changed(lambda s: _target(s, statistic="share")),
    "flow element unknown": _changed(
        lambda s: _target(s, jurisdiction=None, output="count", flow={"element": "money"})
    ),
    "targets null": _changed(lambda s: s.update(targets=None)),
    "free null": _changed(lambda s: s.update(free=None)),
    "run a list": _changed(lambda s: s.update(run=[1, 2])),
    "screen a number": _changed(lambda s: s.update(screen=3)),
    "value 1e400": VALID_TARGETS.replace("value: 20000.0", "value: 1e400"),
    "id missing": _changed(lambda s: s["targets"][0].pop("id")),
    "source a number": _changed(lambda s: _target(s, source=3)),
    "search budget 10**9": _changed(lambda s: s["search"].update(budget=10**9)),
    "replicates 1e3": VALID_TARGETS.replace("replicates: 2", "replicates: 1e3"),
    "flow cross_border yes": VALID_TARGETS.replace(
        "jurisdiction: GD", "output: count\n  flow: {element: talent, cross_border: yes}"
    ).replace("output: pct_applications\n", ""),
    "of with an unknown key": _changed(lambda s: _target(s, statistic="share", of={"citty": "x"})),
    "base_year after year": _changed(lambda s: _target(s, statistic="growth_rate", base_year=2030)),
    "free bounds outside the range": _changed(
        lambda s: s["free"]["research.pct_prob.GD"].update(low=-0.5)
    ),
    "free log from 0": _changed(
        lambda s: s["free"]["research.pct_prob.GD"].update(low=0.0, log=True)
    ),
    "scenario empty": _changed(lambda s: s.update(scenario="")),
    "scenario a targets file": _changed(
        lambda s: s.update(scenario=str(ROOT / "scenarios" / "calibration" / "targets.yaml"))
    ),
    "deep nesting": "name: x\nrun: " + "[" * 100 + "]" * 100 + "\n",
    "a list at the top": "- name: x\n- scenario: y\n",
    "a plain string": "just some text\n",
    "empty file": "",
    "only a comment": "# nothing\n",
    "syntax error": "name: x\ntargets: [\n",
    "tab indentation": "name: x\n\tscenario: y\n",
    "duplicate key": VALID_TARGETS + "name: again\n",
    "alias bomb": (MALFORMED / "alias_bomb.yaml")
    .read_text(encoding="utf-8")
    .replace("name:", "targets:", 1)
    + "scenario: x\n",
    "python tag": VALID_TARGETS.replace("value: 20000.0", "value: !!python/object:os.system x"),
    "merge key": VALID_TARGETS + "extra: &a {x: 1}\nmore:\n  <<: *a\n",
}

TARGETS_FILES: dict[str, str] = {
    "a folder": "{tmp}",
    "a missing file": "{tmp}/missing.yaml",
    "/dev/zero": "/dev/zero",
    "a FIFO": "{tmp}/fifo.yaml",
    "not UTF-8": "{tmp}/latin1.yaml",
    "2 MB file": "{tmp}/big.yaml",
}

ENSEMBLE_PARAMETER = "research.pct_prob.GD"


def _ensemble_rows(n: int, within: bool = True) -> str:
    lines = [f"member,trial,objective,within_all,{ENSEMBLE_PARAMETER}"]
    lines += [f"{i},{i},0.1,{within},{0.05 + 0.001 * (i % 50):.3f}" for i in range(n)]
    return "\n".join(lines) + "\n"


def _manifest(members: object = 3, **extra: object) -> str:
    data = {
        "format": "flowsim-ensemble/1",
        "parameters": [ENSEMBLE_PARAMETER],
        "bounds": {ENSEMBLE_PARAMETER: [0.04, 0.16]},
        "scenario": str(BASELINE),
        "members": members,
        **extra,
    }
    return yaml.safe_dump(data, sort_keys=False)


GOOD_ROWS = _ensemble_rows(3)

# name: (ensemble.csv text or None, ensemble.yaml text or None)
ENSEMBLES: dict[str, tuple[str | None, str | None]] = {
    "truncated: fewer rows than members": (_ensemble_rows(2), _manifest(3)),
    "more rows than members": (_ensemble_rows(4), _manifest(3)),
    "members not a number": (GOOD_ROWS, _manifest("three")),
    "members negative": (GOOD_ROWS, _manifest(-1)),
    "members a float": (GOOD_ROWS, _manifest(2.5)),
    "manifest alias bomb": (
        GOOD_ROWS,
        (MALFORMED / "alias_bomb.yaml").read_text(encoding="utf-8"),
    ),
    "manifest a list": (GOOD_ROWS, "- a\n- b\n"),
    "manifest syntax error": (GOOD_ROWS, "format: [\n"),
    "manifest python tag": (GOOD_ROWS, _manifest(3) + "x: !!python/object:os.system x\n"),
    "manifest empty": (GOOD_ROWS, ""),
    "manifest unknown format": (GOOD_ROWS, _manifest(3).replace("ensemble/1", "ensemble/99")),
    "manifest parameters not a list": (
        GOOD_ROWS,
        _manifest(3).replace("parameters:\n- ", "parameters: "),
    ),
    "manifest parameter without a column": (
        GOOD_ROWS,
        _manifest(3).replace(
            f"- {ENSEMBLE_PARAMETER}", f"- {ENSEMBLE_PARAMETER}\n- talent.move_rate"
        ),
    ),
    "no manifest": (GOOD_ROWS, None),
    "no table": (None, _manifest(3)),
    "empty table": ("", _manifest(0)),
    "header only": (f"member,{ENSEMBLE_PARAMETER}\n", _manifest(0)),
    "a value not a number": (GOOD_ROWS.replace("0.051", "fast"), _manifest(3)),
    "an empty value": (GOOD_ROWS.replace("0.051", ""), _manifest(3)),
    "an infinite value": (GOOD_ROWS.replace("0.051", "inf"), _manifest(3)),
    "a value out of range": (GOOD_ROWS.replace("0.051", "-4"), _manifest(3)),
    "a ragged row": (GOOD_ROWS + "3,3,0.1,True,0.05,9,9\n", _manifest(4)),
    "repeated member ids": (GOOD_ROWS.replace("\n1,", "\n0,"), _manifest(3)),
    "member id not whole": (GOOD_ROWS.replace("\n1,", "\n1.5,"), _manifest(3)),
    "a steps column": (
        "member,within_all,steps," + ENSEMBLE_PARAMETER + "\n0,True,5,0.05\n1,True,6,0.06\n",
        _manifest(2).replace(f"- {ENSEMBLE_PARAMETER}", f"- steps\n- {ENSEMBLE_PARAMETER}"),
    ),
    "a scale column": (
        "member,within_all,scale," + ENSEMBLE_PARAMETER + "\n0,True,0.5,0.05\n",
        _manifest(1).replace(f"- {ENSEMBLE_PARAMETER}", f"- scale\n- {ENSEMBLE_PARAMETER}"),
    ),
    "a seed column": (
        "member,within_all,seed," + ENSEMBLE_PARAMETER + "\n0,True,5,0.05\n",
        _manifest(1).replace(f"- {ENSEMBLE_PARAMETER}", f"- seed\n- {ENSEMBLE_PARAMETER}"),
    ),
    "a start_year column": (
        "member,within_all,start_year," + ENSEMBLE_PARAMETER + "\n0,True,2030,0.05\n",
        _manifest(1).replace(f"- {ENSEMBLE_PARAMETER}", f"- start_year\n- {ENSEMBLE_PARAMETER}"),
    ),
    "an unknown parameter": (
        "member,within_all,talent.move_rat\n0,True,0.01\n",
        _manifest(1).replace(ENSEMBLE_PARAMETER, "talent.move_rat"),
    ),
    "a group, not a parameter": (
        "member,within_all,talent\n0,True,0.01\n",
        _manifest(1).replace(ENSEMBLE_PARAMETER, "talent"),
    ),
    "an undeclared parameter column": (
        GOOD_ROWS.replace(ENSEMBLE_PARAMETER, f"{ENSEMBLE_PARAMETER},talent.move_rate").replace(
            "True,0.05", "True,0.05,0.5"
        ),
        _manifest(3),
    ),
    "members that miss their targets": (_ensemble_rows(3, within=False), _manifest(3)),
    "100,000 rows": (_ensemble_rows(100_000), _manifest(100_000)),
    "binary garbage": ("\x00\x01\x02garbage\xff\n", _manifest(3)),
    "duplicate columns": (
        GOOD_ROWS.replace(ENSEMBLE_PARAMETER, f"{ENSEMBLE_PARAMETER},{ENSEMBLE_PARAMETER}").replace(
            "True,0.05", "True,0.05,0.06"
        ),
        _manifest(3),
    ),
}


SWEEP = """\
name: hostile-sweep
base: {base}
design: {design}
levers:
  policy.corridors.GD-HK.talent.approval: {{low: 0.2, high: 0.85}}
  talent.move_rate: {{low: 0.005, high: 0.02}}
outcomes: [papers]
"""

TINY = "name: tiny\nscale: 0.01\nsteps: 1\nwarmup_steps: 0\n"
"""The base scenario of the sweep cases: a dry run times one run of it."""

SWEEP_FILES: dict[str, tuple[str, str]] = {
    "sobol samples 100 (not a power of two)": ("sobol", "samples: 100\n"),
    "sobol samples 3": ("sobol", "samples: 3\n"),
    "calc_second_order on lhs": ("lhs", "samples: 8\ncalc_second_order: true\n"),
    "calc_second_order on factorial": ("factorial", "calc_second_order: true\n"),
    "num_levels on lhs": ("lhs", "samples: 8\nnum_levels: 7\n"),
    "num_levels on sobol": ("sobol", "samples: 8\nnum_levels: 7\n"),
    "samples on factorial": ("factorial", "samples: 8\n"),
}


def _write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def build_cases(tmp: Path) -> list[Case]:
    """Write every hostile input under ``tmp`` and return the command lines that read them."""
    cases: list[Case] = []
    files = tmp / "files"
    files.mkdir(parents=True, exist_ok=True)
    os.mkfifo(files / "fifo.yaml")
    _write(files / "latin1.yaml", "name: caf\xe9\n".encode("latin-1"))
    _write(files / "big.yaml", "name: big\n#" + "x" * 2_000_000 + "\n")
    out = str(tmp / "out")

    # targets files: validate, calibrate, calibrate --screen
    for i, (name, text) in enumerate(TARGETS_TEXT.items()):
        path = _write(tmp / "targets" / f"t{i:03d}.yaml", text if isinstance(text, str) else "")
        cases.append(Case("targets", f"validate: {name}", ("validate", str(path))))
        cases.append(
            Case(
                "targets",
                f"calibrate: {name}",
                ("calibrate", str(path), "--workers", "1", "--quiet", "--out", f"{out}/c{i}"),
            )
        )
        if name.startswith("screen"):
            cases.append(
                Case(
                    "targets",
                    f"calibrate --screen: {name}",
                    (
                        "calibrate",
                        str(path),
                        "--screen",
                        "--workers",
                        "1",
                        "--quiet",
                        "--out",
                        f"{out}/s{i}",
                    ),
                )
            )
    for name, where in TARGETS_FILES.items():
        path = where.format(tmp=files)
        cases.append(Case("targets", f"validate: {name}", ("validate", path)))
        cases.append(
            Case("targets", f"calibrate: {name}", ("calibrate", path, "--out", f"{out}/f"))
        )

    # calibration folders: --resume and --report on damaged folders
    good_targets = _write(tmp / "targets" / "good.yaml", VALID_TARGETS)
    single = _write(
        tmp / "targets" / "one_replicate.yaml",
        _changed(lambda s: s.update(replicates=1)),
    )
    folders = {
        "no calibration.json": {"trials.jsonl": ""},
        "damaged calibration.json": {"calibration.json": "{not json", "trials.jsonl": ""},
        "calibration.json a list": {"calibration.json": "[]", "trials.jsonl": ""},
        "a bad log line": {
            "calibration.json": "{}",
            "trials.jsonl": '{"trial": 0, "params": {}}\n[1, 2]\n',
        },
        "a log of garbage": {"calibration.json": "{}", "trials.jsonl": "garbage\n\x00\n"},
        "a log whose trial lacks values": {
            "calibration.json": "{}",
            "trials.jsonl": json.dumps(
                {"trial": 0, "params": {ENSEMBLE_PARAMETER: 0.1}, "objective": 1.0}
            )
            + "\n",
        },
    }
    for i, (name, content) in enumerate(folders.items()):
        folder = tmp / "calibrations" / f"c{i}"
        folder.mkdir(parents=True)
        for file, text in content.items():
            _write(folder / file, text)
        for flag in ("--resume", "--report"):
            cases.append(
                Case(
                    "calibration folders",
                    f"calibrate {flag}: {name}",
                    (
                        "calibrate",
                        str(good_targets),
                        flag,
                        "--workers",
                        "1",
                        "--quiet",
                        "--out",
                        str(folder),
                    ),
                )
            )
    user = tmp / "calibrations" / "users"
    _write(user / "report.txt", "the user's own report")
    _write(user / "best.yaml", "name: mine\n")
    cases.append(
        Case(
            "calibration folders",
            "calibrate --out a folder of the user's files",
            ("calibrate", str(good_targets), "--workers", "1", "--quiet", "--out", str(user)),
        )
    )
    cases.append(
        Case(
            "calibration folders",
            "calibrate --out a file",
            ("calibrate", str(good_targets), "--quiet", "--out", str(user / "report.txt")),
        )
    )
    cases.append(
        Case(
            "calibration folders",
            "calibrate --screen with 1 replicate",
            (
                "calibrate",
                str(single),
                "--screen",
                "--workers",
                "1",
                "--quiet",
                "--out",
                f"{out}/one",
            ),
        )
    )

    # sweep files: design options that do not fit the design
    tiny = _write(tmp / "tiny.yaml", TINY)
    for i, (name, (design, extra)) in enumerate(SWEEP_FILES.items()):
        path = _write(tmp / "sweeps" / f"s{i}.yaml", SWEEP.format(base=tiny, design=design) + extra)
        cases.append(
            Case("sweep files", f"sweep --dry-run: {name}", ("sweep", str(path), "--dry-run"))
        )

    # ensemble folders: run --ensemble and sweep --ensemble --dry-run
    sweep = _write(tmp / "sweep.yaml", SWEEP.format(base=tiny, design="factorial"))
    for i, (name, (table, manifest)) in enumerate(ENSEMBLES.items()):
        folder = tmp / "ensembles" / f"e{i:03d}"
        folder.mkdir(parents=True)
        if table is not None:
            _write(folder / "ensemble.csv", table)
        if manifest is not None:
            _write(folder / "ensemble.yaml", manifest)
        cases.append(
            Case(
                "ensembles",
                f"run --ensemble: {name}",
                (
                    "run",
                    str(BASELINE),
                    "--ensemble",
                    str(folder),
                    "--steps",
                    "1",
                    "--scale",
                    "0.01",
                    "--set",
                    "warmup_steps=0",
                    "--quiet",
                    "--out",
                    f"{out}/r{i}",
                ),
            )
        )
        cases.append(
            Case(
                "ensembles",
                f"sweep --ensemble --dry-run: {name}",
                ("sweep", str(sweep), "--ensemble", str(folder), "--dry-run", "--steps", "1"),
            )
        )
    big = tmp / "ensembles" / "huge"
    big.mkdir()
    _write(big / "ensemble.yaml", _manifest(3))
    with open(big / "ensemble.csv", "w", encoding="utf-8") as handle:
        handle.write(GOOD_ROWS)
        handle.write("#" + "x" * 60_000_000 + "\n")
    cases.append(
        Case(
            "ensembles",
            "run --ensemble: a 60 MB ensemble.csv",
            (
                "run",
                str(BASELINE),
                "--ensemble",
                str(big),
                "--steps",
                "1",
                "--quiet",
                "--out",
                f"{out}/big",
            ),
        )
    )
    fifo = tmp / "ensembles" / "fifo"
    fifo.mkdir()
    _write(fifo / "ensemble.yaml", _manifest(3))
    os.mkfifo(fifo / "ensemble.csv")
    cases.append(
        Case(
            "ensembles",
            "run --ensemble: ensemble.csv a FIFO",
            (
                "run",
                str(BASELINE),
                "--ensemble",
                str(fifo),
                "--steps",
                "1",
                "--quiet",
                "--out",
                f"{out}/fifo",
            ),
        )
    )
    cases.append(
        Case(
            "ensembles",
            "run --ensemble: a file, not a folder",
            ("run", str(BASELINE), "--ensemble", str(BASELINE), "--quiet", "--out", f"{out}/x"),
        )
    )

    # command lines: argument errors of every command
    cases += command_line_cases(tmp, out, good_targets, sweep)
    cases += shipped_malformed_cases(out)
    return cases


def shipped_malformed_cases(out: str) -> list[Case]:
    """The held-in examples of ``tests/malformed/targets/`` and ``tests/malformed/ensembles/``."""
    cases = []
    for path in sorted((MALFORMED / "targets").glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        cases.append(
            Case(
                "targets", f"validate: tests/malformed/targets/{path.name}", ("validate", str(path))
            )
        )
    for folder in sorted((MALFORMED / "ensembles").glob("*")):
        if folder.is_dir() and not folder.name.startswith("_"):
            cases.append(
                Case(
                    "ensembles",
                    f"run --ensemble: tests/malformed/ensembles/{folder.name}",
                    (
                        "run",
                        str(BASELINE),
                        "--ensemble",
                        str(folder),
                        "--steps",
                        "1",
                        "--scale",
                        "0.01",
                        "--set",
                        "warmup_steps=0",
                        "--quiet",
                        "--out",
                        f"{out}/m-{folder.name}",
                    ),
                )
            )
    return cases


def command_line_cases(tmp: Path, out: str, targets: Path, sweep: Path) -> list[Case]:
    """Argument errors of every command (``flowsim X --help`` lists their options)."""
    base = str(BASELINE)
    missing = str(tmp / "missing")
    empty = tmp / "empty-folder"
    empty.mkdir(exist_ok=True)
    lines: dict[str, tuple[str, ...]] = {
        "no command": (),
        "unknown command": ("runn",),
        "validate without a file": ("validate",),
        "validate a folder": ("validate", str(empty)),
        "validate a missing file": ("validate", missing),
        "run without a file": ("run",),
        "run an unknown option": ("run", base, "--stepz", "3"),
        "run --steps 0": ("run", base, "--steps", "0", "--out", f"{out}/a"),
        "run --steps -5": ("run", base, "--steps", "-5", "--out", f"{out}/a"),
        "run --steps abc": ("run", base, "--steps", "abc"),
        "run --steps 1e9": ("run", base, "--steps", "1000000000", "--out", f"{out}/a"),
        "run --scale 0": ("run", base, "--scale", "0", "--out", f"{out}/a"),
        "run --scale nan": ("run", base, "--scale", "nan", "--out", f"{out}/a"),
        "run --scale inf": ("run", base, "--scale", "inf", "--out", f"{out}/a"),
        "run --scale -1": ("run", base, "--scale", "-1", "--out", f"{out}/a"),
        "run --seed -1": ("run", base, "--seed", "-1", "--out", f"{out}/a"),
        "run --seed 2**64": ("run", base, "--seed", str(2**64), "--out", f"{out}/a"),
        "run --replications 0": ("run", base, "--replications", "0"),
        "run --replications -2": ("run", base, "--replications", "-2"),
        "run --set without =": ("run", base, "--set", "talent.move_rate"),
        "run --set unknown key": ("run", base, "--set", "talent.move_rat=0.1", "--out", f"{out}/a"),
        "run --set a bad value": (
            "run",
            base,
            "--set",
            "talent.move_rate=fast",
            "--out",
            f"{out}/a",
        ),
        "run --set a YAML bomb": ("run", base, "--set", "talent.move_rate=[" * 200),
        "run --set steps=0": ("run", base, "--set", "steps=0", "--out", f"{out}/a"),
        "run a missing file": ("run", missing),
        "run a folder": ("run", str(empty)),
        "run /dev/zero": ("run", "/dev/zero"),
        "run --ensemble missing": ("run", base, "--ensemble", missing, "--out", f"{out}/a"),
        "run --out a file": ("run", base, "--steps", "1", "--out", base),
        "run --out under /proc": ("run", base, "--steps", "1", "--out", "/proc/flowsim-x"),
        "cache without an action": ("cache",),
        "cache an unknown action": ("cache", "purge"),
        "cache info with a stray argument": ("cache", "info", "everything"),
        "run --steady-state with a start date": (
            "run",
            base,
            "--steady-state",
            "--set",
            "timing.start=3",
            "--out",
            f"{out}/ss",
        ),
        "run a start date past the run": (
            "run",
            base,
            "--steps",
            "6",
            "--set",
            "timing.start=2030-01",
            "--out",
            f"{out}/td",
        ),
        "run a start date that is not a month": (
            "run",
            base,
            "--set",
            "timing.start=2026-13",
            "--out",
            f"{out}/tm",
        ),
        "describe without a file": ("describe",),
        "describe a missing file": ("describe", missing),
        "describe an unknown option": ("describe", base, "--plainn"),
        "sweep without a file": ("sweep",),
        "sweep --workers 0": ("sweep", str(sweep), "--workers", "0", "--dry-run"),
        "sweep --workers -1": ("sweep", str(sweep), "--workers", "-1", "--dry-run"),
        "sweep --workers abc": ("sweep", str(sweep), "--workers", "abc"),
        "sweep --samples 0": ("sweep", str(sweep), "--samples", "0", "--dry-run"),
        "sweep --replications 0": ("sweep", str(sweep), "--replications", "0", "--dry-run"),
        "sweep --steps 0": ("sweep", str(sweep), "--steps", "0", "--dry-run"),
        "sweep --scale 0": ("sweep", str(sweep), "--scale", "0", "--dry-run"),
        "sweep --scale nan": ("sweep", str(sweep), "--scale", "nan", "--dry-run"),
        "sweep --batch-size 0": ("sweep", str(sweep), "--batch-size", "0", "--dry-run"),
        "sweep --workers and --scheduler": (
            "sweep",
            str(sweep),
            "--workers",
            "2",
            "--scheduler",
            "tls://127.0.0.1:1",
        ),
        "sweep --scheduler not an address": ("sweep", str(sweep), "--scheduler", "nowhere"),
        "sweep --tls-cert without --scheduler": (
            "sweep",
            str(sweep),
            "--tls-cert",
            missing,
            "--dry-run",
        ),
        "sweep --resume without --out": ("sweep", str(sweep), "--resume"),
        "sweep --resume a missing folder": ("sweep", str(sweep), "--resume", "--out", missing),
        "sweep a scenario file": ("sweep", base, "--dry-run"),
        "sensitivity without a folder": ("sensitivity",),
        "sensitivity a missing folder": ("sensitivity", missing),
        "sensitivity an empty folder": ("sensitivity", str(empty)),
        "sensitivity --conf-level 2": ("sensitivity", str(empty), "--conf-level", "2"),
        "sensitivity --resamples abc": ("sensitivity", str(empty), "--resamples", "abc"),
        "sensitivity --resamples 0": ("sensitivity", str(empty), "--resamples", "0"),
        "plot without a folder": ("plot",),
        "plot a missing folder": ("plot", missing),
        "plot an empty folder": ("plot", str(empty)),
        "plot --format pdf": ("plot", str(empty), "--format", "pdf"),
        "plot --outputs empty": ("plot", str(empty), "--outputs", ""),
        "compare one folder": ("compare", str(empty)),
        "compare missing folders": ("compare", missing, missing + "2"),
        "compare empty folders": ("compare", str(empty), str(empty)),
        "compare --out not csv": ("compare", str(empty), str(empty), "--out", f"{out}/x.txt"),
        "report one folder": ("report", str(empty)),
        "report missing folders": ("report", missing, missing + "2", "--out", f"{out}/r.html"),
        "report empty folders": ("report", str(empty), str(empty), "--out", f"{out}/r.html"),
        "report --out a folder": ("report", str(empty), str(empty), "--out", str(empty)),
        "report unknown option": ("report", str(empty), str(empty), "--colour", "red"),
        "explain one folder": ("explain", str(empty)),
        "explain missing folders": ("explain", missing, missing + "2"),
        "explain empty folders": ("explain", str(empty), str(empty), "--out", f"{out}/e"),
        "calibrate without a file": ("calibrate",),
        "calibrate a missing file": ("calibrate", missing),
        "calibrate a scenario file": ("calibrate", base, "--out", f"{out}/cal"),
        "calibrate --budget 0": ("calibrate", str(targets), "--budget", "0"),
        "calibrate --budget -3": ("calibrate", str(targets), "--budget", "-3"),
        "calibrate --budget abc": ("calibrate", str(targets), "--budget", "abc"),
        "calibrate --workers 0": ("calibrate", str(targets), "--workers", "0", "--out", f"{out}/w"),
        "calibrate --resume and --report": (
            "calibrate",
            str(targets),
            "--resume",
            "--report",
            "--out",
            f"{out}/rr",
        ),
        "calibrate --screen and --resume": (
            "calibrate",
            str(targets),
            "--screen",
            "--resume",
            "--out",
            f"{out}/sr",
        ),
        "calibrate --report on a missing folder": (
            "calibrate",
            str(targets),
            "--report",
            "--out",
            missing,
        ),
        "calibrate --resume on an empty folder": (
            "calibrate",
            str(targets),
            "--resume",
            "--out",
            str(empty),
        ),
        "discover without options": ("discover", str(empty)),
        "discover a missing folder": (
            "discover",
            missing,
            "--outcome",
            "papers",
            "--threshold",
            "1",
        ),
        "discover --threshold abc": (
            "discover",
            str(empty),
            "--outcome",
            "papers",
            "--threshold",
            "x",
        ),
        "discover --threshold nan": (
            "discover",
            str(empty),
            "--outcome",
            "papers",
            "--threshold",
            "nan",
        ),
        "discover --peel-alpha 2": (
            "discover",
            str(empty),
            "--outcome",
            "papers",
            "--threshold",
            "1",
            "--peel-alpha",
            "2",
        ),
        "discover --above and --below": (
            "discover",
            str(empty),
            "--outcome",
            "papers",
            "--threshold",
            "1",
            "--above",
            "--below",
        ),
        "run --set =3": ("run", base, "--set", "=3", "--out", f"{out}/a"),
        "run --ensemble an empty folder": (
            "run",
            base,
            "--ensemble",
            str(empty),
            "--out",
            f"{out}/a",
        ),
        "describe /dev/zero": ("describe", "/dev/zero"),
        "describe a folder": ("describe", str(empty)),
        "validate a FIFO among files": ("validate", base, str(tmp / "files" / "fifo.yaml")),
        "compare --ensemble missing": ("compare", str(empty), str(empty), "--ensemble", missing),
        "sensitivity --outcome on an empty folder": ("sensitivity", str(empty), "--outcome", "x"),
        "explain --outputs on empty folders": ("explain", str(empty), str(empty), "--outputs", "x"),
        "discover --box -1": (
            "discover",
            str(empty),
            "--outcome",
            "papers",
            "--threshold",
            "1",
            "--box",
            "-1",
        ),
        "discover --mass-min 2": (
            "discover",
            str(empty),
            "--outcome",
            "papers",
            "--threshold",
            "1",
            "--mass-min",
            "2",
        ),
        "calibrate --out a file": ("calibrate", str(targets), "--out", base),
        "calibrate --screen --out a folder of other files": (
            "calibrate",
            str(targets),
            "--screen",
            "--out",
            str(tmp / "files"),
        ),
        "export without a folder": ("export", "--format", "csv"),
        "export without --format": ("export", base),
        "export --format pdf": ("export", str(empty), "--format", "pdf"),
        "export a missing folder": ("export", missing, "--format", "csv"),
        "export an empty folder": ("export", str(empty), "--format", "xlsx"),
        "export a scenario file": ("export", base, "--format", "csv", "--out", f"{out}/e"),
        "dashboard an unknown option": ("dashboard", "--portt", "1"),
        "dashboard --port abc": ("dashboard", "--port", "abc"),
        "dashboard a missing scenario": ("dashboard", missing),
        "dashboard --results a file": ("dashboard", "--results", base),
        "dashboard --results a missing folder": ("dashboard", "--results", missing),
    }
    cases = [Case("command lines", name, argv) for name, argv in lines.items()]
    serving = {
        "dashboard --port 99999": ("dashboard", "--port", "99999"),
        "dashboard --port -1": ("dashboard", "--port", "-1"),
    }
    cases += [Case("command lines", n, a, in_process=False) for n, a in serving.items()]
    return cases


# ------------------------------------------------------------------ running a case


class _Hang(BaseException):  # not an Exception: no `except Exception` in flowsim swallows it
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang


def run_in_process(case: Case, timeout: float) -> tuple[int | None, str, float]:
    """(exit code or None for a hang, output, seconds) of ``flowsim.cli.main(case.argv)``."""
    from flowsim.cli import main

    buffer = io.StringIO()
    start = time.perf_counter()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    code: int | None
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            try:
                code = main(list(case.argv))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except _Hang:
        code = None
    except BaseException:  # noqa: BLE001 - an escaped exception is what this counts
        import traceback

        buffer.write("Traceback (most recent call last):\n" + traceback.format_exc())
        code = 1
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return code, buffer.getvalue(), time.perf_counter() - start


def run_in_subprocess(case: Case, timeout: float, cwd: Path) -> tuple[int | None, str, float]:
    """(exit code or None for a hang, output, seconds) of ``python -m flowsim.cli ARGV``.

    The command runs in a session of its own; on a hang the whole session is killed (a
    dashboard's server process included), so nothing outlives its case.
    """
    start = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    with subprocess.Popen(
        [sys.executable, "-m", "flowsim.cli", *case.argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        cwd=cwd,
        env=env,
        start_new_session=True,
    ) as process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            output, _ = process.communicate()
            return None, output or "", time.perf_counter() - start
    return process.returncode, output or "", time.perf_counter() - start


def verdict(case: Case, code: int | None, output: str) -> str:
    """``clean``, ``traceback``, ``wrong exit code`` or ``hang``."""
    if code is None:
        return "hang"
    if "Traceback (most recent call last)" in output:
        return "traceback"
    if code != case.code:
        return "wrong exit code"
    return "clean"


VERDICTS = ("clean", "traceback", "wrong exit code", "hang")


def run_catalogue(
    *, in_process: bool, every: int = 1, timeout: float = 60.0, show: bool = True
) -> dict[str, Counter]:
    """Run the catalogue; return ``{kind: Counter(verdict)}`` (and ``"failures"`` lines)."""
    counts: dict[str, Counter] = {}
    failures: list[str] = []
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        cases = build_cases(tmp)
        work = tmp / "cwd"
        work.mkdir()
        os.chdir(work)  # default output folders (results/...) land in the temporary folder
        try:
            for i, case in enumerate(cases):
                if i % every:
                    continue
                if in_process and not case.in_process:
                    continue
                if in_process:
                    code, output, seconds = run_in_process(case, timeout)
                else:
                    code, output, seconds = run_in_subprocess(case, timeout, work)
                result = verdict(case, code, output)
                counts.setdefault(case.kind, Counter())[result] += 1
                if result != "clean":
                    last = [line for line in output.strip().splitlines() if line.strip()]
                    failures.append(
                        f"[{result}] {case.kind}: {case.name} (exit {code}, {seconds:.1f} s): "
                        + (last[-1][:160] if last else "no output")
                    )
        finally:
            os.chdir(cwd)
    if show:
        print(f"\n{'kind':24s} {'cases':>6s} " + " ".join(f"{v:>16s}" for v in VERDICTS))
        total: Counter = Counter()
        for kind, counter in counts.items():
            total.update(counter)
            print(
                f"{kind:24s} {sum(counter.values()):6d} "
                + " ".join(f"{counter[v]:16d}" for v in VERDICTS)
            )
        print(
            f"{'all':24s} {sum(total.values()):6d} " + " ".join(f"{total[v]:16d}" for v in VERDICTS)
        )
        for line in failures:
            print(line)
    counts["failures"] = Counter(failures)
    return counts


def main() -> None:
    """Print part 1 (unless --catalogue-only), then the catalogue's counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalogue-only", action="store_true")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--every", type=int, default=1, metavar="N")
    parser.add_argument("--timeout", type=float, default=60.0, metavar="S")
    args = parser.parse_args()
    if not args.catalogue_only:
        scenario_readers()
    run_catalogue(in_process=args.in_process, every=args.every, timeout=args.timeout)


if __name__ == "__main__":
    main()
