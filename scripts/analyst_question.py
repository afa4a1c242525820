"""Answer the analyst question of issue 17 and write docs/results/analyst_question.md.

*"If Hong Kong and Shenzhen open a cross-border corridor for biomedical research data
only, plus 3-day clearance of research samples, which cities and fields gain, by how much,
and through which channel?"* (``scenarios/analyst_question.yaml``, introduced in January
2025 after the baseline's warm-up.)

    python scripts/analyst_question.py --run [--replications 16] [--scale 0.1]
    python scripts/analyst_question.py --base DIR --policy DIR [--explain DIR]

``--run`` runs the baseline and the policy (common seeds) into
``results/analyst_question/`` and ``flowsim explain`` on them (sampled Shapley values, 3
orders per replicate), then writes the page and its CSV files (``docs/results/
analyst_question_*.csv``), which the README's numbers cite and a test checks. With
``--base``/``--policy`` it only reads existing run folders.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scripts/effect_cells.py
from effect_cells import COUNTS, flowsim_command, signed, write_csvs  # noqa: E402

HEADLINE = COUNTS
"""Outputs of the page's headline table (region, per year)."""


def _flowsim(*args: str) -> None:
    print("+ flowsim " + " ".join(args), file=sys.stderr)
    subprocess.run(flowsim_command(*args), check=True, cwd=ROOT)


def run_all(replications: int, scale: float, out: Path) -> tuple[Path, Path, Path]:
    """Run the baseline, the policy and explain; return their folders."""
    base, policy, explain = out / "base", out / "question", out / "explain"
    # progress shows (plain lines off a terminal): the three steps take minutes to half an hour
    common = ["--replications", str(replications), "--scale", str(scale), "--force"]
    _flowsim("run", "scenarios/baseline.yaml", *common, "--out", str(base))
    _flowsim("run", "scenarios/analyst_question.yaml", *common, "--out", str(policy))
    _flowsim(
        "explain", str(policy), str(base), "--method", "sampled", "--permutations", "3",
        "--out", str(explain),
    )  # fmt: skip
    return base, policy, explain


def report_and_screenshot(base: Path, policy: Path, explain: Path | None, out: Path) -> Path:
    """``flowsim report`` of the answer, and a screenshot of its first screen for the README."""
    html = out / "analyst_question.html"
    extra = ["--explain", str(explain)] if explain is not None else []
    _flowsim("report", str(policy), str(base), *extra, "--out", str(html), "--force")
    from playwright.sync_api import sync_playwright

    from flowsim.report import CHROMIUM

    chromium = next((c for c in CHROMIUM if Path(c).is_file()), None)
    if chromium is None:
        raise SystemExit(f"no Chromium at {', '.join(CHROMIUM)} (apt-get install chromium)")
    png = ROOT / "docs" / "img" / "analyst_question_report.png"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless", "--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.goto(html.resolve().as_uri())
        page.screenshot(path=str(png), full_page=False)
        browser.close()
    return png


def _pct(value: float) -> str:
    return signed(value, 2)


def tables(base: Path, policy: Path, explain: Path | None) -> dict[str, pd.DataFrame]:
    """The page's tables from the run folders (and the explain folder)."""
    from flowsim.comparison import comparison

    result = comparison([base, policy], list(HEADLINE))
    head = result.headline[result.headline["scenario"] != result.headline["scenario"].iloc[0]]
    headline = pd.DataFrame(
        {
            "output": head["output"],
            "unit": head["unit"],
            "replicates": head["replicates"],
            "baseline": head["reference_mean"].round(1),
            "diff_pct": head["diff_pct"].round(2),
            "ci_low_pct": (100 * head["diff_ci_low"] / head["reference_mean"]).round(2),
            "ci_high_pct": (100 * head["diff_ci_high"] / head["reference_mean"]).round(2),
            "p_adjusted": head["p_adjusted"].round(4),
            "mde_pct": head["mde_pct"].round(2),
        }
    ).reset_index(drop=True)
    path = result.path[result.path["diff"].notna()]
    path = pd.DataFrame(
        {
            "year": path["year"],
            "output": path["output"],
            "diff_pct": path["diff_pct"].round(2),
            "ci_low_pct": (100 * path["diff_ci_low"] / path["reference_mean"]).round(2),
            "ci_high_pct": (100 * path["diff_ci_high"] / path["reference_mean"]).round(2),
        }
    ).reset_index(drop=True)
    cells = []
    for level, frame, keys in (
        ("field", result.by_field, ["field"]),
        ("city", result.by_city, ["city"]),
        ("city x field", result.by_city_field, ["city", "field"]),
        ("corridor", result.corridors, ["corridor", "element", "measure"]),
    ):
        if frame.empty:
            continue
        rows = frame.copy()
        rows["level"] = level
        rows["cell"] = rows[keys].astype(str).agg(" ".join, axis=1)
        if "output" not in rows:
            rows["output"] = rows["measure"]
        rows["tested"] = len(frame)
        cells.append(rows)
    every = pd.concat(cells, ignore_index=True)
    significant = every[every["significant"]].copy()
    significant = pd.DataFrame(
        {
            "level": significant["level"],
            "cell": significant["cell"],
            "output": significant["output"],
            "unit": significant["unit"],
            "baseline": significant["reference_mean"].round(2),
            "diff": significant["diff"].round(2),
            "ci_low": significant["diff_ci_low"].round(2),
            "ci_high": significant["diff_ci_high"].round(2),
            "diff_pct": significant["diff_pct"].round(2),
            "q": significant["p_adjusted"].round(4),
            "cells_tested": significant["tested"],
        }
    ).reset_index(drop=True)
    out = {"headline": headline, "path": path, "cells": significant}
    tested = every.groupby("level", sort=False).size().rename("cells_tested").reset_index()
    tested["significant"] = tested["level"].map(significant.groupby("level").size()).fillna(0)
    out["tested"] = tested.astype({"significant": int})
    if explain is not None and (explain / "explain.csv").exists():
        frame = pd.read_csv(explain / "explain.csv")
        whole = frame[frame["period"] == "all"] if "period" in frame else frame
        keep = [
            c
            for c in ("output", "part", "pct_of_baseline", "pct_ci_low", "pct_ci_high")
            if c in whole
        ]
        out["channels"] = whole[keep].round(3).reset_index(drop=True)
    return out


