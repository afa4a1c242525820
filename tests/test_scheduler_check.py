"""``--scheduler`` fails fast: a wrong service is recognised within seconds, with exit 2.

Each test starts a throwaway server on 127.0.0.1 (a random port) that is not a Dask
scheduler — an HTTP server, a service that greets with a banner, one that closes at
once — and points ``sweep`` and ``calibrate`` at it. The one check
(:func:`flowsim.sweep.executor.check_scheduler`) must refuse it before any Dask client
is made: no hang, no ``MemoryError``, no ``RuntimeError``, no traceback.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sweep_helpers import write_tiny_sweep

from flowsim import cli
from flowsim.sweep.executor import SchedulerError, check_scheduler

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "scenarios" / "calibration" / "targets.yaml"

MINI_SWEEP = """\
name: mini
base: base.yaml
design: factorial
replications: 1
seed: 3
levers:
  policy.corridors.GD-HK.data.approval: {values: [0.3, 0.9]}
outcomes: [papers]
"""

FAST_SECONDS = 10.0
"""A refusal must come well within this (the check waits at most ~5 s); generous for slow CI."""


def _serve(handler) -> Iterator[str]:
    """Accept connections on 127.0.0.1:<random> in a thread, each given to ``handler``."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=handler, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()


@pytest.fixture
def http_server() -> Iterator[str]:
    """A real (standard library) HTTP server: it waits for a request and sends nothing first."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def banner_server() -> Iterator[str]:
    """A service that greets every connection with a text banner (as SMTP or SSH do)."""

    def greet(conn: socket.socket, stop: threading.Event) -> None:
        with conn:
            conn.sendall(b"220 mail.example ESMTP ready\r\n")
            stop.wait(10)

    yield from _serve(greet)


@pytest.fixture
def closing_server() -> Iterator[str]:
    """A service that accepts and closes every connection at once."""

    def close(conn: socket.socket, stop: threading.Event) -> None:
        conn.close()

    yield from _serve(close)


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    return write_tiny_sweep(tmp_path / "in", MINI_SWEEP)


def _cli(argv: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, float]:
    started = time.monotonic()
    code = cli.main([str(a) for a in argv])
    seconds = time.monotonic() - started
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, text
    return code, text, seconds


@pytest.mark.parametrize(
    ("server", "fragment"),
    [
        ("http_server", "sent no Dask greeting"),
        ("banner_server", "not a Dask message (it begins '220 mail'"),
        ("closing_server", "closed the connection"),
    ],
)
@pytest.mark.parametrize("command", ["sweep", "calibrate"])
def test_a_scheduler_address_of_another_service_is_refused_within_seconds(
    server: str,
    fragment: str,
    command: str,
    request: pytest.FixtureRequest,
    sweep_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = "tcp://" + request.getfixturevalue(server)
    out = tmp_path / "out"
    first = sweep_file if command == "sweep" else TARGETS
    argv = [command, first, "--scheduler", address, "--out", out, "--quiet"]
    code, text, seconds = _cli(argv, capsys)
    assert code == 2, f"flowsim {command} --scheduler at {server}: exit {code}\n{text}"
    assert fragment in text, text
    assert "Nothing was run" in text, text
    assert seconds < FAST_SECONDS, f"{command} took {seconds:.1f} s to refuse {server}"
    assert not out.exists(), "nothing is written before the scheduler is known to be one"


def test_tcp_address_with_tls_files_is_refused_with_a_message(
    sweep_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from distributed.security import Security

    keys = Security.temporary()  # any PEM pair will do: the check refuses before using it
    ca = tmp_path / "ca.pem"
    cert = tmp_path / "cert.pem"
    ca.write_text(keys.tls_ca_file)
    cert.write_text(keys.tls_client_cert + keys.tls_client_key)
    for command, first in (("sweep", sweep_file), ("calibrate", TARGETS)):
        argv = [command, first, "--scheduler", "tcp://127.0.0.1:8786", "--tls-ca-file", ca]
        code, text, _ = _cli([*argv, "--tls-cert", cert, "--out", tmp_path / "o"], capsys)
        assert code == 2, text
        assert "plain tcp:// but TLS credentials are given" in text, text
        assert "RuntimeError" not in text


def test_tls_address_at_a_plain_service_fails_the_tls_handshake(
    banner_server: str, tmp_path: Path
) -> None:
    from distributed.security import Security

    with pytest.raises(SchedulerError, match="TLS handshake failed"):
        check_scheduler(f"tls://{banner_server}", timeout=3, security=Security.temporary())


def test_a_real_scheduler_greeting_is_accepted() -> None:
    """A fake that speaks first exactly as a Dask server does (length, then a handshake)."""
    import struct

    import msgpack

    body = msgpack.packb({"compression": None, "python": (3, 11, 0), "pickle-protocol": 5})

    def greet(conn: socket.socket, stop: threading.Event) -> None:
        with conn:
            conn.sendall(struct.pack("Q", len(body)) + body)
            stop.wait(5)

    server = _serve(greet)
    address = next(server)
    try:
        check_scheduler(f"tcp://{address}", timeout=3)
    finally:
        server.close()
