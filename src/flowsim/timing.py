"""When a policy is in force: the warm-up under the baseline's levers, a start, a phase-in.

A scenario's levers — the border rules (``policy``), ``research.grant_portability``,
``transfer.researcher_ownership`` and ``capital.guidance_leverage`` (:data:`LEVERS`) — are
what a policy changes. The warm-up always runs under the baseline's levers (the defaults,
which are ``scenarios/baseline.yaml``'s), so the state at the end of the warm-up does not
depend on the policy (:func:`before_policy`) and can be shared by every policy of a sweep
(:mod:`flowsim.warmstart`). From ``timing.start`` the policy's levers act; over
``timing.phase_in_months`` a growing share of flows meets the new rules and the numeric
levers move linearly (:func:`weight`); at ``timing.end`` the baseline's levers return.
``timing.steady_state: true`` keeps the policy in force through the warm-up instead: the
policy's 15-year steady state, labelled as such wherever it is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowsim.params import Scenario, with_overrides

LEVERS: tuple[str, ...] = (
    "policy",
    "research.grant_portability",
    "transfer.researcher_ownership",
    "capital.guidance_leverage",
)
"""Scenario paths a policy sets: before its start they hold the baseline's values. Everything
else (behaviour, including ``deterrence``, the border's non-policy part) is the scenario's own
from the first warm-up month."""


def _get(scenario: Scenario, path: str) -> Any:
    value: Any = scenario
    for part in path.split("."):
        value = getattr(value, part)
    return value


def _dump(value: Any) -> Any:
    return value.model_dump(by_alias=True, mode="json") if hasattr(value, "model_dump") else value


def before_policy(params: Scenario) -> Scenario:
    """``params`` with every lever at the baseline's value: the rules before the policy."""
    if params.timing.steady_state:
        return params
    base = Scenario()
    changes = {
        path: _dump(_get(base, path))
        for path in LEVERS
        if _dump(_get(base, path)) != _dump(_get(params, path))
    }
    return with_overrides(params, changes) if changes else params


@dataclass(frozen=True)
class Schedule:
    """A policy's dates as reported month numbers (``end`` None: in force to the run's end)."""

    start: int
    phase_in: int
    end: int | None

    def weight(self, step: int) -> float:
        """Share of the policy in force in reported month ``step`` (0 before, 1 in full)."""
        if step < self.start or (self.end is not None and step >= self.end):
            return 0.0
        if self.phase_in <= 0:
            return 1.0
        return min(1.0, (step - self.start + 1) / self.phase_in)


def schedule(params: Scenario) -> Schedule | None:
    """The policy's schedule; None when no lever differs from the baseline or in steady state."""
    t = params.timing
    if t.steady_state or before_policy(params) is params:
        return None
    start = 0 if t.start is None else params.month_number(t.start)
    end = None if t.end is None else params.month_number(t.end)
    return Schedule(start, t.phase_in_months, end)


def weight(params: Scenario, step: int) -> float:
    """Share of ``params``'s policy in force in reported month ``step`` (1: no schedule)."""
    s = schedule(params)
    return 1.0 if s is None else s.weight(step)


def label(params: Scenario) -> str:
    """How the policy's timing is reported (a steady state says so)."""
    t = params.timing
    if t.steady_state:
        return (
            "steady state: the policy in force through the warm-up (its 15-year steady state, "
            "not its introduction)"
        )
    s = schedule(params)
    if s is None:
        return "no policy lever differs from the baseline"
    text = f"introduced in reported month {s.start}"
    if s.phase_in:
        text += f", phased in over {s.phase_in} months"
    if s.end is not None:
        text += f", ended in month {s.end}"
    return text + " (the warm-up ran under the baseline's levers)"
