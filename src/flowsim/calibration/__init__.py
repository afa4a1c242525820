"""Calibration and validation against real figures.

- :mod:`~flowsim.calibration.targets`: the targets file (YAML, validated);
- :mod:`~flowsim.calibration.evaluate`: a target's model value from a run;
- :mod:`~flowsim.calibration.ensemble`: the ensemble folder and :func:`load_ensemble`.
"""

from flowsim.calibration.ensemble import EnsembleError, load_ensemble, write_ensemble

__all__ = ["EnsembleError", "load_ensemble", "write_ensemble"]
