"""The live dashboard server, spoken to over raw HTTP and raw WebSocket handshakes.

One ``flowsim dashboard`` on a free loopback port for the module; each test sends the
requests a foreign page, a DNS-rebinding page or a client without the token would send,
and checks the server's answer (403, or ``101 Switching Protocols`` for the dashboard's
own page). No browser is needed: these run wherever Solara is installed.
"""

from __future__ import annotations

import base64
import http.client
import os
import re
import socket

import pytest
from browser import TOKEN_URL, flowsim_command, free_port, server

SOCKET = "/jupyter/api/kernels/raw-kernel/channels?session_id=raw-session"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    pytest.importorskip("solara")
    work = tmp_path_factory.mktemp("live")
    (work / "small.yaml").write_text("name: small\nscale: 0.002\nsteps: 6\nwarmup_steps: 0\n")
    port = free_port()
    argv = flowsim_command("dashboard", str(work / "small.yaml"), "--port", str(port))
    with server(argv, port, work, printed_url=TOKEN_URL) as (url, process, log):
        token = url.split("token=", 1)[1]
        yield {"port": port, "token": token, "url": url, "log": log}
    assert process.poll() is not None


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        cookies = response.headers.get_all("set-cookie") or []
        return response.status, {"set-cookie": "\n".join(cookies)}, body
    finally:
        connection.close()


def _handshake(port: int, path: str, headers: dict[str, str]) -> int:
    """Send a WebSocket upgrade with exactly these headers; the HTTP status of the answer."""
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    found = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    assert found, f"no HTTP status line in {answer[:200]!r}"
    return int(found.group(1))


def _own(live) -> dict[str, str]:
    return {"Host": f"127.0.0.1:{live['port']}"}


def _cookie(live) -> str:
    return f"flowsim-dashboard-token-{live['port']}={live['token']}"


def test_the_printed_address_carries_a_fresh_token(live):
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", live["token"]), "secrets.token_urlsafe(32)"
    assert f"http://127.0.0.1:{live['port']}/?token=" in live["log"].read_text()


def test_missing_token_is_refused(live):
    status, _, body = _get(live["port"], "/", _own(live))
    assert status == 403 and "no valid dashboard token" in body
    status, _, _ = _get(live["port"], "/?token=not-the-token", _own(live))
    assert status == 403
    status, _, _ = _get(live["port"], "/readyz", _own(live))
    assert status == 403, "every route needs the token"
    origin = {"Origin": f"http://127.0.0.1:{live['port']}"}
    assert _handshake(live["port"], SOCKET, _own(live) | origin) == 403


def test_token_in_the_url_then_the_cookie(live):
    status, headers, body = _get(live["port"], f"/?token={live['token']}", _own(live))
    assert status == 200 and "solara" in body.lower()
    cookie = f"{_cookie(live)}; Path=/; HttpOnly; SameSite=Strict"
    assert cookie in headers["set-cookie"].splitlines()
    status, _, _ = _get(live["port"], "/", _own(live) | {"Cookie": _cookie(live)})
    assert status == 200


def test_wrong_host_is_refused(live):
    """DNS rebinding: a name of the attacker's that resolves to 127.0.0.1."""
    for host in (f"rebind.example:{live['port']}", "127.0.0.1:1", "localhost"):
        headers = {"Host": host, "Cookie": _cookie(live)}
        status, _, body = _get(live["port"], f"/?token={live['token']}", headers)
        assert status == 403 and "is not this dashboard's address" in body, host
        origin = {"Origin": f"http://{host}"}
        assert _handshake(live["port"], SOCKET, headers | origin) == 403, host


def test_foreign_origin_is_refused(live):
    for origin in ("http://evil.example", f"http://127.0.0.1:{live['port'] + 1}", "null"):
        headers = _own(live) | {"Cookie": _cookie(live), "Origin": origin}
        status, _, body = _get(live["port"], "/", headers)
        assert status == 403 and "is not the dashboard's own" in body, origin
        assert _handshake(live["port"], SOCKET, headers) == 403, origin
    # a socket without any Origin is no browser page of the dashboard either
    assert _handshake(live["port"], SOCKET, _own(live) | {"Cookie": _cookie(live)}) == 403


def test_the_dashboards_own_page_gets_its_socket(live):
    """The control: with the token, its own Host and Origin, the handshake succeeds."""
    headers = _own(live) | {
        "Cookie": _cookie(live),
        "Origin": f"http://127.0.0.1:{live['port']}",
    }
    assert _handshake(live["port"], SOCKET, headers) == 101
    localhost = {
        "Host": f"localhost:{live['port']}",
        "Origin": f"http://localhost:{live['port']}",
        "Cookie": _cookie(live),
    }
    assert _handshake(live["port"], SOCKET, localhost) == 101
