"""Fixtures shared across test modules (defined in :mod:`run_folders`).

The warm-start cache (:mod:`flowsim.warmstart`) is off for the suite: every test runs its
own warm-up, so a test that watches the warm-up (counting calls, patching a mechanism) sees
it, and no test reads what another wrote. tests/test_warmstart.py turns it on in a
temporary folder.

Signals: a suite started in the background (``cmd &`` in a non-interactive shell ignores
SIGINT) or under ``nohup`` (SIGHUP ignored) would pass the ignored disposition on to every
process it starts, and the tests of what a signal does (tests/test_diskio.py,
tests/test_hardening.py) would see nothing happen. The suite takes the defaults back.
"""

import os
import signal

from run_folders import baseline_folder, policy_folder, sweep_folder

os.environ["FLOWSIM_CACHE"] = "off"

for _name, _default in (("SIGINT", signal.default_int_handler), ("SIGHUP", signal.SIG_DFL)):
    _signum = getattr(signal, _name, None)
    if _signum is not None and signal.getsignal(_signum) == signal.SIG_IGN:
        signal.signal(_signum, _default)

__all__ = ["baseline_folder", "policy_folder", "sweep_folder"]
