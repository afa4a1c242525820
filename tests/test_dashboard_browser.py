"""The dashboard and Mesa's SolaraViz page, driven in Chromium by Playwright.

Each test starts from a fresh page of one dashboard server (a free loopback port, a
small scenario so a run takes about a second) and reads what it checks back from the
page. The server's process group is killed at the end of the module.
"""

from __future__ import annotations

import http.server
import os
import re
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
import yaml
from browser import TOKEN_URL, browser_page, flowsim_command, free_port, need_browser, server
from run_folders import run_replicates, tiny_scenario, write_run_folder, write_sweep_folder

from flowsim.compare import DEFAULT_OUTPUTS
from flowsim.params import Scenario
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
            "log": log,
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
        default = Scenario().research.papers_per_project_lab
        assert "Allowed: 0 <= x" in hint and f"Default: {default:g}" in hint, hint
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
        page.get_by_text("(from the cache)").wait_for(timeout=60_000)
        assert _cell(page, "difference", "papers", "difference") == difference
        # the edited scenario is compared with the one it was built from, named as such
        caption = page.locator(".flowsim-run-caption").inner_text()
        assert "current settings (small-edited) against reference (small)" in caption, caption
        # and the results zip holds both runs
        with page.expect_download(timeout=120_000) as download:
            page.get_by_text("Download results (zip: both runs)").click()
        assert download.value.suggested_filename == "small-edited-results.zip"
        names = zipfile.ZipFile(download.value.path()).namelist()
        assert {n.split("/")[0] for n in names} == {"current-small-edited", "reference-small"}
        assert "reference-small/timeseries.parquet" in names
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


def test_save_scenario_validates_and_reproduces(dashboard):
    folder = dashboard["work"]  # the folder of the scenario the dashboard was started with
    before = {p.name for p in folder.parent.rglob("*")}
    with browser_page() as page:
        _open(page, dashboard["url"])
        _section(page, "research")
        _set(page, LEVER, "6")
        page.get_by_text("1 value(s) changed from the scenario").wait_for()
        path = page.locator(".flowsim-save-path input")
        # a path out of the save folder is refused, with the rule
        for name in ("../escape.yaml", str(folder.parent / "abs.yaml"), "~/x.yaml"):
            path.fill(name)
            path.press("Enter")
            page.locator(".flowsim-save").click()
            error = page.locator(".flowsim-save-error", has_text=repr(name))
            error.wait_for()
            assert "not allowed as a file name" in error.inner_text()
        path.fill("saved")
        path.press("Enter")
        page.locator(".flowsim-save").click()
        page.get_by_text("flowsim validate: ok").wait_for()
        _no_traceback(page)
    created = {p.name for p in folder.parent.rglob("*")} - before
    assert created == {"saved.yaml"}, f"only the plain name in the save folder: {created}"
    target = folder / "saved.yaml"
    checked = subprocess.run(
        flowsim_command("validate", str(target)), capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0 and "ok (small-edited)" in checked.stdout, checked.stderr
    saved = load_scenario(target)
    assert saved.name == "small-edited", "an edited scenario gets its own name"
    assert saved.description == f"small with, set in the dashboard: {LEVER} = 6"
    expected = apply_overrides(
        load_scenario(folder / "small.yaml"),
        {LEVER: 6, "name": saved.name, "description": saved.description},
    )
    assert saved == expected, "the saved file is the page's scenario, every value"


XSS = (
    '<img src="x" onerror="window.flowsimXss = 1"> <a href="javascript:window.flowsimXss=2">'
    "link</a> <script>window.flowsimXss = 3</script> **not bold**"
)


def test_html_in_a_description_and_name_is_shown_as_text(dashboard):
    hostile = dashboard["work"] / "hostile.yaml"
    hostile.write_text(
        yaml.safe_dump(
            {**yaml.safe_load(SMALL), "name": '<img src="y" onerror="window.flowsimXss=4">'}
            | {"description": XSS}
        ),
        encoding="utf-8",
    )
    with browser_page() as page:
        _open(page, dashboard["url"])
        typed = page.locator(".flowsim-open-path input")
        typed.fill(str(hostile))
        typed.press("Enter")
        page.locator(".flowsim-open").click()
        shown = page.locator(".flowsim-description", has_text="onerror")
        shown.wait_for()
        assert shown.inner_text().strip() == XSS, "the description is shown as its text"
        page.locator(".flowsim-run").click()
        caption = page.locator(".flowsim-current-name")
        caption.wait_for(timeout=120_000)
        assert caption.inner_text() == '<img src="y" onerror="window.flowsimXss=4">'
        assert page.locator('img[src="x"], img[src="y"], a[href^="javascript:"]').count() == 0
        assert page.evaluate("window.flowsimXss") is None, "script from the scenario ran"
        _no_traceback(page)


ATTACK = """<!doctype html><title>elsewhere</title><script>
const ws = new WebSocket("ws://127.0.0.1:PORT/jupyter/api/kernels/k1/channels?session_id=s1");
ws.onopen = () => { window.result = "open"; ws.close(); };
ws.onclose = (event) => { if (window.result === undefined) window.result = "refused"; };
</script>"""


def test_a_page_of_another_origin_cannot_open_the_socket(dashboard):
    attack = ATTACK.replace("PORT", str(dashboard["port"])).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the handler's API
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(attack)))
            self.end_headers()
            self.wfile.write(attack)

        def log_message(self, *args):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with browser_page() as page:
            _open(page, dashboard["url"])  # the user's browser holds the token cookie
            # the same script from the dashboard's own page opens the socket ...
            page.evaluate(
                ATTACK.split("<script>")[1]
                .split("</script>")[0]
                .replace("PORT", str(dashboard["port"]))
            )
            page.wait_for_function("() => window.result !== undefined")
            assert page.evaluate("window.result") == "open"
            # ... and from a page of another origin (another port of 127.0.0.1) it is refused
            page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
            page.wait_for_function("() => window.result !== undefined")
            assert page.evaluate("window.result") == "refused"
    finally:
        other.shutdown()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_closing_the_page_stops_its_run(dashboard):
    log = dashboard["log"]
    with browser_page() as page:
        _open(page, dashboard["url"])
        _set(page, "steps", "1100")  # long enough to be running when the page closes
        page.get_by_text("1 value(s) changed from the scenario").wait_for()
        page.locator(".flowsim-run").click()
        page.wait_for_function(
            "() => /running .* [1-9][0-9]*%/.test(document.body.innerText)", timeout=60_000
        )
        page.close()
    deadline = time.monotonic() + 60
    while "its page closed" not in log.read_text():
        assert time.monotonic() < deadline, f"the run went on:\n{log.read_text()[-2000:]}"
        time.sleep(0.2)
    assert re.search(r"stopped the run of 'small' at \d+%: its page closed", log.read_text())
    # and the server computes nothing more: its CPU time stands still
    pid = dashboard["process"].pid
    before = _cpu_seconds(pid)
    time.sleep(3)
    assert _cpu_seconds(pid) - before < 0.5, "the server still computes after the page closed"


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
        clipped = box.locator("pre").evaluate("e => e.scrollWidth > e.clientWidth + 1")
        assert not clipped, "the error box wraps its message instead of clipping it"
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
            # long labels wrap above their slider instead of squeezing it (assets/custom.css)
            widths = page.locator(".v-slider").evaluate_all(
                "sliders => sliders.map(s => s.getBoundingClientRect().width)"
            )
            assert len(widths) >= 6 and min(widths) > 100, f"slider widths {widths}"
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


