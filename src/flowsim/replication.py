"""How many replicates a comparison needs: the minimum detectable effect and a stopping rule.

A comparison of two scenarios run on the same replicate seeds is a *paired design*:
replicate k of the policy is compared with replicate k of the reference, and the
noise that matters is the standard deviation ``sd`` of the paired differences.

**Minimum detectable effect (MDE).** With ``n`` pairs, the smallest true effect that
a two-sided paired t-test at level ``alpha`` (0.05) detects with probability
``power`` (0.80). It is found exactly from the noncentral t distribution: the
effect ``delta`` solves ``P(|T| > t(1 - alpha/2, n - 1)) = power`` for
``T ~ t(n - 1, noncentrality = delta * sqrt(n) / sd)``. For large ``n`` it tends to
the familiar ``(z(0.975) + z(0.80)) * sd / sqrt(n) = 2.80 * sd / sqrt(n)``; at
small ``n`` it is much larger (n = 3: 5.7 sd / sqrt(3)), because the noise itself
is then poorly known. An effect below the MDE may well exist: "not significant"
at a large MDE says little.

**Half-width.** The 95% confidence interval of the mean paired difference has the
half-width ``t(0.975, n - 1) * sd / sqrt(n)``; :func:`replicates_for_halfwidth`
inverts it to say how many pairs a target half-width needs, which is what
``flowsim compare --until`` uses to decide how many replicates to add.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

ALPHA = 0.05
"""Two-sided significance level of the tests the MDE refers to."""

POWER = 0.80
"""Probability of detecting an effect of the size of the MDE."""

CONFIDENCE = 0.95
"""Level of the confidence intervals whose half-width ``--until`` targets."""

DEFAULT_REPLICATES = 8
"""Replicates a comparison starts from: ``flowsim run --replications``, the dashboard, notebooks.

Why 8: at the default scale 0.1 over 10 years, the paired difference of a policy's
(data sandbox's) papers per year from the baseline's has a standard deviation of
2.1% of the baseline mean (measured with 6 replicates of each by
``benchmarks/compare_replicates.py``). The minimum detectable effect (80% power,
alpha 0.05, paired t) is then 6.9% at 3 replicates (the old dashboard default: a
policy's effect of a few percent looked like nothing), 2.4% at 8, 1.6% at 16; for
start-ups and commercialized projects about the same, for PCT applications 6.7% at
8 (sd 5.8%). 8 is the smallest count at which the MDE on papers is a few percent;
twice the precision costs four times the runs (``flowsim compare --until``).
"""


def _power(delta: float, sd: float, n: int, alpha: float) -> float:
    """Power of the two-sided paired t-test for a true mean difference ``delta``."""
    from scipy import stats

    df = n - 1
    crit = stats.t.ppf(1.0 - alpha / 2.0, df)
    nc = delta * math.sqrt(n) / sd
    lower = stats.nct.cdf(-crit, df, nc)  # the wrong-sign tail: negligible, NaN where it underflows
    return float(stats.nct.sf(crit, df, nc) + (0.0 if math.isnan(lower) else lower))


def minimum_detectable_effect(
    sd: float, n: int, *, alpha: float = ALPHA, power: float = POWER
) -> float:
    """The smallest true mean difference a paired t-test detects with this power.

    Args:
        sd: standard deviation of the paired differences (policy minus reference, one
            per replicate seed), in the output's unit.
        n: the number of pairs (replicates of each scenario).
        alpha: two-sided significance level.
        power: the probability of detecting it.

    Returns:
        The MDE in the output's unit; NaN for fewer than 2 pairs or an unknown ``sd``,
        0 when ``sd`` is 0 (any difference is exact).
    """
    from scipy import optimize

    if n < 2 or not math.isfinite(sd) or sd < 0:
        return float("nan")
    if sd == 0.0:
        return 0.0
    high = sd
    while _power(high, sd, n, alpha) < power:
        high *= 2.0
    return float(optimize.brentq(lambda d: _power(d, sd, n, alpha) - power, 0.0, high))


def halfwidth(sd: float, n: int, confidence: float = CONFIDENCE) -> float:
    """Half-width of the t confidence interval of a mean of ``n`` paired differences."""
    from scipy import stats

    if n < 2 or not math.isfinite(sd):
        return float("nan")
    return float(stats.t.ppf(0.5 + confidence / 2.0, n - 1) * sd / math.sqrt(n))


def replicates_for_halfwidth(
    sd: float, target: float, *, confidence: float = CONFIDENCE, cap: int = 10_000
) -> int:
    """The fewest pairs whose interval half-width is at most ``target`` (``cap`` at most).

    ``sd`` is taken as known (the estimate from the replicates so far); the t quantile
    follows ``n``, so the answer is exact for that ``sd``.
    """
    from scipy import stats

    if target <= 0 or not math.isfinite(sd):
        return cap
    if sd == 0.0:
        return 2
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    n = max(2, math.ceil((z * sd / target) ** 2))  # the normal-theory answer, a lower bound
    while n < cap and halfwidth(sd, n, confidence) > target:
        n += 1
    return min(n, cap)


@dataclass(frozen=True)
class Target:
    """A half-width to reach: relative (a fraction of the reference mean) or absolute.

    Attributes:
        value: the half-width; a fraction (0.02) when ``relative``, else in the output's unit.
        relative: whether ``value`` is a fraction of the reference's mean.
    """

    value: float
    relative: bool

    def absolute(self, reference_mean: float) -> float:
        """The target in the output's unit, for a reference of this mean."""
        return self.value * abs(reference_mean) if self.relative else self.value

    def __str__(self) -> str:
        if self.relative:
            return f"{100.0 * self.value:g}% of the reference mean"
        return f"{self.value:g} (output units)"


def parse_target(text: str) -> Target:
    """Read ``--until``: ``2%`` (relative to the reference mean) or ``150`` (output units).

    Raises:
        ValueError: not a positive number, optionally followed by ``%``.
    """
    raw = text.strip()
    relative = raw.endswith("%")
    number = raw[:-1] if relative else raw
    try:
        value = float(number)
    except ValueError:
        raise ValueError(
            f"--until {text!r} is not a half-width: give a percentage of the reference "
            "mean (e.g. 2%) or a number in the outputs' units (e.g. 150)"
        ) from None
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"--until {text!r}: the half-width must be a positive number")
    return Target(value / 100.0 if relative else value, relative)


def replicates_for_mde(sd: float, target: float, *, cap: int = 1000) -> int:
    """The fewest pairs whose MDE is at most ``target`` (``cap`` at most)."""
    from scipy import stats

    if not math.isfinite(sd) or not math.isfinite(target) or target <= 0:
        return cap
    if sd == 0.0:
        return 2
    z = stats.norm.ppf(1.0 - ALPHA / 2.0) + stats.norm.ppf(POWER)
    n = max(2, math.ceil((z * sd / target) ** 2))  # the normal-theory answer, a lower bound
    while n < cap and minimum_detectable_effect(sd, n) > target:
        n += 1
    return min(n, cap)