def page(t: dict[str, pd.DataFrame], note: str) -> str:
    """The markdown page."""
    lines = [
        "# The analyst question, answered",
        "",
        f"Generated by `python scripts/analyst_question.py` ({note}); do not edit by hand.",
        "",
        "*If Hong Kong and Shenzhen open a cross-border corridor for biomedical research data",
        "only, plus 3-day clearance of research samples, which cities and fields gain, by how",
        "much, and through which channel?* The policy is `scenarios/analyst_question.yaml`",
        "([the rules](../rules.md)), introduced in January 2025 after the baseline's warm-up",
        "([timing](../timing.md)); effects are per year, against the baseline with the same",
        "seeds, with 95% intervals (paired t).",
        "",
        "## The region",
        "",
        "| output | baseline / year | effect | 95% interval | q (BH) | MDE |",
        "|---|---|---|---|---|---|",
    ]
    for r in t["headline"].itertuples():
        lines.append(
            f"| {r.output} | {r.baseline:,.0f} | {_pct(r.diff_pct)}% | "
            f"[{_pct(r.ci_low_pct)}%, {_pct(r.ci_high_pct)}%] | {r.p_adjusted:.3f} | "
            f"{r.mde_pct:.2f}% |"
        )
    lines += [
        "",
        "MDE: the smallest effect these replicates find with 80% power. An interval that "
        "holds 0 is no evidence of an effect of that size or larger than the MDE.",
        "",
        "## Which cities, fields and corridors",
        "",
        "Cells tested, and significant at a false discovery rate of 5% (Benjamini-Hochberg "
        "over the cells of each level):",
        "",
        "| level | cells tested | significant |",
        "|---|---|---|",
    ]
    for r in t["tested"].itertuples():
        lines.append(f"| {r.level} | {r.cells_tested} | {r.significant} |")
    lines += [
        "",
        "| level | cell | output | baseline / year | effect / year | 95% interval | % | q |",
    ]
    lines.append("|---|---|---|---|---|---|---|---|")
    for r in t["cells"].itertuples():
        lines.append(
            f"| {r.level} | {r.cell} | {r.output} | {r.baseline:,.1f} | {r.diff:+,.1f} | "
            f"[{r.ci_low:+,.1f}, {r.ci_high:+,.1f}] | {_pct(r.diff_pct)}% | {r.q:.3f} |"
        )
    lines += ["", "## The effect path", "", "| year | " + " | ".join(HEADLINE[:3]) + " |"]
    lines.append("|---|" + "---|" * 3)
    path = t["path"]
    for year in sorted(path["year"].unique()):
        row = []
        for output in HEADLINE[:3]:
            r = path[(path["year"] == year) & (path["output"] == output)].iloc[0]
            row.append(f"{_pct(r.diff_pct)}% [{_pct(r.ci_low_pct)}, {_pct(r.ci_high_pct)}]")
        lines.append(f"| {year} | " + " | ".join(row) + " |")
    if "channels" in t:
        lines += [
            "",
            "## Through which channel",
            "",
            "`flowsim explain` (sampled Shapley values; the parts add up to the total, per "
            "year in % of the baseline, 95% interval):",
            "",
            "| output | part | % of baseline | 95% interval |",
            "|---|---|---|---|",
        ]
        for r in t["channels"].itertuples():
            lines.append(
                f"| {r.output} | {r.part} | {_pct(r.pct_of_baseline)} | "
                f"[{_pct(r.pct_ci_low)}, {_pct(r.pct_ci_high)}] |"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run (or read) the folders and write the page and its CSV files."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="run everything first")
    parser.add_argument("--replications", type=int, default=16)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=ROOT / "results" / "analyst_question")
    parser.add_argument("--base", type=Path)
    parser.add_argument("--policy", type=Path)
    parser.add_argument("--explain", type=Path)
    parser.add_argument(
        "--screenshot", action="store_true", help="write the report and docs/img's screenshot"
    )
    args = parser.parse_args()
    if args.run:
        args.base, args.policy, args.explain = run_all(args.replications, args.scale, args.out)
    if args.base is None or args.policy is None:
        parser.error("give --run, or --base and --policy")
    t = tables(args.base, args.policy, args.explain)
    replicates = int(t["headline"]["replicates"].iloc[0])
    import json

    scale = json.loads((args.policy / "manifest.json").read_text(encoding="utf-8"))["scale"]
    note = f"scale {scale}, {replicates} replicates, common seeds"
    write_csvs(DOCS, "analyst_question", t)
    (DOCS / "analyst_question.md").write_text(page(t, note), encoding="utf-8")
    print(f"wrote {DOCS / 'analyst_question.md'} and its CSV files")
    if args.screenshot:
        print(f"wrote {report_and_screenshot(args.base, args.policy, args.explain, args.out)}")


if __name__ == "__main__":
    main()
