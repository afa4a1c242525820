"""Golden baseline: a fresh seeded run reproduces the stored yearly summary (to 1e-9).

If this fails after an intended change to the model, run
``python scripts/refresh_golden.py`` to see what changed and ``--write`` to accept it.
"""

from __future__ import annotations

import json

from model_helpers import load_script


def _golden_module():
    return load_script("refresh_golden")


def test_fresh_run_matches_the_golden_baseline():
    golden = _golden_module()
    assert golden.GOLDEN_PATH.exists(), (
        f"{golden.GOLDEN_PATH} is missing; run scripts/refresh_golden.py --write"
    )
    stored = json.loads(golden.GOLDEN_PATH.read_text(encoding="utf-8"))
    changed = golden.differences(stored, golden.summarize())
    assert not changed, (
        "the model's outputs changed from the golden baseline "
        "(if intended: python scripts/refresh_golden.py --write):\n" + "\n".join(changed[:40])
    )


def test_the_comparison_detects_changes():
    golden = _golden_module()
    stored = {"run": {"seed": 1}, "yearly": {"2025": {"papers": 100.0, "vc_deals": 5.0}}}
    changed = {
        "run": {"seed": 1},
        "yearly": {"2025": {"papers": 100.0 * (1 + 1e-6), "licences": 1.0}},
    }
    lines = golden.differences(stored, changed)
    assert any("papers" in line for line in lines), "a change of 1e-6 in a value must be reported"
    assert any("vc_deals" in line and "removed" in line for line in lines), (
        "a removed output must be reported"
    )
    assert any("licences" in line and "new" in line for line in lines), (
        "a new output must be reported"
    )
    assert golden.differences(stored, stored) == [], "identical summaries have no differences"
