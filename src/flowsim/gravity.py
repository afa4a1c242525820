"""Gravity: the pull of destinations by mass, travel time and border (a shared tool).

Mechanisms draw destinations (job moves, visits, partners, investors, input
sources) from these matrices; this module imports no mechanism.
"""

from __future__ import annotations

import numpy as np

from flowsim.pools import choose_rows


def gravity(
    mass: np.ndarray, travel_minutes: np.ndarray, decay_minutes: float, border: np.ndarray
) -> np.ndarray:
    """Pull of each destination per (zone slot, origin): mass x exp(-time/decay) x border weight."""
    return mass[None, None, :] * np.exp(-travel_minutes / decay_minutes)[None, :, :] * border


def balanced_mass(share: np.ndarray, kernel: np.ndarray, iterations: int = 500) -> np.ndarray:
    """Pull of each city such that moves keep the cities' shares in expectation (pure core).

    With move probabilities ``P[o, d] ~ m[d] K[o, d]`` and a symmetric kernel ``K``,
    the stationary distribution is proportional to ``m[o] * sum_d m[d] K[o, d]``;
    this solves for the ``m`` that makes it equal to ``share``. flowsim uses it once,
    under the *baseline* friction, as each city's amenity: the baseline keeps its
    shares, and a policy or a change in opportunity moves researchers.
    """
    share = np.asarray(share, dtype=np.float64)
    m = share.copy()
    for _ in range(iterations):
        m = share / np.maximum(kernel @ m, 1e-300)
        m /= m.sum()
    return m


def choose_destinations(
    origin: np.ndarray, zone: np.ndarray, weights: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Destination city for each traveller (pure core).

    Args:
        origin: origin city of each traveller.
        zone: zone number of each traveller (-1 none).
        weights: pull, shape (zone slots, origin, destination).
        rng: the mechanism's Generator.
    """
    slots, n, _ = weights.shape
    rows = (np.asarray(zone, dtype=np.int64) + 1) * n + np.asarray(origin, dtype=np.int64)
    return choose_rows(weights.reshape(slots * n, n), rows, rng)


def manufacturing_access(
    capacity: np.ndarray, travel_minutes: np.ndarray, border: np.ndarray
) -> np.ndarray:
    """Access of each (zone slot, city) to manufacturing (pure core), in [0, 1].

    ``border`` is the talent border weight, shape (zone slots, origin, destination):
    engineers must be where the factory is.
    """
    own = np.diag(travel_minutes)
    reach = np.exp(-np.maximum(travel_minutes - own[:, None], 0.0) / 120.0)
    return np.clip((capacity[None, None, :] * reach[None] * border).max(axis=2), 0.0, 1.0)
