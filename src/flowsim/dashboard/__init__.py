"""The analyst's dashboard in the browser (``flowsim dashboard``), built on Solara.

- :mod:`flowsim.dashboard.levers`: the controls, read from the pydantic models of
  :mod:`flowsim.params` (unit, allowed range and default of every lever);
- :mod:`flowsim.dashboard.runner`: replicate runs cached by the resolved scenario's hash,
  with progress and cancellation;
- :mod:`flowsim.dashboard.views`: the tables the page shows (difference from the reference,
  by city and by field);
- :mod:`flowsim.dashboard.app`: the Solara page;
- :mod:`flowsim.dashboard.limits`: how large a run the page may start (replicates x months
  x scale), with the message;
- :mod:`flowsim.dashboard.guard`: the ASGI gate every request passes (per-start token,
  ``Host`` and ``Origin`` checks, a cap on open pages);
- :mod:`flowsim.dashboard.server`: serves the Solara app behind the gate on loopback
  (assets served locally, no CDN, short kernel cull).

Only :mod:`~flowsim.dashboard.app` and :mod:`~flowsim.dashboard.server` import Solara.
The security model and the limits are written down in docs/dashboard.md.
"""
