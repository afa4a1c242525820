"""Replicate runs for the dashboard: cached by the resolved scenario, with progress and cancel.

A run is keyed by the sha256 of the fully resolved scenario
(:func:`flowsim.scenario.scenario_hash`) and the number of replicates, so going back
to a setting the page has run before is instant. Replicates use the seeds that
``flowsim run FILE --replications N`` uses (:func:`flowsim.streams.replicate_seeds`),
so a scenario saved from the page reproduces the page's numbers on the command line.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from flowsim.params import Scenario
from flowsim.run import RunResult, run
from flowsim.scenario import scenario_hash
from flowsim.streams import replicate_seeds

CACHE_SIZE = 64
"""Runs kept in memory (each is a list of replicate results); the oldest go first."""

CACHE_MONTHS = 100_000
"""Replicate-months kept in memory at most, over all cached runs; the oldest runs go first.

A replicate's results take about 7 kB per reported month (measured: 0.86 MB for 120
months), so this bounds the cache near 0.7 GB whatever the runs' lengths."""


class Cancelled(Exception):
    """The user cancelled the run; nothing is cached."""


def run_key(scenario: Scenario, replications: int) -> str:
    """Cache key: the resolved scenario's sha256 and the number of replicates."""
    return f"{scenario_hash(scenario)}-x{int(replications)}"


class RunCache:
    """The runs of the dashboard process, most recently used last (thread-safe)."""

    def __init__(self, size: int = CACHE_SIZE, months: int = CACHE_MONTHS):
        self.size = size
        self.months = months
        self._runs: OrderedDict[str, list[RunResult]] = OrderedDict()
        self._lock = threading.Lock()

    def _months(self) -> int:
        return sum(len(run) * (run[0].scenario.steps if run else 0) for run in self._runs.values())

    def get(self, key: str) -> list[RunResult] | None:
        """The cached run, or None."""
        with self._lock:
            found = self._runs.get(key)
            if found is not None:
                self._runs.move_to_end(key)
            return found

    def put(self, key: str, results: list[RunResult]) -> None:
        """Keep a run, dropping the oldest beyond :attr:`size`."""
        with self._lock:
            self._runs[key] = results
            self._runs.move_to_end(key)
            while len(self._runs) > self.size or (
                len(self._runs) > 1 and self._months() > self.months
            ):
                self._runs.popitem(last=False)

    def __contains__(self, key: str) -> bool:
        with self._lock:
            return key in self._runs

    def __len__(self) -> int:
        with self._lock:
            return len(self._runs)


CACHE = RunCache()
"""The process-wide cache every page shares."""


@dataclass
class Pair:
    """A run of the page's settings and of its reference, with the same replicate seeds."""

    current: list[RunResult]
    reference: list[RunResult]
    cached: tuple[bool, bool]


def run_replicates(
    scenario: Scenario,
    replications: int,
    *,
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    cache: RunCache = CACHE,
) -> tuple[list[RunResult], bool]:
    """The replicates of ``scenario`` (from the cache if there), and whether they were cached.

    Args:
        scenario: what to run.
        replications: how many replicates.
        progress: called with 1 after each simulated month.
        cancelled: polled after each month; when it returns True the run stops.
        cache: where runs are kept.

    Raises:
        Cancelled: ``cancelled()`` became true; nothing was cached.
    """
    key = run_key(scenario, replications)
    found = cache.get(key)
    if found is not None:
        return found, True

    def tick(n: int) -> None:
        if progress is not None:
            progress(n)
        if cancelled():
            raise Cancelled

    results = []
    for seed in replicate_seeds(scenario.seed, replications):
        if cancelled():
            raise Cancelled
        results.append(run(scenario, seed, progress=tick))
    cache.put(key, results)
    return results, False


def run_pair(
    current: Scenario,
    reference: Scenario,
    replications: int,
    *,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    cache: RunCache = CACHE,
) -> Pair:
    """Run the reference, then the page's settings; ``progress(fraction, what)`` as it goes."""
    todo = [
        (label, s)
        for label, s in (("reference", reference), ("current settings", current))
        if run_key(s, replications) not in cache
    ]
    total = max(1, sum(s.steps for _, s in todo) * replications)
    done = 0

    def runner(label: str) -> Callable[[int], None]:
        def tick(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done / total, label)

        return tick

    ref, ref_cached = run_replicates(
        reference, replications, progress=runner("reference"), cancelled=cancelled, cache=cache
    )
    cur, cur_cached = run_replicates(
        current, replications, progress=runner("current settings"), cancelled=cancelled, cache=cache
    )
    if progress is not None:
        progress(1.0, "done")
    return Pair(cur, ref, (cur_cached, ref_cached))


__all__ = ["CACHE", "Cancelled", "Pair", "RunCache", "run_key", "run_pair", "run_replicates"]
