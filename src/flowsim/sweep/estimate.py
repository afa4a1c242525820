"""How long a sweep will take, from one short timed run (``flowsim sweep --dry-run``)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from flowsim.params import with_overrides
from flowsim.sweep.plan import SweepPlan

TRIAL_STEPS = 6
"""Months of the timed trial run; construction (warm-up included) is timed apart."""


@dataclass(frozen=True)
class Estimate:
    """A time estimate.

    Attributes:
        seconds_per_run: estimated time of one full run on one core.
        setup_seconds: of which building the model (warm-up months included).
        step_seconds: time of one recorded month.
    """

    seconds_per_run: float
    setup_seconds: float
    step_seconds: float

    def total(self, runs: int, workers: int) -> float:
        """Wall time of ``runs`` runs on ``workers`` single-threaded workers (ideal speed-up)."""
        return self.seconds_per_run * runs / max(1, min(workers, runs))


def estimate(plan: SweepPlan) -> Estimate:
    """Time one short run of the first design point and extrapolate to the full length.

    The model is built (with its warm-up) and stepped :data:`TRIAL_STEPS` months;
    a full run is taken as setup + months x time per month. With a custom model
    the model is called once.
    """
    first = next(plan.tasks())
    if plan.base is None:
        start = time.perf_counter()
        plan.model(first.overrides, first.seed)
        elapsed = time.perf_counter() - start
        return Estimate(elapsed, 0.0, 0.0)
    from flowsim.model import FlowModel

    scenario = with_overrides(plan.base, first.overrides)
    start = time.perf_counter()
    model = FlowModel(scenario, rng=first.seed)
    setup = time.perf_counter() - start
    trial = min(TRIAL_STEPS, scenario.steps)
    start = time.perf_counter()
    for _ in range(trial):
        model.step()
    per_step = (time.perf_counter() - start) / trial
    return Estimate(setup + per_step * scenario.steps, setup, per_step)


def format_duration(seconds: float) -> str:
    """``1 h 02 min``, ``3 min 20 s``, ``12.3 s``, ``85 ms``."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


__all__ = ["TRIAL_STEPS", "Estimate", "estimate", "format_duration"]
