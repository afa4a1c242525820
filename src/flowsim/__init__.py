"""flowsim: an agent-based simulator of cross-border innovation flows in the Greater Bay Area.

The public API::

    import flowsim
    scenario = flowsim.load_scenario("scenarios/data_sandbox.yaml")  # or flowsim.Scenario()
    result = flowsim.run(scenario, seed=1)
    result.yearly            # outputs per year, real-world units
    result.flows             # flows by element x origin x destination per month
    sweep = flowsim.sweep("scenarios/sweeps/policy_comparison.yaml", workers=2)
    sweep.runs               # one row per run: factors, seed, outcomes

The names are imported on first use (PEP 562), so that ``import flowsim`` — and
with it ``flowsim --help`` and ``flowsim validate`` — does not pay for Mesa, pandas,
SciPy, Dask or matplotlib.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any


def _installed_version() -> str:
    """The version setuptools-scm wrote at build time, else the installed metadata's."""
    try:
        from flowsim._version import version  # generated, git-ignored: see pyproject.toml
    except ImportError:  # running from a source tree that was never built or installed
        from importlib import metadata

        try:
            return metadata.version("flowsim")
        except metadata.PackageNotFoundError:
            return "0+unknown"
    return version


__version__ = _installed_version()

_LAZY: dict[str, tuple[str, str | None]] = {
    "FlowModel": ("flowsim.model", "FlowModel"),
    "RunResult": ("flowsim.run", "RunResult"),
    "Scenario": ("flowsim.params", "Scenario"),
    "load_scenario": ("flowsim.scenario", "load_scenario"),
    "read_sweep": ("flowsim.sweep.api", "read_sweep"),
    "run_replicates": ("flowsim.run", "run_replicates"),
    "sensitivity": ("flowsim.sweep.sensitivity", "sensitivity"),
    # a callable package: flowsim.sweep(...) runs a sweep (see flowsim.sweep)
    "sweep": ("flowsim.sweep", None),
    "with_overrides": ("flowsim.params", "with_overrides"),
}
"""Public name -> (module, attribute; None for the module itself)."""

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from flowsim import sweep
    from flowsim.model import FlowModel
    from flowsim.params import Scenario, with_overrides
    from flowsim.run import RunResult, run, run_replicates
    from flowsim.scenario import load_scenario
    from flowsim.sweep.api import read_sweep
    from flowsim.sweep.sensitivity import sensitivity


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'flowsim' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    if name != "sweep":  # importing flowsim.sweep binds the package here already
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(types.ModuleType):
    """``flowsim.run`` is the function, even after ``import flowsim.run`` (the module).

    Importing a submodule binds it as an attribute of its package; eagerly importing
    the function over it (as before) cost a Mesa import at ``import flowsim``.
    """

    @property
    def run(self) -> Any:
        from flowsim.run import run

        return run

    @run.setter
    def run(self, value: Any) -> None:
        if not isinstance(value, types.ModuleType):  # the import system binds the module
            raise AttributeError("flowsim.run is a function; patch flowsim.run.run instead")


sys.modules[__name__].__class__ = _Package


__all__ = [
    "FlowModel",
    "RunResult",
    "Scenario",
    "__version__",
    "load_scenario",
    "read_sweep",
    "run",
    "run_replicates",
    "sensitivity",
    "sweep",
    "with_overrides",
]
