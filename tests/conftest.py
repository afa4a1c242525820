"""Fixtures shared across test modules (defined in :mod:`run_folders`).

The warm-start cache (:mod:`flowsim.warmstart`) is off for the suite: every test runs its
own warm-up, so a test that watches the warm-up (counting calls, patching a mechanism) sees
it, and no test reads what another wrote. tests/test_warmstart.py turns it on in a
temporary folder.
"""

import os

from run_folders import baseline_folder, policy_folder, sweep_folder

os.environ["FLOWSIM_CACHE"] = "off"

__all__ = ["baseline_folder", "policy_folder", "sweep_folder"]
