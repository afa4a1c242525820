"""The analyst's dashboard in the browser (``flowsim dashboard``), built on Solara.

- :mod:`flowsim.dashboard.levers`: the controls, read from the pydantic models of
  :mod:`flowsim.params` (unit, allowed range and default of every lever);
- :mod:`flowsim.dashboard.runner`: replicate runs cached by the resolved scenario's hash,
  with progress and cancellation;
- :mod:`flowsim.dashboard.views`: the tables the page shows (difference from the reference,
  by city and by field);
- :mod:`flowsim.dashboard.app`: the Solara page;
- :mod:`flowsim.dashboard.server`: starts the Solara server (assets served locally, no CDN).

Only :mod:`~flowsim.dashboard.app` and :mod:`~flowsim.dashboard.server` import Solara.
"""
