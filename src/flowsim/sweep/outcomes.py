"""What an *outcome* of a sweep run is: one number per output, a yearly mean over the run.

Every outcome is expressed per year, in real-world units, so that runs of different
lengths and scales compare:

- a **counter** (papers, vc_deals, researcher_moves_cross_border, ...; see
  :data:`flowsim.outputs.COUNTERS`) is its total over the recorded months times
  12 / months: the mean number per year;
- a **gauge** (researchers, capital_held, ...; :data:`~flowsim.outputs.GAUGES`) is the
  mean of its values at the end of each simulated year (the last recorded month of a
  trailing partial year);
- a **share** (``cross_border_collaboration_share``) and a **yearly share**
  (``world_share_pct``, ``world_share_papers``, ``world_share_vc_deals``,
  ``gii_cluster_score``; :data:`~flowsim.outputs.YEARLY_SHARES`) is the mean of its
  yearly values, each year weighted by the months it has.

Warm-up months are never included.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from flowsim.outputs import COUNTERS, GAUGES

_COUNTERS = frozenset(COUNTERS)
_GAUGES = frozenset(GAUGES)


def summarise(
    timeseries: pd.DataFrame, yearly: pd.DataFrame, names: list[str] | tuple[str, ...]
) -> dict[str, float]:
    """The outcomes ``names`` of one run, from its monthly time series and yearly table."""
    months = len(timeseries)
    weights = yearly["months"].to_numpy(dtype=np.float64)
    out: dict[str, float] = {}
    for name in names:
        if name in _COUNTERS:
            out[name] = float(timeseries[name].sum() * 12.0 / months) if months else float("nan")
        elif name in _GAUGES:
            out[name] = float(yearly[name].mean())
        else:
            out[name] = float(np.average(yearly[name].to_numpy(dtype=np.float64), weights=weights))
    return out


def long_timeseries(
    timeseries: pd.DataFrame, names: list[str] | tuple[str, ...] | None
) -> pd.DataFrame:
    """A run's monthly outputs in long format: ``step``, ``year``, ``variable``, ``value``.

    Args:
        timeseries: the run's wide monthly table (:attr:`flowsim.run.RunResult.timeseries`).
        names: the outputs to keep (those that are not monthly, like the yearly shares,
            are skipped); None keeps every output.
    """
    columns = [c for c in timeseries.columns if c not in ("step", "year")]
    if names is not None:
        wanted = set(names)
        columns = [c for c in columns if c in wanted]
    long = timeseries.melt(
        id_vars=["step", "year"], value_vars=columns, var_name="variable", value_name="value"
    )
    return long.astype({"step": np.int32, "year": np.int32, "variable": str, "value": np.float64})


__all__ = ["long_timeseries", "summarise"]
