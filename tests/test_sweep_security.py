"""A local sweep's Dask cluster: mutual TLS with temporary keys, nothing else listening.

Another process — another user on a shared server — must not be able to run code in
the workers of a sweep's local cluster. Each attempt runs in a separate Python
process, as an attacker's would, and tries to make the cluster write a marker file.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import psutil
import pytest

from flowsim.sweep.executor import dask_client

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ATTACK = """
import asyncio, pathlib, pickle, sys
marker, how, address = sys.argv[1], sys.argv[2], sys.argv[3]

def payload():
    pathlib.Path(marker).write_text("ran")
    return 1

if how == "client":  # an ordinary distributed.Client with the given (or no) security
    from distributed import Client
    from distributed.security import Security
    security = None
    if len(sys.argv) > 4:
        security = (
            Security.temporary() if sys.argv[4] == "foreign"
            else pickle.loads(pathlib.Path(sys.argv[4]).read_bytes())
        )
    try:
        with Client(address, timeout="5s", security=security) as client:
            client.submit(payload, pure=False).result(timeout=20)
    except Exception as exc:
        print("refused:", type(exc).__name__, str(exc)[:200])
        sys.exit(3)
    print("connected and ran the payload")
else:  # straight to a worker's or nanny's port, asking it to run a function
    from distributed.comm import connect
    from distributed.protocol.pickle import dumps

    async def attack():
        comm = await connect(address, timeout=5)
        await comm.write({"op": "run", "function": dumps(payload), "args": dumps(()),
                          "kwargs": dumps({}), "reply": True})
        return await comm.read()
    try:
        print("answer:", asyncio.run(attack()))
    except Exception as exc:
        print("refused:", type(exc).__name__, str(exc)[:200])
        sys.exit(3)
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A sweep's local cluster of two workers, and where the test may write."""
    folder = tmp_path_factory.mktemp("security")
    script = folder / "attack.py"
    script.write_text(textwrap.dedent(ATTACK), encoding="utf-8")
    with dask_client(workers=2) as client:
        yield client, folder, script


