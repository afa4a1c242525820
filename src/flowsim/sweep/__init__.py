"""Policy sweeps: designs, replications, every core or a Dask cluster, resumable.

sample (:mod:`~flowsim.sweep.design`) → run (:mod:`~flowsim.sweep.tasks`,
:mod:`~flowsim.sweep.executor`) → store (:mod:`~flowsim.sweep.store`) → analyse
(:mod:`~flowsim.sweep.sensitivity`), each step a module; :mod:`~flowsim.sweep.spec`
reads the sweep file, :mod:`~flowsim.sweep.plan` lays out the runs and
:mod:`~flowsim.sweep.api` ties them together.

This package is itself callable — ``flowsim.sweep(...)`` is
:func:`flowsim.sweep.api.sweep` — so that the public name ``flowsim.sweep`` can be
both the function a notebook calls and the package its modules live in (binding
the function over the package name would break ``import flowsim.sweep.design``).
"""

import sys
import types
from typing import Any

from flowsim.sweep.api import SweepError, SweepResult, read_sweep
from flowsim.sweep.api import sweep as run_sweep
from flowsim.sweep.plan import SweepPlan, plan_sweep
from flowsim.sweep.spec import SweepSpec, load_spec


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> SweepResult:
        return run_sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "SweepError",
    "SweepPlan",
    "SweepResult",
    "SweepSpec",
    "load_spec",
    "plan_sweep",
    "read_sweep",
    "run_sweep",
]
