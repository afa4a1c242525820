"""How much work one press of *Run* may ask of the dashboard's server, and why.

The dashboard runs replicates in the server process, for anyone who holds its address, on
a machine shared with other work; a run that takes hours or all the memory belongs to
``flowsim run`` (which shows progress, writes a results folder and can be resumed). So a
run's size, replicates x (warm-up + reported months) x scale, is capped.

The unit is a "full-scale month": one simulated month of the whole Greater Bay Area at
scale 1. The default run, 3 replicates of 180 + 120 months at scale 0.1, is 90 of them
(about a minute here before the warm start); the cap is :data:`MAX_WORK` = 600 per
scenario (the reference is run with the same settings, so a press of *Run* is at most
twice that), and at most :data:`MAX_REPLICATES` replicates. A replicate's warm-up, which
cannot be stopped midway, is capped at :data:`MAX_WARMUP_WORK`.
"""

from __future__ import annotations

from flowsim.params import Scenario

MAX_REPLICATES = 50
"""Most replicates of one run in the dashboard (assumption: beyond 50 the interval narrows
by less than 15% per doubling and the run belongs to ``flowsim run``)."""

MAX_WORK = 600.0
"""Most full-scale months (replicates x (warmup_steps + steps) x scale) of one scenario's run
(assumption: about 7 times the default run, 3 x 300 x 0.1 = 90)."""


MAX_WARMUP_WORK = 60.0
"""Most full-scale months of one replicate's warm-up (warmup_steps x scale).

The warm-up runs when the model is built, before the first month the runner can stop at,
so a closed page or Cancel waits for it to end. Measured here: 7.8 s for the default
180 x 0.1 = 18 (on a loaded 2-core machine); the cap keeps that wait under about half a
minute (assumption: the longest wait acceptable after Cancel)."""


def work(scenario: Scenario, replications: int) -> float:
    """Full-scale months of ``replications`` replicates of ``scenario``."""
    return float(replications) * (scenario.warmup_steps + scenario.steps) * scenario.scale


def refusal(scenario: Scenario, replications: int) -> str | None:
    """Why this run is too large for the dashboard (with what to do), or None."""
    if replications < 1:
        return "give at least 1 replicate"
    if replications > MAX_REPLICATES:
        return (
            f"{replications} replicates is more than the dashboard runs ({MAX_REPLICATES}); "
            f"save the scenario and run it with: flowsim run FILE --replications {replications}"
        )
    warmup = scenario.warmup_steps * scenario.scale
    if warmup > MAX_WARMUP_WORK:
        return (
            f"the warm-up is too large for the dashboard: {scenario.warmup_steps} months x "
            f"scale {scenario.scale:g} = {warmup:,.0f} full-scale months, above the cap of "
            f"{MAX_WARMUP_WORK:,.0f} (a warm-up cannot be stopped midway); lower the scale "
            "or warmup_steps, or save the scenario and run it with flowsim run"
        )
    size = work(scenario, replications)
    if size > MAX_WORK:
        return (
            f"this run is too large for the dashboard: {replications} replicate(s) x "
            f"({scenario.warmup_steps} + {scenario.steps}) months x scale {scenario.scale:g} = "
            f"{size:,.0f} full-scale months, above the cap of {MAX_WORK:,.0f}; lower the "
            "replicates, steps or scale, or save the scenario and run it with flowsim run"
        )
    return None


__all__ = ["MAX_REPLICATES", "MAX_WARMUP_WORK", "MAX_WORK", "refusal", "work"]