def test_city_views_show_differences_and_the_report_button_writes_the_brief(dashboard):
    with browser_page() as page:
        _open(page, dashboard["url"])
        _section(page, "research")
        _set(page, LEVER, "6")
        page.get_by_text("1 value(s) changed from the scenario").wait_for()
        page.locator(".flowsim-run").click()
        page.locator("#difference").wait_for(timeout=120_000)
        difference = _cell(page, "difference", "papers", "difference")
        # by city: current - reference in % with significance, not levels
        page.get_by_role("tab", name="By city / field").click()
        page.locator("#by-city-diff").wait_for()
        papers = page.locator('#by-city-diff td[data-column="papers"]').all_inner_texts()
        # cities with papers in either run show a signed %, mostly more papers (a city of a
        # few agents at this tiny scale may go either way); none in both runs: "n/a"
        signed = [t for t in papers if t[:1] in "+-"]
        gains = [t for t in signed if t.startswith("+")]
        assert len(signed) >= 5 and len(gains) > 0.7 * len(signed), repr(papers)
        assert all(t in signed or t in ("n/a", "–", "0%") for t in papers), papers
        # at this tiny scale few cells pass Benjamini-Hochberg; the caption says what marks
        # them (the marking itself: tests/test_dashboard_differences.py)
        assert page.get_by_text("significant: paired 95% CI").count() >= 1
        assert page.locator("#by-field-diff").count() == 1
        if os.environ.get("FLOWSIM_UPDATE_SCREENSHOTS") == "1":
            page.set_viewport_size({"width": 1400, "height": 1500})
            page.screenshot(
                path=str(ROOT / "docs" / "img" / "dashboard_by_city.png"), full_page=True
            )
        page.get_by_role("tab", name="Map").click()
        page.locator("img").first.wait_for()
        _no_traceback(page)
        with page.expect_download(timeout=180_000) as download:
            page.get_by_text("Report (HTML brief)").click()
        assert download.value.suggested_filename == "small-edited-report.html"
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>") and "small-edited against small" in text
        found = re.search(r'data-output="papers" data-diff="([^"]+)"', text)
        assert found and float(found[1]) == pytest.approx(difference, rel=0.01, abs=1.5)
