"""Dotted paths to scenario parameters: which exist, and the nearest one to a misspelt path."""

from __future__ import annotations

import difflib
from functools import cache

from pydantic import BaseModel

from flowsim.params import Scenario
from flowsim.yamlio import model_at

NOT_SWEPT: frozenset[str] = frozenset({"name", "description", "sources", "seed"})
"""Scenario fields a sweep may not vary: labels, and the seed (the sweep spawns replicate seeds)."""


def _leaf_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    out: list[str] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        path = f"{prefix}{key}"
        inner = model_at(model, (key,))
        if inner is not None:
            out += _leaf_paths(inner, path + ".")
        else:
            out.append(path)
    return out


@cache
def parameter_paths() -> tuple[str, ...]:
    """Every dotted path that names one parameter of :class:`~flowsim.params.Scenario`."""
    return tuple(p for p in _leaf_paths(Scenario) if p not in NOT_SWEPT)


def check_parameter_path(path: str) -> tuple[str | None, str | None]:
    """Whether ``path`` names one sweepable parameter.

    Returns:
        ``(None, None)`` if it does, else a message and a hint (the nearest valid path
        or the parameters below a group).
    """
    if path in parameter_paths():
        return None, None
    if path in NOT_SWEPT:
        why = (
            "the sweep's `seed:` sets replicate seeds"
            if path == "seed"
            else "it is a label, not a parameter"
        )
        return f"{path!r} cannot be varied: {why}", None
    below = [p for p in parameter_paths() if p.startswith(path + ".")]
    if below:
        shown = ", ".join(below[:6]) + (", ..." if len(below) > 6 else "")
        return f"{path!r} is a group of parameters, not one", f"name one of them: {shown}"
    close = difflib.get_close_matches(path, parameter_paths(), n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else "see flowsim.params for the parameter names"
    return f"{path!r} is not a scenario parameter", hint


__all__ = ["NOT_SWEPT", "check_parameter_path", "parameter_paths"]
