"""Where a sweep's runs execute: in this process, on a local Dask cluster, or on a remote one.

All three share one code path — :func:`execute` hands each finished run's record
to a callback as soon as it is done, in whatever order runs finish. Because every
task carries its own seed, the records do not depend on the executor.

On Dask, tasks are submitted in a sliding window (a few per worker thread) so that
a sweep of any size keeps little in flight. A run whose worker dies is rescheduled
by the scheduler; if the scheduler gives up on it (``KilledWorker``) or the
connection drops, the run is resubmitted up to ``attempts`` times before it is
recorded as failed: a killed worker loses no run.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from flowsim.sweep.tasks import Model, RunTask, empty_record, run_task

OnResult = Callable[[dict[str, Any]], None]

CONNECT_SECONDS = 5.0
"""How long :func:`check_scheduler` waits for a ``--scheduler`` to connect and greet."""

GREETING_BYTES = 1 << 16
"""Largest first message accepted from a scheduler (Dask's greeting is a few hundred bytes)."""

_ADDRESS = re.compile(
    r"^(?P<scheme>tcp|tls)://(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+):(?P<port>\d{1,5})/?$"
)


class SchedulerError(Exception):
    """A ``--scheduler`` is not a Dask address, does not answer, or is not a Dask scheduler."""


def check_scheduler(address: str, timeout: float = CONNECT_SECONDS, security: Any = None) -> None:
    """Refuse, within about ``timeout`` seconds, a scheduler that cannot be used.

    The one check of ``--scheduler`` for ``sweep``, ``calibrate`` and ``explain``, done
    before any Dask client is made (a client pointed at a wrong service can wait for
    minutes, or read a banner as a message length and run out of memory). It refuses:

    - an address that is not ``tcp://HOST:PORT`` or ``tls://HOST:PORT``;
    - ``tcp://`` with TLS credentials (``--tls-*`` or Dask's configuration requiring
      encryption): the client would refuse it with a traceback;
    - an address where nothing accepts a connection within ``timeout``;
    - for ``tls://``, a service whose TLS handshake fails (not TLS, or not these
      credentials);
    - a service that does not greet as a Dask scheduler does. A Dask server's first
      act on a new connection is to send its handshake: an 8-byte length and a small
      msgpack message naming ``pickle-protocol``. An HTTP server sends nothing (it
      waits for a request); a banner is not such a message; either is refused.

    Args:
        address: the ``--scheduler`` value.
        timeout: seconds to connect and then to receive the greeting.
        security: the ``distributed.security.Security`` the client will use (None:
            Dask's configuration).

    Raises:
        SchedulerError: saying which, and what to do.
    """
    import socket
    import time

    match = _ADDRESS.match(address.strip())
    if not match or not 0 < int(match["port"]) < 65536:
        raise SchedulerError(
            f"--scheduler {address!r}: not a Dask scheduler address; give tcp://HOST:PORT "
            "(or tls://HOST:PORT), e.g. tcp://127.0.0.1:8786"
        )
    scheme, host, port = match["scheme"], match["host"].strip("[]"), int(match["port"])
    if scheme == "tcp" and getattr(security, "require_encryption", False):
        raise SchedulerError(
            f"--scheduler {address}: is plain tcp:// but TLS credentials are given (--tls-* or "
            "Dask's configuration requires encryption); give the tls:// address of a TLS "
            "cluster, or drop the --tls-* options for a plain one. Nothing was run."
        )
    deadline = time.monotonic() + timeout
    while True:  # a scheduler that is still starting refuses at first: retry until the deadline
        try:
            left = max(deadline - time.monotonic(), 0.1)
            sock = socket.create_connection((host, port), timeout=left)
            break
        except OSError as err:
            if isinstance(err, ConnectionRefusedError) and time.monotonic() + 0.2 < deadline:
                time.sleep(0.2)
                continue
            reason = "no answer" if isinstance(err, TimeoutError) else (err.strerror or str(err))
            raise SchedulerError(
                f"--scheduler {address}: cannot reach a Dask scheduler there ({reason} within "
                f"{timeout:g} s); start it (`dask scheduler`) or check the address. "
                "Nothing was run."
            ) from None
    with sock:
        sock.settimeout(max(deadline - time.monotonic(), min(timeout, 2.0)))
        problem = _greeting_problem(sock, scheme, host, security)
    if problem:
        raise SchedulerError(
            f"--scheduler {address}: {problem}; check the address (the scheduler's port, "
            "8786 by default, not its dashboard's) and the --tls-* files. Nothing was run."
        )


def _greeting_problem(sock: Any, scheme: str, host: str, security: Any) -> str | None:
    """What is wrong with the service on ``sock`` as a Dask scheduler (None: nothing)."""
    import ssl
    import struct

    if scheme == "tls":
        context = _client_ssl_context(security)
        if context is None:
            return None  # no credentials to talk TLS with: the client will say so
        try:
            sock = context.wrap_socket(sock, server_hostname=host)
        except ssl.SSLError as err:
            return f"the TLS handshake failed ({err.reason or err}): not a TLS Dask scheduler"
        except TimeoutError:
            return "accepted the connection but did not complete a TLS handshake"
        except OSError as err:
            return f"closed the connection during the TLS handshake ({err.strerror or err})"
    try:
        head = _read_exactly(sock, 8)
        if head is None:
            return "closed the connection without greeting as a Dask scheduler does"
        (length,) = struct.unpack("Q", head)
        if not 0 < length <= GREETING_BYTES:
            shown = head.decode("ascii", "replace")
            return (
                f"answered with something that is not a Dask message (it begins {shown!r}): "
                "another service listens there"
            )
        body = _read_exactly(sock, length)
    except TimeoutError:
        return (
            "accepted the connection but sent no Dask greeting (a Dask scheduler speaks first; "
            "an HTTP server, such as Dask's dashboard, waits for a request)"
        )
    except OSError as err:
        return f"the connection failed ({err.strerror or err})"
    if body is None or b"pickle-protocol" not in body:
        return "sent a first message that is not a Dask handshake: another service listens there"
    return None


def _read_exactly(sock: Any, count: int) -> bytes | None:
    """``count`` bytes from ``sock`` (None if it closes first); socket timeouts raise."""
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _client_ssl_context(security: Any) -> Any:
    """The client ``SSLContext`` of ``security`` (or of Dask's configuration), or None."""
    try:
        if security is None:
            from distributed.security import Security

            security = Security()
        return security.get_connection_args("client").get("ssl_context")
    except Exception:  # noqa: BLE001 - unreadable credentials: the client reports them
        return None


def default_workers() -> int:
    """The machine's cores (at least 1)."""
    return max(1, os.cpu_count() or 1)


def local_security() -> Any:
    """TLS with a fresh, in-memory certificate authority for one local cluster.

    ``distributed.security.Security.temporary()`` makes a self-signed CA and one
    key pair held only in this process's memory (and passed to the workers it
    spawns); ``require_encryption`` refuses plain ``tcp://``. Every connection to the
    scheduler, the nannies and the workers is then mutual TLS: a process without the
    key — another user's, or another of your own — cannot connect, so it cannot
    submit tasks (run code) in the workers. Needs the ``cryptography`` package.
    """
    from distributed.security import Security

    return Security.temporary()


def remote_security(
    ca_file: str | None = None,
    cert: str | None = None,
    key: str | None = None,
    scheduler: str | None = None,
) -> Any:
    """The client side of a user's TLS cluster: their CA and client certificate (and key).

    With no files given, Dask's own configuration applies (``distributed.comm.tls.*``
    in ``~/.config/dask/*.yaml`` or ``DASK_DISTRIBUTED__COMM__TLS__...`` variables),
    exactly as for ``distributed.Client``.

    Raises:
        ValueError: a file is missing, or a ``tls://`` ``scheduler`` has no credentials
            from either the files or Dask's configuration (the message says what to give).
    """
    from distributed.security import Security

    given = [f for f in (ca_file, cert, key) if f]
    missing = [f for f in given if not os.path.isfile(f)]
    if missing:
        raise ValueError(f"TLS file(s) not found: {', '.join(missing)}")
    if not given:
        security = Security()  # Dask's configuration (default: none)
    elif not (ca_file and cert):
        raise ValueError("--tls-ca-file and --tls-cert go together (and --tls-key if separate)")
    else:
        security = Security(
            tls_ca_file=ca_file, tls_client_cert=cert, tls_client_key=key, require_encryption=True
        )
    if scheduler and scheduler.startswith("tls://") and not security.tls_client_cert:
        raise ValueError(
            f"{scheduler} talks TLS: give the cluster's CA and a client certificate "
            "(--tls-ca-file CA --tls-cert CERT [--tls-key KEY]) or set them in Dask's "
            "configuration (distributed.comm.tls.ca-file, distributed.comm.tls.client.cert)"
        )
    return security


Scheduler = Any
"""Where runs go: a scheduler's address (``tls://host:8786``), a ``dask.distributed.Client``,
or a cluster object with a ``scheduler_address`` (``LocalCluster``, dask-jobqueue's
``SLURMCluster``, dask-kubernetes' ``KubeCluster``, ...)."""

NOT_A_SCHEDULER = (
    "pass a Dask scheduler's address ('tls://host:8786'), a dask.distributed.Client, or a "
    "cluster object with a .scheduler_address (LocalCluster, dask-jobqueue's SLURMCluster, "
    "dask-kubernetes' KubeCluster)"
)


def is_client(scheduler: Any) -> bool:
    """True for a ``dask.distributed.Client`` (without importing Dask for anything else)."""
    if scheduler is None or isinstance(scheduler, str):
        return False
    from distributed import Client

    return isinstance(scheduler, Client)


def scheduler_address(scheduler: Scheduler | None) -> str | None:
    """The address of a scheduler given as an address, a Client or a cluster object.

    Raises:
        TypeError: it is none of them.
    """
    if scheduler is None or isinstance(scheduler, str):
        return scheduler
    if is_client(scheduler):
        address = scheduler.scheduler.address
    else:
        address = getattr(scheduler, "scheduler_address", None)
    if not isinstance(address, str):
        raise TypeError(f"{type(scheduler).__name__} is not a Dask scheduler: {NOT_A_SCHEDULER}")
    return address


@contextmanager
def dask_client(
    workers: int | None = None, scheduler: Scheduler | None = None, security: Any = None
) -> Iterator[Any]:
    """A ``dask.distributed.Client``: to ``scheduler`` if given, else to a new local cluster.

    The local cluster has ``workers`` single-threaded worker processes bound to
    127.0.0.1, talks mutual TLS with temporary credentials (:func:`local_security`)
    and has no HTTP server (no dashboard, no worker dashboards); it is closed on exit.
    ``scheduler`` is an address, a ``Client`` (used as it is and left open) or a cluster
    object (a client to it is opened and closed; the cluster is left running).
    ``security`` (a ``distributed.security.Security``) is used to reach an address or a
    cluster; None means Dask's configuration (a cluster object's own ``security`` first).
    """
    import dask
    from distributed import Client, LocalCluster

    if is_client(scheduler):
        yield scheduler
        return
    if scheduler is not None:
        scheduler_address(scheduler)  # a TypeError for what is not a scheduler
        with Client(scheduler, timeout="30s", security=security) as client:
            yield client
        return
    # Dask's nannies give workers MALLOC_TRIM_THRESHOLD_=65536 by default; a fixed trim
    # threshold turns off glibc's adaptive mmap threshold, so every large numpy
    # temporary becomes a fresh mmap: flowsim runs measured 12-17% slower that way.
    # Our own local workers keep glibc's defaults (a user's --scheduler cluster is theirs).
    # With no dashboard, the workers' statistical profiler (a stack sample every 10 ms,
    # taking the GIL from the run) serves nobody: it is off too.
    # Dask starts an HTTP server in the scheduler (on :8787 unless told otherwise) and in
    # every worker, for metrics and JSON status, even without a dashboard; they would
    # serve plain, unauthenticated HTTP. Ours serve no routes, bind an ephemeral port on
    # 127.0.0.1 and are closed as soon as the cluster is up (workers a nanny restarts too).
    quiet_workers = {
        "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
        "distributed.worker.profile.enabled": False,
        "distributed.scheduler.http.routes": [],
        "distributed.worker.http.routes": [],
    }
    security = local_security()
    with (
        dask.config.set(quiet_workers),
        LocalCluster(
            n_workers=workers or default_workers(),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            protocol="tls://",
            security=security,
            dashboard_address=None,
            worker_dashboard_address=None,
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster, security=security) as client,
    ):
        cluster.scheduler.http_server.stop()  # the scheduler runs in this process
        client.register_plugin(_no_http_server(), name="flowsim-no-http-server")
        yield client


def _no_http_server() -> Any:
    """A Dask worker plugin that closes the worker's HTTP server (see :func:`dask_client`).

    A plugin (rather than one ``client.run``) so that a worker a nanny restarts after a
    crash closes its HTTP server too. Defined here so that importing this module does
    not import Dask (the class travels to the workers by value).
    """
    from distributed.diagnostics.plugin import WorkerPlugin

    class NoHttpServer(WorkerPlugin):
        def setup(self, worker: Any) -> None:
            worker.http_server.stop()

    return NoHttpServer()


def run_in_process(tasks: Iterable[RunTask], model: Model, on_result: OnResult) -> None:
    """Run tasks one after another in this process (``--workers 1``; easiest to debug)."""
    for task in tasks:
        on_result(run_task(task, model))


def run_on_dask(
    client: Any,
    tasks: Iterable[RunTask],
    model: Model,
    on_result: OnResult,
    attempts: int = 3,
    window: int | None = None,
) -> None:
    """Run tasks on a Dask cluster and stream their records to ``on_result`` as they finish.

    Args:
        client: a connected ``distributed.Client``.
        tasks: the runs to do.
        model: the picklable model each task calls.
        on_result: called in this process with each finished run's record.
        attempts: submissions of a run before an infrastructure failure is recorded as its error.
        window: most runs in flight at once; default four per worker thread (at least 8),
            grown as workers join.
    """
    from distributed import as_completed

    pending = iter(tasks)
    fixed = window
    limit = [window or _window_for(client), time.monotonic()]
    token = uuid.uuid4().hex[:8]
    owner: dict[str, tuple[RunTask, int]] = {}

    def submit(task: RunTask, attempt: int) -> Any:
        key = f"flowsim-run-{task.run_id}-{token}-{attempt}"
        future = client.submit(run_task, task, model, key=key, pure=False)
        owner[future.key] = (task, attempt)
        return future

    def current_window() -> int:
        # Workers joining after the start (SLURM, Kubernetes) widen the window: the
        # scheduler's thread count is re-read at most once a second, never shrinking it.
        if fixed is None and time.monotonic() - limit[1] >= 1.0:
            limit[0] = max(limit[0], _window_for(client))
            limit[1] = time.monotonic()
        return limit[0]

    started = [submit(t, 1) for _, t in zip(range(limit[0]), pending, strict=False)]
    queue = as_completed(started)
    for future in queue:
        task, attempt = owner.pop(future.key)
        try:
            record = future.result()
        except Exception as exc:  # noqa: BLE001 - a lost worker or connection, not a failed model
            future.release()
            if attempt < attempts:
                queue.add(submit(task, attempt + 1))
                continue
            record = _infrastructure_failure(task, exc, attempt)
        future.release()
        on_result(record)
        wanted = current_window() - len(owner)
        for _ in range(max(wanted, 1)):
            following = next(pending, None)
            if following is None:
                break
            queue.add(submit(following, 1))


def _window_for(client: Any) -> int:
    """Runs to keep in flight: four per worker thread present now, at least 8."""
    threads = sum(client.nthreads().values()) or 1
    return max(8, 4 * threads)


def _infrastructure_failure(task: RunTask, exc: BaseException, attempts: int) -> dict[str, Any]:
    return empty_record(task, f"{type(exc).__name__}: {exc} (gave up after {attempts} attempts)")


def execute(
    tasks: Iterable[RunTask],
    model: Model,
    on_result: OnResult,
    *,
    workers: int | None = None,
    scheduler: Scheduler | None = None,
    security: Any = None,
) -> None:
    """Run every task and pass each finished record to ``on_result``.

    Args:
        tasks: the runs.
        model: what each run calls (picklable for Dask).
        on_result: receives each record in this process, in finishing order.
        workers: 1 runs in this process; N > 1 starts a local cluster of N
            single-threaded processes; None uses every core.
        scheduler: an existing Dask scheduler: its address (``tls://host:port``), a
            ``dask.distributed.Client`` or a cluster object (see :data:`Scheduler`);
            overrides ``workers``.
        security: a ``distributed.security.Security`` for ``scheduler`` (None: Dask's
            configuration); local clusters always make their own (:func:`local_security`).
    """
    if scheduler is None and (workers or default_workers()) == 1:
        run_in_process(tasks, model, on_result)
        return
    with dask_client(workers, scheduler, security) as client:
        run_on_dask(client, tasks, model, on_result)


__all__ = [
    "CONNECT_SECONDS",
    "SchedulerError",
    "check_scheduler",
    "dask_client",
    "default_workers",
    "execute",
    "is_client",
    "local_security",
    "remote_security",
    "run_in_process",
    "run_on_dask",
    "scheduler_address",
]
