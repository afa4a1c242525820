"""The brief of ``flowsim report`` opened in Chromium (Playwright): offline, and compare's numbers.

Every request the page makes is intercepted: only ``file:``, ``data:`` and ``about:``
addresses are let through, and any other is recorded, aborted and fails the test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest
from browser import browser_page, need_browser
from run_folders import TINY, run_replicates, write_run_folder

from flowsim import cli
from flowsim.numbers import format_value
from flowsim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
LOCAL = ("file:", "data:", "about:")


@pytest.fixture(scope="module")
def brief_and_tables(tmp_path_factory):
    """The shipped data sandbox against the shipped baseline, at test size, 3 replicates."""
    need_browser()
    out = tmp_path_factory.mktemp("report")
    folders = {}
    for name in ("baseline", "data_sandbox"):
        scenario = load_scenario(ROOT / "scenarios" / f"{name}.yaml", overrides=dict(TINY))
        folders[name] = write_run_folder(run_replicates(scenario), out / name)
    policy_folder, baseline_folder = folders["data_sandbox"], folders["baseline"]
    assert (
        cli.main(["compare", str(baseline_folder), str(policy_folder), "--out", str(out / "cmp")])
        == 0
    )
    brief = out / "brief.html"
    assert cli.main(["report", str(policy_folder), str(baseline_folder), "--out", str(brief)]) == 0
    return brief, pd.read_csv(out / "cmp" / "compare_headline.csv")


def test_report_renders_offline_with_compares_numbers(brief_and_tables):
    brief, headline = brief_and_tables
    seen: list[str] = []
    outside: list[str] = []

    with browser_page(seen) as page:

        def route(r):
            if r.request.url.startswith(LOCAL):
                r.continue_()
            else:
                outside.append(r.request.url)
                r.abort()

        page.context.route("**/*", route)
        page.goto(brief.resolve().as_uri())
        page.wait_for_load_state("load")
        assert page.title().startswith("data-sandbox against baseline")
        assert page.locator("h2").count() == 8
        assert "Shenzhen Data Exchange" in page.locator("#question").inner_text()
        assert page.locator("table.changes tbody tr").count() == 6, "3 data values x 2 corridors"
        # every figure decoded and drawn (none broken)
        sizes = page.eval_on_selector_all("img.figure", "els => els.map(e => e.naturalWidth)")
        assert len(sizes) >= 3 and all(w > 100 for w in sizes), sizes
        cells = page.locator("table.headline span.num")
        shown = {
            cells.nth(i).get_attribute("data-output"): cells.nth(i).inner_text()
            for i in range(cells.count())
        }
        policy = headline[(headline["scenario"] == "data-sandbox") & headline["diff"].notna()]
        assert len(shown) == len(policy) > 0
        for row in policy.itertuples():
            assert shown[row.output] == format_value(row.output, row.diff, difference=True)
        if os.environ.get("FLOWSIM_UPDATE_SCREENSHOTS") == "1":
            page.set_viewport_size({"width": 1000, "height": 1400})
            page.screenshot(path=str(ROOT / "docs" / "img" / "report.png"), full_page=False)
        page.emulate_media(media="print")
        assert page.locator("section.page").count() >= 3
    assert not outside, f"the brief asked for addresses off the machine: {outside}"
    assert seen and all(url.startswith(LOCAL) for url in seen), seen


def test_pdf_is_printed_by_chromium(brief_and_tables, tmp_path):
    from flowsim.report import print_pdf

    brief, _ = brief_and_tables
    pdf = print_pdf(brief, tmp_path / "brief.pdf")
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-" and data.count(b"/Type /Page") >= 4, "a PDF of several pages"
    with pytest.raises(FileExistsError):
        print_pdf(brief, pdf)
