"""Browser-test helpers: a server on a free loopback port, and Debian's Chromium via Playwright.

Playwright's own browser download is not reachable here, so the tests drive
``/usr/bin/chromium`` (``apt-get install chromium``, done by ``.ci/run``). Without it
the browser tests are skipped locally and fail in CI (``CI`` set), where a skipped
browser test would hide a broken page.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FLOWSIM_CHROMIUM", "/usr/bin/chromium")
"""The browser the tests drive."""

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

LOOPBACK = "127.0.0.1"


def need_browser() -> None:
    """Skip (fail in CI) when Chromium or Playwright is missing."""
    problems = []
    if not Path(CHROMIUM).is_file():
        problems.append(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problems.append("no playwright (pip install -e '.[test]')")
    try:
        import solara  # noqa: F401
    except ImportError:
        problems.append("no solara (pip install -e '.[dashboard]')")
    if problems:
        if os.environ.get("CI"):
            pytest.fail("browser tests need: " + "; ".join(problems))
        pytest.skip("; ".join(problems))


def free_port() -> int:
    """A TCP port nobody listens on at the moment, on the loopback address."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


TOKEN_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/\?token=[A-Za-z0-9_-]+")
"""The address ``flowsim dashboard`` prints, with its per-start token."""


@contextmanager
def server(
    argv: list[str],
    port: int,
    cwd: Path,
    env: dict[str, str] | None = None,
    printed_url: re.Pattern[str] | None = None,
):
    """Start a server process in its own process group; kill the whole group afterwards.

    With ``printed_url``, the address to open is the first match of that pattern in the
    server's output (``flowsim dashboard`` prints one with its token), else ``/``.
    """
    log = cwd / f"server-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://{LOOPBACK}:{port}/"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited ({process.returncode}):\n{log.read_text()}")
            if printed_url is not None:
                found = printed_url.search(log.read_text())
                if found is None:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the server printed no address:\n{log.read_text()}")
                    time.sleep(0.3)
                    continue
                url = found.group(0)
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not answer at {url}:\n{log.read_text()}")
            time.sleep(0.3)
        yield url, process, log
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Terminate a process group started by :func:`server`, then kill what is left."""
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    # nothing of the group may be left behind (a worker, a reloader)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@contextmanager
def browser_page(requests: list[str] | None = None) -> Iterator:
    """A Chromium page; every requested URL is appended to ``requests``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(60_000)
            if requests is not None:
                page.on("request", lambda request: requests.append(request.url))
            yield page
        finally:
            browser.close()


def flowsim_command(*args: str) -> list[str]:
    """``flowsim ARGS`` with the interpreter running the tests."""
    return [
        sys.executable,
        "-c",
        "import sys; from flowsim.cli import main; sys.exit(main())",
        *args,
    ]
