"""Start the dashboard: Solara's app behind :class:`flowsim.dashboard.guard.Guard`, on loopback.

The server runs in the ``flowsim dashboard`` process itself (uvicorn on a socket this
module binds, so that a busy port is a clear error and port 0 prints the real port).
Solara's app is wrapped by the guard: a per-start token (:func:`secrets.token_urlsafe`)
in the printed address, then in an HttpOnly SameSite=Strict cookie; ``Host`` and
``Origin`` must be the dashboard's own; open pages are capped.

Solara's page loads its front end (Vuetify app, RequireJS, fonts, icons) from
``/_solara/cdn/``; the server answers those requests from the files of the
``solara-assets`` package, and only fetches from a CDN what that package lacks.
flowsim pins ``solara`` and ``solara-assets`` to the same release so that nothing is
lacking, and the page works on a machine without internet access (the browser tests
check that every request goes to the dashboard itself). Telemetry is switched off.

Limits (see docs/dashboard.md): kernels are culled :data:`KERNEL_CULL` after their last
page disconnects, at most :data:`flowsim.dashboard.guard.MAX_SOCKETS` pages are open at a
time, and each run is capped by :mod:`flowsim.dashboard.limits`.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

LOOPBACK = "127.0.0.1"

APP = "flowsim.dashboard.app"

KERNEL_CULL = "60s"
"""How long a page's kernel (its state) is kept after its last socket closed: long enough
to survive a reload, short enough that closed tabs do not pile up (Solara keeps 24 h)."""

KERNELS_PER_SESSION = 8
"""Kernels one browser session may hold (Solara allows 100)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.x, ::1 or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_env(
    scenario: str | None, results: str | None, save_dir: str | Path | None = None
) -> dict[str, str]:
    """Settings of the server: what to open, where to save, offline assets, no telemetry, limits."""
    env = {
        "SOLARA_APP": APP,
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
        "SOLARA_TELEMETRY_SENTRY_ENABLE": "False",
        "SOLARA_THEME_SHOW_BANNER": "False",
        "SOLARA_KERNEL_CULL_TIMEOUT": KERNEL_CULL,
        "SOLARA_KERNEL_MAX_PER_SESSION": str(KERNELS_PER_SESSION),
        "MPLBACKEND": "Agg",
    }
    if scenario:
        env["FLOWSIM_DASHBOARD_SCENARIO"] = str(Path(scenario).resolve())
    if results:
        env["FLOWSIM_DASHBOARD_RESULTS"] = str(Path(results).resolve())
    folder = save_folder(scenario, save_dir)
    env["FLOWSIM_DASHBOARD_SAVE_DIR"] = str(folder)
    return env


def save_folder(scenario: str | None, save_dir: str | Path | None = None) -> Path:
    """The one folder *Save scenario* writes into.

    ``--save-dir`` when given; else the folder of the scenario the dashboard was started
    with; else ``./scenarios`` when it exists; else the working folder.
    """
    if save_dir:
        return Path(save_dir).resolve()
    if scenario:
        return Path(scenario).resolve().parent
    if (Path.cwd() / "scenarios").is_dir():
        return (Path.cwd() / "scenarios").resolve()
    return Path.cwd().resolve()


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free one); OSError when it cannot."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.set_inheritable(False)
    except OSError:
        sock.close()
        raise
    return sock


def allowed_names(host: str) -> list[str]:
    """Extra ``Host`` names for a server on every address (``0.0.0.0``): this machine's names."""
    if host not in ("0.0.0.0", "::"):
        return []
    names = {socket.gethostname(), socket.getfqdn()}
    try:
        names.update(socket.gethostbyname_ex(socket.gethostname())[2])
    except OSError:
        pass
    return sorted(n for n in names if n)


def address(host: str, port: int, token: str) -> str:
    """The address ``flowsim dashboard`` prints: it carries the token."""
    shown = LOOPBACK if host in ("0.0.0.0", "::") else host
    shown = f"[{shown}]" if ":" in shown else shown
    return f"http://{shown}:{port}/?token={token}"


def make_app(token: str, host: str, port: int):
    """Solara's Starlette app behind the guard (imports Solara: call after the settings)."""
    import solara.server.settings as solara_settings
    import solara.server.starlette as solara_starlette

    from flowsim.dashboard.guard import Guard, own_hosts

    # the environment is read when Solara is first imported; set them here as well in
    # case something imported Solara earlier in this process
    solara_settings.main.mode = "production"
    solara_settings.kernel.cull_timeout = KERNEL_CULL
    solara_settings.kernel.max_per_session = KERNELS_PER_SESSION
    return Guard(
        solara_starlette.app,
        token=token,
        port=port,
        hosts=own_hosts(host, port, allowed_names(host)),
    )


def serve(
    scenario: str | None = None,
    *,
    host: str = LOOPBACK,
    port: int = 8765,
    results: str | None = None,
    save_dir: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> int:
    """Run the server until it is stopped (Ctrl-C); return its exit code.

    Raises:
        OSError: the address cannot be bound (in use, not this machine's).
    """
    sock = bind(host, port)
    port = sock.getsockname()[1]
    token = secrets.token_urlsafe(32)
    os.environ.update(server_env(scenario, results, save_dir))
    os.environ["SERVER_NAME"] = host
    os.environ["SERVER_PORT"] = str(port)
    import uvicorn

    app = make_app(token, host, port)
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    server = uvicorn.Server(config)
    line = f"flowsim dashboard: {address(host, port, token)} (Ctrl-C to stop)"
    if announce is not None:
        announce(line)
    else:
        print(line, flush=True)
    print(f"saves scenarios under {os.environ['FLOWSIM_DASHBOARD_SAVE_DIR']}", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0
