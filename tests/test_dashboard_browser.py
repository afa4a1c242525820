"""The dashboard and Mesa's SolaraViz page, driven in Chromium by Playwright.

Each test starts from a fresh page of one dashboard server (a free loopback port, a
small scenario so a run takes about a second) and reads what it checks back from the
page. The server's process group is killed at the end of the module.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from browser import TOKEN_URL, browser_page, flowsim_command, free_port, need_browser, server
from run_folders import run_replicates, tiny_scenario, write_run_folder, write_sweep_folder

from flowsim.compare import DEFAULT_OUTPUTS
from flowsim.scenario import apply_overrides, load_scenario
from flowsim.yamlio import ConfigError

ROOT = Path(__file__).resolve().parents[1]
SMALL = "name: small\nscale: 0.002\nsteps: 12\nwarmup_steps: 6\n"
LEVER = "research.papers_per_project_lab"


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory):
    need_browser()
    work = tmp_path_factory.mktemp("dashboard")
    (work / "small.yaml").write_text(SMALL, encoding="utf-8")
    (work / "broken.yaml").write_text("name: broken\nsteps: [12\n", encoding="utf-8")
    folder = write_run_folder(
        run_replicates(tiny_scenario("opened-run"), 2), work / "results" / "run1"
    )
    sweep = write_sweep_folder(work / "results" / "sweep1", points=4, replications=1)
    port = free_port()
    argv = flowsim_command("dashboard", str(work / "small.yaml"), "--port", str(port))
    with server(argv, port, work, printed_url=TOKEN_URL) as (url, process, log):
        yield {
            "url": url,
            "work": work,
            "folder": folder,
            "sweep": sweep,
            "port": port,
            "process": process,
        }
    assert process.poll() is not None, "the dashboard server is still running"


def _open(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("Levers", exact=True).wait_for()


def _section(page, name: str) -> None:
    page.locator(".v-select", has_text="section").click()
    page.get_by_role("option", name=name, exact=True).click()


def _lever(page, path: str):
    return page.locator(f'[class*="lever-{path}"] input')


def _set(page, path: str, value: str) -> None:
    field = _lever(page, path)
    field.fill(value)
    field.press("Enter")


def _cell(page, table: str, key: str, column: str) -> float:
    text = page.locator(f'#{table} td[data-key="{key}"][data-column="{column}"]').inner_text()
    return float(text.replace(",", ""))


def _no_traceback(page) -> None:
    assert "Traceback" not in page.locator("body").inner_text(), "the page shows a traceback"


def test_page_is_served_offline(dashboard):
    requests: list[str] = []
    with browser_page(requests) as page:
        _open(page, dashboard["url"])
        page.get_by_text("agents per real entity", exact=False).first.wait_for()
        page.wait_for_load_state("networkidle")
        _no_traceback(page)
    own = f"http://127.0.0.1:{dashboard['port']}/"
    ws = f"ws://127.0.0.1:{dashboard['port']}/"
    elsewhere = [r for r in requests if not (r.startswith(own) or r.startswith(ws))]
    assert requests and not elsewhere, f"the page fetched from outside the dashboard: {elsewhere}"
    assert any("/_solara/cdn/" in r for r in requests), "front-end assets come from the server"


def test_lever_run_and_difference_against_reference(dashboard):
    with browser_page() as page:
        _open(page, dashboard["url"])
        _section(page, "research")
        hint = page.get_by_text("mean papers per lab project").first.inner_text()
        assert "Allowed: 0 <= x" in hint and "Default: 2" in hint, hint
        _set(page, LEVER, "6")
        page.get_by_text("1 value(s) changed from the scenario").wait_for()
        page.locator(".flowsim-run").click()
        page.locator("#difference").wait_for(timeout=120_000)
        _no_traceback(page)
        reference = _cell(page, "difference", "papers", "reference")
        current = _cell(page, "difference", "papers", "current")
        difference = _cell(page, "difference", "papers", "difference")
        # three times the papers per lab project: far more papers, and the table adds up
        assert current > 1.5 * reference > 0, (current, reference)
        assert difference == pytest.approx(current - reference, abs=1.5), (difference, current)
        low = _cell(page, "difference", "papers", "ci_low")
        high = _cell(page, "difference", "papers", "ci_high")
        # the effect itself is asserted above; at this tiny scale (a few thousand agents, a
        # few replicates) the interval may well reach below 0, but it brackets the estimate
        assert low < difference < high, f"the 95% CI ({low}, {high}) brackets {difference}"
        shown = page.locator("#difference tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.key)"
        )
        assert shown == list(DEFAULT_OUTPUTS), "every compared output has a row"
        # the same settings again come from the cache, at once
        page.locator(".flowsim-run").click()
        page.get_by_text("(from the cache)").wait_for(timeout=10_000)
        assert _cell(page, "difference", "papers", "difference") == difference
        page.get_by_role("tab", name="Map").click()
        page.locator("img").first.wait_for()
        if os.environ.get("FLOWSIM_UPDATE_SCREENSHOTS") == "1":
            page.set_viewport_size({"width": 1400, "height": 1500})
            page.get_by_role("tab", name="Over time").click()
            page.locator("img").first.wait_for()
            page.screenshot(path=str(ROOT / "docs" / "img" / "dashboard.png"), full_page=True)


def test_long_run_shows_progress_keeps_the_page_live_and_cancels(dashboard):
    with browser_page() as page:
        _open(page, dashboard["url"])
        _set(page, "steps", "1200")  # 100 years: long enough to watch
        page.get_by_text("1 value(s) changed from the scenario").wait_for()
        page.locator(".flowsim-run").click()
        progress = page.locator(".flowsim-progress")
        page.wait_for_function(
            "() => /running .* [1-9][0-9]*%/.test(document.body.innerText)", timeout=60_000
        )
        assert "running reference" in progress.inner_text()
        # the page answers while the run goes on: switch the levers' section
        _section(page, "capital")
        page.get_by_text("rounds_to_grow").wait_for()
        page.locator(".flowsim-cancel").click()
        page.locator(".flowsim-cancelled").wait_for()
        from playwright.sync_api import expect

        expect(page.locator(".flowsim-run"), "Run is offered again").to_be_enabled(timeout=15_000)
        assert page.locator("#difference").count() == 0, "a cancelled run shows no results"
        _no_traceback(page)


def test_save_scenario_validates_and_reproduces(dashboard, tmp_path):
    target = tmp_path / "saved.yaml"
    with browser_page() as page:
        _open(page, dashboard["url"])
        _section(page, "research")
        _set(page, LEVER, "6")
        page.get_by_text("1 value(s) changed from the scenario").wait_for()
        path = page.locator(".flowsim-save-path input")
        path.fill(str(target))
        path.press("Enter")
        page.locator(".flowsim-save").click()
        page.get_by_text("flowsim validate: ok").wait_for()
    checked = subprocess.run(
        flowsim_command("validate", str(target)), capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and "ok (small)" in checked.stdout, checked.stderr
    saved = load_scenario(target)
    expected = apply_overrides(load_scenario(dashboard["work"] / "small.yaml"), {LEVER: 6})
    assert saved == expected, "the saved file is the page's scenario, every value"


def test_open_results_folder(dashboard):
    with browser_page() as page:
        _open(page, dashboard["url"])
        page.get_by_role("tab", name="Results folders").click()
        field = page.locator(".flowsim-folder-path input")
        field.fill(str(dashboard["folder"]))
        field.press("Enter")
        page.locator(".flowsim-open-folder").click()
        page.locator(".flowsim-folder-name", has_text="opened-run").wait_for()
        page.get_by_role("tab", name="corridors").wait_for()
        page.locator("img").first.wait_for()
        field.fill(str(dashboard["sweep"]))
        field.press("Enter")
        page.locator(".flowsim-open-folder").click()
        page.get_by_text("sweep folder").wait_for()
        page.get_by_role("tab", name="outcomes").wait_for()
        page.locator("img").first.wait_for()
        field.fill(str(dashboard["work"]))
        field.press("Enter")
        page.locator(".flowsim-open-folder").click()
        page.locator(".flowsim-folder-error").wait_for()
        assert "neither a run folder" in page.locator(".flowsim-folder-error").inner_text()
        _no_traceback(page)


def test_bad_value_and_broken_file_show_the_loader_message(dashboard):
    path = "policy.corridors.GD-HK.data.approval"
    with pytest.raises(ConfigError) as expected:
        apply_overrides(load_scenario(dashboard["work"] / "small.yaml"), {path: 1.5}, "dashboard")
    with pytest.raises(ConfigError) as broken:
        load_scenario(dashboard["work"] / "broken.yaml")
    with browser_page() as page:
        _open(page, dashboard["url"])
        _section(page, "corridor GD-HK")
        _set(page, path, "1.5")
        box = page.locator(".flowsim-lever-error")
        box.wait_for()
        assert box.inner_text().strip() == expected.value.report().strip()
        # the button is re-rendered after the message: wait for it rather than race it
        from playwright.sync_api import expect

        expect(page.locator(".flowsim-run"), "no run with a bad value").to_be_disabled(
            timeout=15_000
        )
        typed = page.locator(".flowsim-open-path input")
        typed.fill(str(dashboard["work"] / "broken.yaml"))
        typed.press("Enter")
        page.locator(".flowsim-open").click()
        error = page.locator(".flowsim-scenario-error")
        error.wait_for()
        assert error.inner_text().strip() == broken.value.report().strip()
        _no_traceback(page)


def _steps_shown(page) -> float | None:
    """SolaraViz's step counter: ``Step: N`` (Mesa 3.3) or ``Time: N`` (Mesa 3.5)."""
    found = re.search(r"(?:Step|Time): (\d+(?:\.\d+)?)", page.locator("body").inner_text())
    return float(found.group(1)) if found else None


