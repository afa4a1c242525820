"""Knowledge stocks per city x field: accumulation, depreciation, spillovers (a shared tool).

A city's stock ``K[c, f]`` grows with the papers and inventions made there (in
knowledge units: one paper or invention of unit quality) and with what arrives
through links (a collaboration's output enters the partner's city at
``knowledge.link_transfer``; so does a licensed invention at the licensee's),
and depreciates at ``knowledge.depreciation_per_year``. The knowledge a city can
draw on is ``A = W @ K``: its own stock plus other cities' stocks weighted by
``W[c, d] = outside_city x 2^(-distance / halving_km)`` (Keller 2002), times
``outside_jurisdiction`` across a border. Research productivity in (c, f) is
``(A / A_start) ** elasticity``, so a policy that raises output or links compounds.
This module imports no mechanism.
"""

from __future__ import annotations

import numpy as np


def spillover_weights(
    distance_km: np.ndarray,
    jurisdiction: np.ndarray,
    halving_km: float,
    outside_city: float,
    outside_jurisdiction: float,
) -> np.ndarray:
    """``W[c, d]``: weight of city d's knowledge for a learner in city c (pure core)."""
    w = outside_city * np.power(2.0, -np.asarray(distance_km) / halving_km)
    border = jurisdiction[:, None] != jurisdiction[None, :]
    w = np.where(border, w * outside_jurisdiction, w)
    np.fill_diagonal(w, 1.0)
    return w


def learned_outside(
    weights: np.ndarray, stock: np.ndarray, jurisdiction: np.ndarray
) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Shares of accessible knowledge that lie outside the learner's city and jurisdiction.

    Returns the two region-wide shares (each city x field weighted by its own stock,
    i.e. the share for the average unit of knowledge in use) and the per-city shares.
    """
    stock = np.asarray(stock, dtype=np.float64)
    access = weights @ stock
    border = jurisdiction[:, None] != jurisdiction[None, :]
    across = np.where(border, weights, 0.0) @ stock
    outside = access - stock
    total = stock.sum()
    safe = np.where(access > 0, access, 1.0)
    city_share = (outside / safe * stock).sum() / total if total > 0 else 0.0
    jur_share = (across / safe * stock).sum() / total if total > 0 else 0.0
    per_city_out = outside.sum(axis=1) / np.maximum(access.sum(axis=1), 1e-300)
    per_city_jur = across.sum(axis=1) / np.maximum(access.sum(axis=1), 1e-300)
    return float(city_share), float(jur_share), per_city_out, per_city_jur


def settled_stock(
    inflow: np.ndarray,
    made_at: np.ndarray,
    keep: float,
    weights: np.ndarray,
    reference: np.ndarray,
    elasticity: float,
    iterations: int = 30,
) -> np.ndarray:
    """Fixed point of ``K = inflow x P(K) / made_at / (1 - keep)`` (pure core).

    ``P(K) = (W @ K / reference) ** elasticity`` is the productivity a stock gives and
    ``made_at`` the productivity the inflow was made at. With elasticity below 1 the map
    is a contraction (each iteration shrinks the error by about ``elasticity``).
    """
    base = np.asarray(inflow, dtype=np.float64) / (1.0 - keep)
    safe = np.where(made_at > 0, made_at, 1.0)
    stock = base.copy()
    for _ in range(iterations):
        access = np.maximum(weights @ stock, 1e-300)
        stock = base * (access / reference) ** elasticity / safe
    return stock


class KnowledgeStock:
    """The stocks of one run, their spillover weights and the productivity they give."""

    def __init__(
        self,
        initial: np.ndarray,
        weights: np.ndarray,
        depreciation_per_year: float,
        elasticity: float,
    ):
        self.stock = np.asarray(initial, dtype=np.float64).copy()
        self.weights = weights
        self.keep = (1.0 - depreciation_per_year) ** (1.0 / 12.0)
        self.elasticity = float(elasticity)
        self.reference = np.maximum(self.accessible(), 1e-12)
        self.inflow = np.zeros_like(self.stock)
        self.recent: list[np.ndarray] = []
        self.months = 0
        # a productivity path to replay instead of this run's (flowsim explain holds knowledge)
        self.path: list[np.ndarray] = []
        self.history: dict[int, np.ndarray] = {}

    def settle(self, iterations: int = 30) -> None:
        """Set each stock to the fixed point of its steady state and its productivity.

        Called once during the warm-up: the research pipeline starts empty, so stocks
        would otherwise spend years recovering from the warm-up's first months. The last
        12 months' inflow ``q`` was made at their mean productivity ``P0``; output scales
        with productivity, so a stock K takes in ``q x P(K) / P0`` a month and its steady
        state solves ``K = q x P(K) / P0 / (1 - keep)`` (:func:`settled_stock`). Setting K
        to ``q / (1 - keep)`` alone would raise productivity and so the inflow again, and the
        stock would keep drifting up for years. The productivity reference stays the
        initial one, which does not depend on policy, so a policy's warm-up output shows in
        its knowledge at step 0.
        """
        if not self.recent:
            return
        monthly = np.mean(self.recent, axis=0)
        past = [
            self.history[m]
            for m in range(self.months - len(self.recent), self.months)
            if m in self.history
        ]
        # a replayed path (flowsim explain) settles like the run it came from, so a run that
        # replays its own path keeps its own stocks (and the job-move opportunity they give)
        made_at = np.mean(past, axis=0) if past else np.ones_like(monthly)
        if self.elasticity == 0.0:
            self.stock = monthly / (1.0 - self.keep)
        else:
            self.stock = settled_stock(
                monthly,
                made_at,
                self.keep,
                self.weights,
                self.reference,
                self.elasticity,
                iterations,
            )
        self.history.pop(self.months, None)

    def accessible(self) -> np.ndarray:
        """``A = W @ K``, shape (cities, fields)."""
        return self.weights @ self.stock

    def add(self, city: np.ndarray, field: np.ndarray, amount: np.ndarray | float) -> None:
        """Add knowledge this month (applied, with depreciation, by :meth:`end_month`)."""
        np.add.at(self.inflow, (np.asarray(city, np.int64), np.asarray(field, np.int64)), amount)

    def end_month(self) -> None:
        """Depreciate the stocks and add this month's inflow."""
        self.stock *= self.keep
        self.stock += self.inflow
        self.recent.append(self.inflow.copy())
        del self.recent[:-12]
        self.inflow[:] = 0.0
        self.months += 1

    def productivity(self) -> np.ndarray:
        """Research productivity per (city, field), 1 at the start."""
        if self.path:
            value = self.path[min(self.months, len(self.path) - 1)]
            self.history[self.months] = value
            return value
        if self.months in self.history:
            return self.history[self.months]
        if self.elasticity == 0.0:
            value = np.ones_like(self.stock)
        else:
            value = (self.accessible() / self.reference) ** self.elasticity
        self.history[self.months] = value
        return value

    def density(self, researchers: np.ndarray) -> np.ndarray:
        """Knowledge per researcher of each (city, field), relative to the field's mean."""
        per = self.stock / np.maximum(researchers, 1.0)
        mean = self.stock.sum(axis=0) / np.maximum(researchers.sum(axis=0), 1.0)
        return per / np.where(mean > 0, mean, 1.0)[None, :]
