"""FlowModel in Mesa's own SolaraViz: ``solara run examples/solara_viz/app.py``.

The page Mesa users know: Step, Play and Reset, a plot of the DataCollector's model
reporters, and the model parameters as sliders. The sliders are read from
:mod:`flowsim.params` (each lever's allowed range, unit and default), and their
keys are the dotted paths ``FlowModel(**kwargs)`` accepts, so any lever can be added
here by its path. For the analyst's dashboard (scenarios, replicates, the baseline,
maps) use ``flowsim dashboard`` instead.

Works with Mesa 3.3 (Python 3.11) and Mesa 3.5 (Python 3.12+): install with
``pip install -e '.[dashboard]'``.
"""

from __future__ import annotations

from pathlib import Path

import solara.server.settings
from mesa.visualization import Slider, SolaraViz, make_plot_component

from flowsim.dashboard.levers import levers, slider_range
from flowsim.model import FlowModel

SHOWN = (
    "scale",
    "policy.corridors.GD-HK.data.approval",
    "policy.corridors.GD-HK.samples.delay_days",
    "policy.corridors.GD-HK.talent.approval",
    "research.grant_portability",
    "transfer.researcher_ownership",
)
"""Levers shown as sliders (any dotted path of :mod:`flowsim.params` works)."""

START = {"scale": 0.002, "steps": 24, "warmup_steps": 12}
"""A small, quick model to start with: 0.2% of the real agents, 2 years, 1 year of warm-up."""


def model_params() -> dict:
    """SolaraViz controls: a slider per lever in :data:`SHOWN`, fixed values for the rest."""
    by_path = {lever.path: lever for lever in levers()}
    params: dict = {key: value for key, value in START.items() if key not in SHOWN}
    for path in SHOWN:
        lever = by_path[path]
        low, high = slider_range(lever)
        if path == "scale":
            low, high = 0.001, 0.05  # larger scales are slow in a live page
        value = START.get(path, lever.default)
        unit = f" [{lever.unit}]" if lever.unit else ""
        step = 1 if lever.kind == "int" else (high - low) / 100
        params[path] = Slider(f"{path}{unit}", value, low, high, step)
    return params


# assets/custom.css (long slider labels wrap above the slider instead of squeezing it):
# Solara serves static/assets/custom.css from the folder *above* a script app, so name ours
ASSETS = str(Path(__file__).resolve().parent / "assets")
if ASSETS not in solara.server.settings.assets.extra_locations:
    solara.server.settings.assets.extra_locations.insert(0, ASSETS)

model = FlowModel(**START)
page = SolaraViz(
    model,
    components=[
        make_plot_component(["papers", "invention_patents", "pct_applications"]),
        make_plot_component(["data_transfers_cross_border", "samples_shipments_cross_border"]),
    ],
    model_params=model_params(),
    name="flowsim FlowModel (Mesa SolaraViz)",
)
