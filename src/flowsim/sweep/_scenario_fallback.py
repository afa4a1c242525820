"""TEMPORARY stand-in for ``flowsim.scenario.load_scenario`` until that module is merged.

Delete this file, and the ``try``/``except ImportError`` in :mod:`flowsim.sweep.plan`,
once ``src/flowsim/scenario.py`` exists on main.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from flowsim.params import Scenario
from flowsim.yamlio import ConfigError, load_yaml, problems_from_validation


def load_scenario(path: str | Path) -> Scenario:
    """A scenario YAML file validated into a :class:`~flowsim.params.Scenario` (no ``extends:``)."""
    loaded = load_yaml(path)
    try:
        return Scenario.model_validate(loaded.data or {})
    except ValidationError as err:
        raise ConfigError(problems_from_validation(err, loaded, Scenario)) from None