def _wait_steps(page, expected: float) -> None:
    page.wait_for_function(
        """expected => {
            const m = document.body.innerText.match(/(?:Step|Time): (\\d+(?:\\.\\d+)?)/);
            return m && parseFloat(m[1]) === expected;
        }""",
        arg=expected,
    )


def test_mesa_solara_viz_start_step_reset(tmp_path):
    need_browser()
    port = free_port()
    app = ROOT / "examples" / "solara_viz" / "app.py"
    argv = [sys.executable, "-m", "solara", "run", str(app), "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--production", "--no-open", "--no-check-version"]
    env = {"SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False"}
    step = re.compile("^step$", re.I)
    with server(argv, port, tmp_path, env) as (url, process, log):
        with browser_page() as page:
            page.goto(url)
            page.get_by_text("Model Parameters").wait_for()
            _wait_steps(page, 0)
            text = page.locator("body").inner_text()
            assert "policy.corridors.GD-HK.data.approval [share]" in text, "levers as controls"
            page.get_by_role("button", name=step).click()
            _wait_steps(page, 1)
            page.get_by_role("button", name=step).click()
            _wait_steps(page, 2)
            page.get_by_role("button", name=re.compile("^reset$", re.I)).click()
            _wait_steps(page, 0)
            page.get_by_role("button", name=step).click()
            _wait_steps(page, 1)
            assert _steps_shown(page) == 1
            _no_traceback(page)
            body = page.locator("body").inner_text()
            assert "Missing required model parameter" not in body
            assert "unknown key" not in body, "Reset passed a key the scenario rejects"
    assert process.poll() is not None
