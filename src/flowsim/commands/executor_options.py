"""Options shared by the commands that run on the sweep executors (``sweep``, ``calibrate``).

Not a command itself (it is not in :data:`flowsim.cli.COMMANDS`): where the runs go
(``--workers`` or ``--scheduler``) and the client side of a TLS-secured cluster.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

SCHEDULER_ENV = "FLOWSIM_SCHEDULER"
"""The environment variable holding the default ``--scheduler`` address (used unless
``--workers`` or ``--scheduler`` is given), e.g. set once in a SLURM job script."""


def add_executor_arguments(parser: argparse.ArgumentParser) -> None:
    """``--workers N | --scheduler ADDR`` and the ``--tls-*`` files for ``--scheduler``."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=None,
        help="local Dask worker processes (default: every core); 1 runs in this process",
    )
    where.add_argument(
        "--scheduler",
        metavar="tls://HOST:PORT",
        help="send the runs to an existing Dask scheduler instead (tls:// with the --tls-* "
        "files or Dask's TLS configuration; tcp:// is unauthenticated); default: the "
        f"address in ${SCHEDULER_ENV}, else Dask's `scheduler-address` setting (a Dask "
        "config file or $DASK_SCHEDULER_ADDRESS), unless --workers is given",
    )
    tls = parser.add_argument_group(
        "TLS for --scheduler",
        "the client side of a TLS-secured Dask cluster, as in `dask scheduler --tls-ca-file ...`; "
        "without these, Dask's configuration applies (distributed.comm.tls.* in "
        "~/.config/dask/*.yaml or DASK_DISTRIBUTED__COMM__TLS__* variables). Local clusters "
        "always use mutual TLS with temporary credentials.",
    )
    tls.add_argument("--tls-ca-file", metavar="FILE", help="CA certificate(s) the cluster trusts")
    tls.add_argument("--tls-cert", metavar="FILE", help="this client's certificate (PEM)")
    tls.add_argument("--tls-key", metavar="FILE", help="its private key, if not in --tls-cert")


def client_security(args: argparse.Namespace, command: str) -> tuple[Any, str | None]:
    """The ``Security`` to reach ``--scheduler`` (None: Dask's configuration), or an error.

    Returns:
        ``(security, None)``, or ``(None, message)`` when the options are wrong (exit 2).
    """
    from flowsim.sweep.executor import remote_security

    apply_scheduler_env(args, command)
    if args.workers is not None and args.workers < 1:
        return None, f"flowsim {command}: --workers must be at least 1"
    tls_files = (args.tls_ca_file, args.tls_cert, args.tls_key)
    if any(tls_files) and not args.scheduler:
        return None, f"flowsim {command}: --tls-* options are for --scheduler"
    try:
        return (
            remote_security(*tls_files, scheduler=args.scheduler) if args.scheduler else None
        ), None
    except (ValueError, OSError) as exc:
        return None, f"flowsim {command}: {exc}"


def default_scheduler() -> tuple[str | None, str | None]:
    """(address, where it came from) of the default scheduler, or (None, None).

    :data:`SCHEDULER_ENV` first, else Dask's own ``scheduler-address`` setting, the one a
    bare ``distributed.Client()`` connects to (``~/.config/dask/*.yaml`` or
    ``DASK_SCHEDULER_ADDRESS``).
    """
    address = os.environ.get(SCHEDULER_ENV, "").strip()
    if address:
        return address, f"${SCHEDULER_ENV}"
    import dask.config

    address = str(dask.config.get("scheduler-address", None) or "").strip()
    return (address, "Dask's scheduler-address setting") if address else (None, None)


def apply_scheduler_env(args: argparse.Namespace, command: str) -> None:
    """Take ``--scheduler`` from :func:`default_scheduler` where neither option was given.

    Says so on stderr (a batch log then shows where the runs went).
    """
    if args.scheduler is not None or args.workers is not None:
        return
    address, source = default_scheduler()
    if address:
        args.scheduler = address
        print(f"flowsim {command}: --scheduler {address} (from {source})", file=sys.stderr)


def scheduler_problem(args: argparse.Namespace, security: Any, command: str) -> str | None:
    """Why ``--scheduler`` cannot be used (exit 2), or None (also when none is given).

    The one check every command with ``--scheduler`` makes before it starts any work:
    :func:`flowsim.sweep.executor.check_scheduler` (bounded by a timeout; a wrong
    service is recognised).
    """
    if not getattr(args, "scheduler", None):
        return None
    from flowsim.sweep.executor import SchedulerError, check_scheduler

    try:
        check_scheduler(args.scheduler, security=security)
    except SchedulerError as exc:
        return f"flowsim {command}: {exc}"
    return None
