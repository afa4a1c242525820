"""flowsim: an agent-based simulator of cross-border innovation flows in the Greater Bay Area.

The public API::

    import flowsim
    scenario = flowsim.load_scenario("scenarios/data_sandbox.yaml")  # or flowsim.Scenario()
    result = flowsim.run(scenario, seed=1)
    result.yearly            # outputs per year, real-world units
    result.flows             # flows by element x origin x destination per month
    sweep = flowsim.sweep("scenarios/sweeps/policy_comparison.yaml", workers=2)
    sweep.runs               # one row per run: factors, seed, outcomes
"""

from flowsim import sweep  # a callable package: flowsim.sweep(...) runs a sweep
from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides
from flowsim.run import RunResult, run, run_replicates
from flowsim.scenario import load_scenario
from flowsim.sweep.api import read_sweep
from flowsim.sweep.sensitivity import sensitivity

__version__ = "0.1.0"

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
