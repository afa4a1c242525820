"""History matching on a calibration's trial log: emulate, rule out, keep what is left.

A wave of trials drawn independently from the free parameters' priors (``flowsim
calibrate`` with ``search.method: abc`` writes exactly that to ``trials.jsonl``) is
too small for plain rejection once several parameters are free: the accepted share
falls as the product of each parameter's share. History matching (Craig et al. 1997;
Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015 for agent-based models)
instead rules *out* the parameter sets that cannot give the targets:

1. **Emulator.** For each calibration target, a quadratic regression of the model
   value (its logarithm when every value is positive) on the free parameters in unit
   coordinates (``0..1`` over the prior; on the log scale for a log-uniform prior).
   Its variance is the residual variance of the fit (replicate noise and what a
   quadratic misses), inflated by ``(1 + leverage)`` at each point.
2. **Implausibility** of a parameter set ``x`` for target ``i``:
   ``I_i(x) = |z_i - m_i(x)| / sqrt(V_obs,i + V_em,i(x))``, with ``z_i`` the real figure
   and ``V_obs,i = (band_i / 2) ** 2`` (a target's band is two standard deviations; on
   the log scale divided by ``z_i``).
3. **Not ruled out yet (NROY)**: the sets whose largest implausibility is at most
   ``cutoff`` (3, Pukelsheim's three-sigma rule for any unimodal distribution).
   :func:`history_match` draws ``candidates`` sets from the priors and keeps those;
   their spread is what the targets leave uncertain.

The emulator is evaluated on the candidates in one matrix product, so a wave of
100,000 candidates costs well under a second; only the wave of trials runs the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from flowsim.calibration.targets import FreeParameter, Target

CUTOFF = 3.0
"""Largest implausibility of a set that is not ruled out (Pukelsheim's 3-sigma rule)."""


def unit_coordinates(values: pd.DataFrame, free: dict[str, FreeParameter]) -> np.ndarray:
    """Free parameters mapped to ``0..1`` over their priors (log scale for ``log: true``)."""
    columns = []
    for name, prior in free.items():
        x = values[name].to_numpy(dtype=np.float64)
        if prior.log:
            low, high, x = np.log(prior.low), np.log(prior.high), np.log(x)
        else:
            low, high = prior.low, prior.high
        columns.append((x - low) / (high - low))
    return np.column_stack(columns)


def from_unit(unit: np.ndarray, free: dict[str, FreeParameter]) -> pd.DataFrame:
    """The inverse of :func:`unit_coordinates`: parameter values of unit coordinates."""
    out = {}
    for k, (name, prior) in enumerate(free.items()):
        u = unit[:, k]
        if prior.log:
            out[name] = np.exp(np.log(prior.low) + u * (np.log(prior.high) - np.log(prior.low)))
        else:
            out[name] = prior.low + u * (prior.high - prior.low)
    return pd.DataFrame(out)


def quadratic_features(unit: np.ndarray, interactions: bool = False) -> np.ndarray:
    """``1``, every coordinate, its square, and (``interactions``) every product of two.

    Without interactions the emulator has ``1 + 2k`` coefficients for ``k`` parameters,
    so a wave of a few times that many noisy trials fits it without chasing noise.
    """
    n, k = unit.shape
    if interactions:
        pairs = [unit[:, i] * unit[:, j] for i in range(k) for j in range(i, k)]
    else:
        pairs = [unit[:, i] ** 2 for i in range(k)]
    return np.column_stack([np.ones(n), unit, *pairs])


@dataclass(frozen=True)
class Emulator:
    """A quadratic emulator of one target's model value.

    Attributes:
        target: the target's id.
        log: whether it emulates the logarithm of the value.
        coef: regression coefficients on :func:`quadratic_features`.
        variance: residual variance of the fit (on the emulated scale).
        gram_inverse: ``(X'X)^-1`` of the design, for the leverage of a new point.
        r2: share of the values' variance the emulator accounts for.
    """

    target: str
    log: bool
    coef: np.ndarray
    variance: float
    gram_inverse: np.ndarray
    r2: float
    interactions: bool = False

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Emulated mean and variance at unit coordinates ``unit`` (rows are sets)."""
        x = quadratic_features(unit, self.interactions)
        leverage = np.sum((x @ self.gram_inverse) * x, axis=1)
        return x @ self.coef, self.variance * (1.0 + leverage)


def fit_emulator(
    target: str, unit: np.ndarray, values: np.ndarray, interactions: bool = False
) -> Emulator:
    """Least-squares quadratic emulator of ``values`` (one per row of ``unit``).

    Raises:
        ValueError: fewer trials with a value than the emulator has coefficients (+5).
    """
    ok = np.isfinite(values)
    x = quadratic_features(unit[ok], interactions)
    if ok.sum() < x.shape[1] + 5:
        raise ValueError(
            f"{target}: {int(ok.sum())} trials with a value, the quadratic emulator of "
            f"{unit.shape[1]} parameters needs at least {x.shape[1] + 5}; raise search.budget"
        )
    log = bool((values[ok] > 0).all())
    y = np.log(values[ok]) if log else values[ok]
    gram_inverse = np.linalg.pinv(x.T @ x)
    coef = gram_inverse @ x.T @ y
    residual = y - x @ coef
    variance = float(residual @ residual / (len(y) - x.shape[1]))
    total = float(((y - y.mean()) ** 2).sum())
    r2 = 1.0 - float(residual @ residual) / total if total > 0 else 0.0
    return Emulator(target, log, coef, variance, gram_inverse, r2, interactions)


@dataclass(frozen=True)
class HistoryMatch:
    """The outcome of one wave of history matching.

    Attributes:
        nroy: the candidate sets not ruled out (one column per free parameter).
        share: the share of the candidates not ruled out (of the prior's volume).
        emulators: the emulator of each calibration target, by id.
        candidates: how many sets were drawn from the priors.
    """

    nroy: pd.DataFrame
    share: float
    emulators: dict[str, Emulator]
    candidates: int

    def intervals(self, free: dict[str, FreeParameter], level: float = 0.95) -> pd.DataFrame:
        """Central ``level`` interval of each parameter over the NROY sets, against its prior.

        Columns: ``parameter``, ``low``, ``high``, ``prior_low``, ``prior_high`` and
        ``narrowing``, the prior's width over the interval's (on the log scale for a
        log-uniform prior): 1 means the targets say nothing about the parameter.
        """
        tail = (1.0 - level) / 2.0
        rows = []
        for name, prior in free.items():
            low, high = np.quantile(self.nroy[name], [tail, 1.0 - tail])
            if prior.log:
                width = np.log(high) - np.log(low)
                prior_width = np.log(prior.high) - np.log(prior.low)
            else:
                width, prior_width = high - low, prior.high - prior.low
            rows.append(
                {
                    "parameter": name,
                    "low": float(low),
                    "high": float(high),
                    "prior_low": prior.low,
                    "prior_high": prior.high,
                    "narrowing": float(prior_width / width) if width > 0 else float("inf"),
                }
            )
        return pd.DataFrame(rows)


def implausibility(
    emulators: dict[str, Emulator], targets: list[Target], unit: np.ndarray
) -> np.ndarray:
    """Implausibility of each set (rows of ``unit``) for each target (columns)."""
    out = np.empty((unit.shape[0], len(targets)))
    for j, t in enumerate(targets):
        em = emulators[t.id]
        mean, var = em.predict(unit)
        sd_obs = t.band / 2.0
        if em.log:
            if t.value <= 0:
                raise ValueError(f"{t.id}: a real value of {t.value} has no logarithm")
            z, v_obs = np.log(t.value), (sd_obs / abs(t.value)) ** 2
        else:
            z, v_obs = t.value, sd_obs**2
        out[:, j] = np.abs(z - mean) / np.sqrt(v_obs + var)
    return out


def history_match(
    trials: list[dict[str, Any]],
    targets: list[Target],
    free: dict[str, FreeParameter],
    *,
    candidates: int = 100_000,
    cutoff: float = CUTOFF,
    seed: int = 0,
    interactions: bool = False,
    within: HistoryMatch | None = None,
) -> HistoryMatch:
    """One wave: emulate each calibration target from ``trials``, keep the NROY sets.

    Args:
        trials: logged trials (``params`` and per-replicate ``values``), e.g. from
            :func:`flowsim.calibration.fit.read_log` of an ABC calibration.
        targets: the calibration targets (validation targets must not be passed).
        free: the free parameters' priors (the targets file's ``free:``).
        candidates: sets drawn from the priors and judged by the emulators.
        cutoff: largest implausibility of a set that is kept.
        seed: seed of the candidate draws.
        interactions: emulate with every product of two parameters (needs more trials).
        within: an earlier wave: its NROY sets are the candidates (a refocused wave, whose
            trials should be drawn from that wave's NROY sets), and ``candidates`` is ignored.

    Raises:
        ValueError: too few trials for the emulators, or a validation target passed.
    """
    if any(t.role != "calibration" for t in targets):
        raise ValueError("history matching uses calibration targets only")
    from flowsim.calibration.fit import trial_means

    params = pd.DataFrame([t["params"] for t in trials])
    means = pd.DataFrame([trial_means(t) for t in trials])
    unit = unit_coordinates(params, free)
    emulators = {
        t.id: fit_emulator(t.id, unit, means[t.id].to_numpy(dtype=np.float64), interactions)
        for t in targets
    }
    if within is None:
        draws = np.random.default_rng(seed).uniform(size=(candidates, len(free)))
        share = 1.0
    else:
        draws = unit_coordinates(within.nroy, free)
        share = within.share
    worst = implausibility(emulators, targets, draws).max(axis=1)
    kept = draws[worst <= cutoff]
    return HistoryMatch(
        from_unit(kept, free), share * len(kept) / max(len(draws), 1), emulators, len(draws)
    )


__all__ = [
    "CUTOFF",
    "Emulator",
    "HistoryMatch",
    "fit_emulator",
    "from_unit",
    "history_match",
    "implausibility",
    "quadratic_features",
    "unit_coordinates",
]
