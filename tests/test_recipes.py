"""The Python recipes of docs/recipes.md run as written, at a tiny scale.

Each recipe's code block is taken from the page, its scale and sample sizes are swapped for
tiny ones (each swap must match exactly once, so an edit of the page that breaks a swap
fails here rather than silently running a big job), and it is executed; then what it
computed is checked. The SLURM and Kubernetes recipes need a cluster and are not run.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "recipes.md"
TINY = '{"scale": 0.005, "steps": 3, "warmup_steps": 6}'


def recipe(heading: str) -> str:
    """The first ```python block under ``## heading``."""
    text = PAGE.read_text(encoding="utf-8")
    section = text.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def shrink(code: str, swaps: dict[str, str]) -> str:
    for old, new in swaps.items():
        assert code.count(old) == 1, f"the recipe no longer contains {old!r} once: update the test"
        code = code.replace(old, new)
    return code


def run(code: str, monkeypatch) -> dict:
    monkeypatch.chdir(ROOT)  # the recipes name scenarios/... relative to a clone
    namespace: dict = {"__name__": "recipe"}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        exec(compile(code, str(PAGE), "exec"), namespace)  # noqa: S102 - our own docs
    return namespace


def test_salib_sobol_recipe(monkeypatch):
    pytest.importorskip("SALib", reason="SALib is a core dependency; install flowsim")
    code = shrink(
        recipe("SALib"),
        {'{"scale": 0.01}': TINY, "sample(problem, 64,": "sample(problem, 8,"},
    )
    found = run(code, monkeypatch)
    assert found["X"].shape == (8 * 4, 2), found["X"].shape
    assert found["Y"].shape == (32,) and (found["Y"] >= 0).all(), found["Y"]
    first, total = found["first"], found["total"]
    assert list(first.index) == found["problem"]["names"], first
    assert first["S1"].notna().all() and total["ST"].notna().all(), (first, total)


def test_optuna_lever_recipe(monkeypatch):
    pytest.importorskip("optuna", reason="Optuna is a core dependency; install flowsim")
    code = shrink(recipe("Optuna"), {'{"scale": 0.01}': TINY, "n_trials=30": "n_trials=3"})
    found = run(code, monkeypatch)
    study = found["study"]
    assert len(study.trials) == 3
    assert 0.3 <= study.best_params["approval"] <= 0.95, study.best_params
    assert math.isfinite(study.best_value)


def test_ema_workbench_recipe(monkeypatch):
    pytest.importorskip("ema_workbench", reason="the discover extra (pip install -e '.[test]')")
    code = shrink(
        recipe("EMA Workbench"),
        {
            "scale=0.01,": "scale=0.005, steps=24, warmup_steps=6,",
            "scenarios=40, policies=4": "scenarios=4, policies=2",
        },
    )
    found = run(code, monkeypatch)
    assert len(found["experiments"]) == 8
    assert set(found["inputs"].columns) == {
        "talent_move_rate",
        "policy_corridors_GD_HK_data_approval",
    }, "PRIM's inputs are the parameters, not the seed"
    assert found["interesting"].any() and not found["interesting"].all(), found["outcomes"]
    assert found["box"] is not None