def _attack(script, marker, how, address, *extra):
    return subprocess.run(
        [sys.executable, str(script), str(marker), how, address, *extra],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _addresses(client) -> dict[str, str]:
    info = client.scheduler_info()
    out = {"scheduler": client.scheduler.address}
    for k, (address, worker) in enumerate(sorted(info["workers"].items())):
        out[f"worker {k}"] = address
        out[f"nanny {k}"] = worker["nanny"]
    return out


def test_every_address_is_tls_on_loopback(cluster):
    client, _, _ = cluster
    for role, address in _addresses(client).items():
        assert address.startswith("tls://127.0.0.1:"), f"{role} listens at {address}"


@pytest.mark.parametrize(
    "how, security, scheme",
    [
        ("client", None, "tls"),  # a Client with no credentials
        ("client", None, "tcp"),  # plain tcp to the same port
        ("client", "foreign", "tls"),  # TLS, but with a certificate of its own
    ],
)
def test_an_unauthenticated_client_cannot_run_code_on_the_scheduler(
    cluster, tmp_path, how, security, scheme
):
    client, _, script = cluster
    address = client.scheduler.address.replace("tls://", f"{scheme}://")
    marker = tmp_path / "pwned"
    done = _attack(script, marker, how, address, *([security] if security else []))
    assert not marker.exists(), (
        f"another process ran code in a sweep's worker ({how}, {scheme}, {security}): "
        f"{done.stdout}{done.stderr[-2000:]}"
    )
    assert done.returncode == 3 and "refused" in done.stdout, (
        f"the connection is refused: rc {done.returncode}, {done.stdout}{done.stderr[-2000:]}"
    )


def test_workers_and_nannies_refuse_plain_connections(cluster, tmp_path):
    client, _, script = cluster
    for role, address in _addresses(client).items():
        if role == "scheduler":
            continue
        marker = tmp_path / f"pwned-{role.replace(' ', '-')}"
        done = _attack(script, marker, "comm", address.replace("tls://", "tcp://"))
        assert not marker.exists() and done.returncode == 3, (
            f"{role} at {address} ran code for a plain tcp connection: {done.stdout}{done.stderr}"
        )


def test_the_cluster_credentials_do_work(cluster, tmp_path):
    """Control: the same attack with the cluster's own credentials runs the payload.

    Without this, a refusal above could come from a wrong address, not from TLS.
    """
    client, _, script = cluster
    keys = tmp_path / "security.pickle"
    keys.write_bytes(pickle.dumps(client.security))
    marker = tmp_path / "ran"
    done = _attack(script, marker, "client", client.scheduler.address, str(keys))
    assert done.returncode == 0 and marker.read_text() == "ran", (
        f"with the cluster's credentials the payload runs: {done.stdout}{done.stderr[-2000:]}"
    )


def test_nothing_but_the_cluster_listens_and_only_on_loopback(cluster):
    """No HTTP server (dashboard, metrics on :8787 or on the workers): only Dask's TLS ports."""
    client, _, _ = cluster
    me = psutil.Process()
    listening = [
        (process.pid, connection.laddr)
        for process in [me, *me.children(recursive=True)]
        for connection in process.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    ]
    assert all(address.ip == "127.0.0.1" for _, address in listening), (
        f"everything binds to 127.0.0.1: {listening}"
    )
    ports = {address.port for _, address in listening}
    expected = {int(a.rsplit(":", 1)[1]) for a in _addresses(client).values()}
    assert ports == expected, (
        f"only the scheduler, the workers and their nannies listen (no HTTP server): "
        f"listening {sorted(ports)}, expected {sorted(expected)}"
    )
    assert 8787 not in ports, "no dashboard or metrics server on :8787"


def _write_credentials(folder):
    """A CA and certificates for a user's own TLS cluster, as PEM files."""
    from distributed.security import Security

    keys = Security.temporary()
    files = {}
    for name in (
        "tls_ca_file",
        "tls_scheduler_cert",
        "tls_scheduler_key",
        "tls_worker_cert",
        "tls_worker_key",
        "tls_client_cert",
        "tls_client_key",
    ):
        path = folder / f"{name}.pem"
        path.write_text(getattr(keys, name), encoding="utf-8")
        path.chmod(0o600)
        files[name] = str(path)
    return files


def _wait_for_port(port: int, seconds: float = 60.0) -> None:
    """Wait until something listens on 127.0.0.1:port (a busy machine starts it slowly)."""
    import socket
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing listens on port {port} after {seconds:g} s")


def test_a_users_tls_scheduler_is_reached_with_their_credentials(tmp_path, capsys):
    """A sweep runs on a user's TLS cluster with their credentials (--tls-*).

    Without credentials flowsim says what to give instead of failing inside Dask.
    """
    from sweep_helpers import factorial_body, free_port, write_tiny_sweep

    from flowsim.cli import main as cli

    spec = write_tiny_sweep(tmp_path / "spec", factorial_body(replications=1), steps=3)
    files = _write_credentials(tmp_path)
    port = free_port()
    address = f"tls://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    ca = ["--tls-ca-file", files["tls_ca_file"]]
    scheduler = subprocess.Popen(
        [
            *dask,
            "scheduler",
            "--protocol",
            "tls",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dashboard",
            *ca,
            "--tls-cert",
            files["tls_scheduler_cert"],
            "--tls-key",
            files["tls_scheduler_key"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [
            *dask,
            "worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--host",
            "127.0.0.1",
            "--no-dashboard",
            *ca,
            "--tls-cert",
            files["tls_worker_cert"],
            "--tls-key",
            files["tls_worker_key"],
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    client_files = [
        *ca,
        "--tls-cert",
        files["tls_client_cert"],
        "--tls-key",
        files["tls_client_key"],
    ]
    try:
        _wait_for_port(port)
        assert cli(["sweep", str(spec), "--scheduler", address, "--out", str(tmp_path / "no")]) == 2
        err = capsys.readouterr().err
        assert "talks TLS: give the cluster's CA" in err and "Traceback" not in err, err
        out = tmp_path / "out"
        code = cli(
            [
                "sweep",
                str(spec),
                "--scheduler",
                address,
                *client_files,
                "--quiet",
                "--out",
                str(out),
            ]
        )
        assert code == 0, capsys.readouterr().err
    finally:
        for process in (worker, scheduler):
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    import pandas as pd

    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 8 and runs["error"].isna().all(), "every run went through the TLS cluster"
