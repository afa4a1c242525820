"""flowsim: an agent-based simulator of cross-border innovation flows in the Greater Bay Area.

The public API::

    import flowsim
    scenario = flowsim.load_scenario("scenarios/data_sandbox.yaml")   # or flowsim.Scenario(scale=0.01)
    result = flowsim.run(scenario, seed=1)
    result.yearly            # outputs per year, real-world units
    result.flows             # flows by element x origin x destination per month
"""

from flowsim.model import FlowModel
from flowsim.params import Scenario, with_overrides
from flowsim.run import RunResult, run, run_replicates
from flowsim.scenario import load_scenario

__version__ = "0.1.0"

__all__ = ["FlowModel", "RunResult", "Scenario", "__version__", "load_scenario", "run", "run_replicates", "with_overrides"]
