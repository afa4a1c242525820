"""Local Dask workers started by flowsim keep glibc's adaptive memory thresholds."""

from __future__ import annotations

import os

from flowsim.sweep.executor import dask_client


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_local_workers_do_not_get_a_fixed_malloc_trim_threshold():
    # Dask's default (65536) made flowsim runs 12-17% slower in workers (see executor.py)
    with dask_client(workers=1) as client:
        seen = client.run(_trim_threshold)
    assert seen and all(value is None for value in seen.values()), (
        f"workers must not have MALLOC_TRIM_THRESHOLD_ set, got {seen}"
    )
