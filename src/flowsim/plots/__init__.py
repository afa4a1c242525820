"""Figures of flowsim's results, the ones analysts would otherwise draw by hand.

Every function takes DataFrames (or folders) and returns a
:class:`matplotlib.figure.Figure` without touching ``pyplot``'s global state;
save it with ``fig.savefig("name.png")`` or show it in a notebook by leaving it
as a cell's last expression.

- :func:`plot_timeseries`: outputs over time, median and 5-95% band across replicates;
- :func:`plot_comparison`: scenarios' yearly outputs against the reference, with 95% CIs;
- :func:`plot_map`: the 11 cities coloured by a flow measure, arrows for cross-border flows;
- :func:`plot_corridor_heatmap`: corridor x element crossings, mean delays and refusals;
- :func:`plot_sweep_outcomes`: each sweep outcome against each lever;
- :func:`plot_sensitivity`: Sobol or Morris indices as bars with error bars;
- :func:`plot_folder`: every figure that applies to a run or sweep folder, written to files.
"""

from flowsim.plots.bay_map import plot_map
from flowsim.plots.comparison import plot_comparison
from flowsim.plots.corridors import city_pair_volumes, corridor_element_table
from flowsim.plots.files import plot_folder
from flowsim.plots.heatmap import plot_corridor_heatmap
from flowsim.plots.sweep import plot_sensitivity, plot_sweep_outcomes
from flowsim.plots.timeseries import plot_timeseries

__all__ = [
    "city_pair_volumes",
    "corridor_element_table",
    "plot_comparison",
    "plot_corridor_heatmap",
    "plot_folder",
    "plot_map",
    "plot_sensitivity",
    "plot_sweep_outcomes",
    "plot_timeseries",
]
