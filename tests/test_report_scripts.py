"""The scripts that make the README's policy table and docs/explain.md."""

from __future__ import annotations

import pandas as pd
from model_helpers import load_script


def test_policy_table_reads_plain_runs_as_replicate_intervals(
    baseline_folder, policy_folder, capsys
):
    script = load_script("policy_table")
    assert script.main([str(baseline_folder), str(policy_folder)]) == 0
    out = capsys.readouterr().out
    assert "95% CI, paired, 3 replicates" in out, (
        f"plain runs must be read as replicates, not as an ensemble: {out[:200]}"
    )
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 2, f"one header and one scenario row expected, got {rows}"


def _summary(parts: dict[str, float]) -> pd.DataFrame:
    rows = []
    for output in ("papers", "vc_deals"):
        for part, value in parts.items():
            rows.append(
                {
                    "output": output,
                    "part": part,
                    "mean": value,
                    "ci_low": value - 1,
                    "ci_high": value + 1,
                    "pct_of_baseline": value,
                    "pct_ci_low": value - 1 if value else 0.0,
                    "pct_ci_high": value + 1 if value else 0.0,
                    "replicates": 8,
                }
            )
    return pd.DataFrame(rows)


def test_explain_table_has_one_table_per_scenario_with_every_part(tmp_path):
    script = load_script("explain_table")
    for name, capital in (("alpha", 2.5), ("beta", 0.0)):
        folder = tmp_path / name
        folder.mkdir()
        # flowsim explain lists the touched channels first; the page has one fixed order
        _summary(
            {"mobility": 1.0, "capital": capital, "direct": 0.5, "total": capital + 1.5}
        ).to_csv(folder / "explain.csv", index=False)
    out = tmp_path / "explain.md"
    assert script.main([str(tmp_path / "beta"), str(tmp_path / "alpha"), "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.index("## alpha") < text.index("## beta"), "scenarios in name order"
    assert "| output | capital | mobility | direct | total |" in text, "channels, direct, total"
    assert (
        "| papers | +2.50 [+1.50, +3.50] | +1.00 [+0.00, +2.00] | +0.50 [-0.50, +1.50] "
        "| +4.00 [+3.00, +5.00] |" in text
    )
    assert "| papers | 0 | +1.00" in text, "an exactly zero channel prints as 0"
    assert "add up to the total" in text and "explain_guide.md" in text, "how to read it"


def test_explain_table_refuses_a_folder_without_explain_csv(tmp_path, capsys):
    script = load_script("explain_table")
    assert script.main([str(tmp_path), "--out", str(tmp_path / "x.md")]) == 2
    assert "run flowsim explain first" in capsys.readouterr().err


def test_baseline_table_prints_real_figures_and_cities(baseline_folder, capsys):
    script = load_script("baseline_table")
    assert script.main([str(baseline_folder)]) == 0
    out = capsys.readouterr().out
    assert "| Guangdong PCT applications / year | 23,676 (CNIPA 2023) |" in out
    assert "3 replicates" in out, "the replicates of the folder are counted"
    cities = [line for line in out.splitlines() if line.startswith("| Shenzhen |")]
    assert len(cities) == 1, "one row per city in the by-city table"


def test_baseline_table_refuses_a_folder_that_is_not_a_run(tmp_path, capsys):
    script = load_script("baseline_table")
    assert script.main([str(tmp_path)]) == 2
    assert "baseline_table: error" in capsys.readouterr().err
