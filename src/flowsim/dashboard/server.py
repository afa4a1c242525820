"""Start the dashboard's Solara server, every asset served by the server itself.

Solara's page loads its front end (Vuetify app, RequireJS, fonts, icons) from
``/_solara/cdn/``; the server answers those requests from the files of the
``solara-assets`` package, and only fetches from a CDN what that package lacks.
flowsim pins ``solara`` and ``solara-assets`` to the same release so that nothing is
lacking, and the page works on a machine without internet access (the browser tests
check that every request goes to the dashboard itself). Telemetry is switched off.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

LOOPBACK = "127.0.0.1"

APP = "flowsim.dashboard.app"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.x, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_env(scenario: str | None, results: str | None) -> dict[str, str]:
    """The environment of the server process: what to open, offline assets, no telemetry."""
    env = dict(os.environ)
    env.update(
        {
            "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
            "SOLARA_TELEMETRY_SENTRY_ENABLE": "False",
            "SOLARA_THEME_SHOW_BANNER": "False",
            "MPLBACKEND": "Agg",
        }
    )
    if scenario:
        env["FLOWSIM_DASHBOARD_SCENARIO"] = str(Path(scenario).resolve())
    if results:
        env["FLOWSIM_DASHBOARD_RESULTS"] = str(Path(results).resolve())
    return env


def command(host: str, port: int) -> list[str]:
    """The ``solara run`` command line of the dashboard."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        APP,
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
        "--log-level",
        "warning",
    ]


def serve(
    scenario: str | None = None,
    *,
    host: str = LOOPBACK,
    port: int = 8765,
    results: str | None = None,
) -> int:
    """Run the server until it is stopped (Ctrl-C); return its exit code."""
    process = subprocess.Popen(command(host, port), env=server_env(scenario, results))
    try:
        return process.wait()
    except KeyboardInterrupt:
        process.terminate()
        try:
            return process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()
