"""Documentation that states a default says the code's default; hints point the right way."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from flowsim.params import Scenario
from flowsim.yamlio import suggest

ROOT = Path(__file__).resolve().parents[1]


def test_odd_states_the_default_warm_up_and_run_length():
    text = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    found = re.search(r"\(default (\d+) \+ (\d+)", text)
    assert found, "docs/ODD.md states the default warm-up + run length as '(default W + S'"
    defaults = Scenario()
    assert (int(found[1]), int(found[2])) == (defaults.warmup_steps, defaults.steps), (
        f"ODD says {found[1]} + {found[2]} months, the code "
        f"{defaults.warmup_steps} + {defaults.steps}"
    )


def test_readme_says_the_models_default_scale():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    stated = [float(x) for x in re.findall(r"\bthe default scale (\d+(?:\.\d+)?)", text)]
    wrong = [x for x in stated if x != Scenario().scale]
    assert not wrong, f"README calls {wrong} 'the default scale'; it is {Scenario().scale}"


def test_a_reversed_corridor_suggests_the_corridor():
    corridors = ["GD-HK", "GD-MO", "HK-MO"]
    assert suggest("HK-GD", corridors) == "GD-HK", "HK-GD is GD-HK written the other way"
    assert suggest("MO-HK", corridors) == "HK-MO"
    assert suggest("GD-HX", corridors) == "GD-HK", "a typo still gets the nearest name"


def test_no_binary_or_wheel_is_committed():
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout: {listed.stderr.strip()}")
    files = listed.stdout.split()
    packages = [f for f in files if f.endswith((".whl", ".tar.gz", ".zip", ".egg"))]
    assert not packages, f"packages come from the index, not the repository: {packages}"


def test_runtime_dependencies_cover_what_mesa_imports():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {re.split(r"[<>=\[ ;]", d, maxsplit=1)[0].lower() for d in project["dependencies"]}
    assert "networkx" in names, "Mesa 3.5 imports networkx: a plain install needs it"
    assert "cryptography" in names, "local sweep clusters' TLS credentials need cryptography"


def test_the_quicker_look_at_the_sobol_sweep_is_quick():
    from flowsim.sweep.plan import plan_sweep

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    readme += (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")
    sweep_file = ROOT / "scenarios" / "sweeps" / "sobol_levers.yaml"
    commands = [
        line
        for line in (readme + sweep_file.read_text(encoding="utf-8")).splitlines()
        if "flowsim sweep scenarios/sweeps/sobol_levers.yaml --scale" in line
    ]
    assert commands, "the README and the sweep file show a quicker look"
    for line in commands:
        found = re.search(r"--samples (\d+)", line)
        assert found, f"a quicker look sets --samples: {line.strip()}"
        plan = plan_sweep(sweep_file, scale=0.005, samples=int(found[1]))
        assert plan.n_runs <= 400, f"{line.strip()}: {plan.n_runs} runs is not a quick look"


def test_ci_smoke_tests_a_plain_install_on_the_newest_python():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    smoke = (ROOT / ".ci" / "smoke-plain-install").read_text(encoding="utf-8")
    assert "bash .ci/smoke-plain-install" in ci, ".ci/run ends with the plain-install smoke test"
    installs = [line for line in smoke.splitlines() if "pip install" in line and "pip " in line]
    assert any(line.rstrip().endswith("install --quiet .") for line in installs), installs
    assert "[test]" not in smoke, "no test extra: what a user gets from `pip install flowsim`"
    assert smoke.index("3.13") < smoke.index("3.12"), "the newest Python first"
    for step in ('flowsim" validate', 'flowsim" run', 'flowsim" plot', 'flowsim" sweep'):
        assert step in smoke, f"the smoke test runs {step}"
