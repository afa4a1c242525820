"""Trend of a quantity over the reported years, from several replicates (a shared tool).

Used to check that the baseline is stationary (issue 10: every stock within +-5% over
the ten reported years): ``benchmarks/stationarity.py`` and ``tests/test_stationarity.py``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def drift(values: np.ndarray) -> tuple[float, float, float]:
    """Change from the first to the last year implied by a log-linear trend, with its 95% CI.

    ``values`` is (replicates, years) of positive yearly values. One slope is fitted to
    every replicate, each with its own intercept (least squares on the logs), so the
    trend uses every year and one lumpy year does not decide it the way a first-vs-last
    comparison would. Returns (change, low, high) as fractions; NaN where a value is not
    positive or there are too few values to estimate the noise.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or (values <= 0).any():
        return (np.nan, np.nan, np.nan)
    reps, years = values.shape
    dof = reps * years - reps - 1
    if years < 3 or dof < 1:
        return (np.nan, np.nan, np.nan)
    logs = np.log(values)
    t = np.arange(years, dtype=np.float64) - (years - 1) / 2.0
    centred = logs - logs.mean(axis=1, keepdims=True)
    sxx = reps * float((t**2).sum())
    slope = float((centred * t).sum() / sxx)
    resid = centred - slope * t[None, :]
    se = float(np.sqrt((resid**2).sum() / dof / sxx))
    half = float(stats.t.ppf(0.975, dof)) * se
    span = years - 1
    return tuple(float(np.expm1(s * span)) for s in (slope, slope - half, slope + half))
