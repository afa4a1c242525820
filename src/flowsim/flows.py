"""The flow ledger: every flow by element x origin city x destination city, per step."""

from __future__ import annotations

import numpy as np

from flowsim.geography import CITIES, ELEMENTS

N_CELLS = len(ELEMENTS) * len(CITIES) * len(CITIES)


class FlowLedger:
    """Accumulates this step's flows; :meth:`close_step` returns and resets them.

    Per (element, origin, destination): approved count, volume (persons, RMB m,
    datasets or shipments), summed delay in days of approved flows, refusals.
    """

    def __init__(self) -> None:
        self.count = np.zeros(N_CELLS)
        self.volume = np.zeros(N_CELLS)
        self.delay_days = np.zeros(N_CELLS)
        self.refused = np.zeros(N_CELLS)

    @staticmethod
    def cell(element: int, origin: np.ndarray, destination: np.ndarray) -> np.ndarray:
        """Flat cell number of each flow."""
        n = len(CITIES)
        return (
            element * n * n
            + np.asarray(origin, dtype=np.int64) * n
            + np.asarray(destination, dtype=np.int64)
        )

    def record(
        self,
        element: int,
        origin: np.ndarray,
        destination: np.ndarray,
        approved: np.ndarray,
        volume: np.ndarray | float = 1.0,
        delay_days: np.ndarray | float = 0.0,
    ) -> None:
        """Add a batch of flows: approved ones to count/volume/delay, the others to refusals."""
        cell = self.cell(element, origin, destination)
        approved = np.asarray(approved, dtype=bool)
        if cell.size == 0:
            return
        vol = np.broadcast_to(np.asarray(volume, dtype=np.float64), cell.shape)
        dly = np.broadcast_to(np.asarray(delay_days, dtype=np.float64), cell.shape)
        ok = cell[approved]
        self.count += np.bincount(ok, minlength=N_CELLS)
        self.volume += np.bincount(ok, weights=vol[approved], minlength=N_CELLS)
        self.delay_days += np.bincount(ok, weights=dly[approved], minlength=N_CELLS)
        self.refused += np.bincount(cell[~approved], minlength=N_CELLS)

    def close_step(self) -> np.ndarray:
        """This step's ledger, shape (4 measures, elements, origins, destinations); then reset."""
        n = len(CITIES)
        out = np.stack([self.count, self.volume, self.delay_days, self.refused]).reshape(
            4, len(ELEMENTS), n, n
        )
        for arr in (self.count, self.volume, self.delay_days, self.refused):
            arr[:] = 0.0
        return out
