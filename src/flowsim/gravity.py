"""Gravity: the pull of destinations by mass, travel time and border (a shared tool).

Mechanisms draw destinations (job moves, visits, partners, investors, input
sources) from these matrices; :func:`choose_capital_city` draws the counterpart city
of a capital flow from a world's investors. This module imports no mechanism.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from flowsim.geography import CITIES
from flowsim.pools import choose_rows

if TYPE_CHECKING:
    from flowsim.world import World


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


def choose_capital_city(
    world: World, origin: np.ndarray, zone: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """City of the counterpart of a capital flow, by gravity on investors' dry powder.

    Used by firms looking for investors and labs looking for licensees.
    """
    p = world.params
    held = np.bincount(
        world.investors.city, weights=np.maximum(world.investors.held, 0.0), minlength=len(CITIES)
    )
    base = gravity(
        held, world.geo.travel_minutes, p.capital.distance_decay_minutes, world.capital_border
    )
    base = base * (1.0 + p.capital.home_bias * np.eye(len(CITIES)))[None]
    slots, n, _ = base.shape
    rows = (np.asarray(zone, dtype=np.int64) + 1) * n + np.asarray(origin, dtype=np.int64)
    return choose_rows(base.reshape(slots * n, n), rows, rng)
