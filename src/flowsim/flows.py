"""The flow ledger: every flow by channel x origin place x destination place, per step.

Places are the cities, then the external places CN and ROW (:data:`flowsim.geography.PLACES`).

A *channel* is one way an element crosses: talent crosses as a job move, a visit
or a collaboration; capital as a VC round, the private money a guidance fund
mobilises into it, a grant following a collaborator, or a licence fee; data as a
data request; samples as a sample shipment. Each channel belongs to one element
(:data:`CHANNEL_ELEMENT`), so summing channels gives the element's flows.
"""

from __future__ import annotations

import numpy as np

from flowsim.geography import ELEMENTS, PLACES

CHANNELS: tuple[tuple[str, str], ...] = (
    ("talent", "job_move"),
    ("talent", "visit"),
    ("talent", "collaboration"),
    ("capital", "vc_round"),
    ("capital", "guidance_coinvestment"),
    ("capital", "grant"),
    ("capital", "licence_fee"),
    ("data", "data_request"),
    ("samples", "sample_shipment"),
)
"""(element, channel) pairs, in ledger order."""

CHANNEL_NAMES: tuple[str, ...] = tuple(name for _, name in CHANNELS)
"""Channel names in ledger order; a channel's number is its index here."""

CHANNEL_ELEMENT: np.ndarray = np.array([ELEMENTS.index(e) for e, _ in CHANNELS], dtype=np.int64)
"""Element number of each channel."""

N_CELLS = len(CHANNELS) * len(PLACES) * len(PLACES)


def channel(name: str) -> int:
    """Number of a channel by name (``channel("vc_round")``)."""
    try:
        return CHANNEL_NAMES.index(name)
    except ValueError:
        raise KeyError(
            f"unknown channel {name!r}; channels are {', '.join(CHANNEL_NAMES)}"
        ) from None


class FlowLedger:
    """Accumulates this step's flows; :meth:`close_step` returns and resets them.

    Per (channel, origin, destination): approved count, volume (persons, RMB m,
    datasets or shipments), summed delay in days of approved flows, refusals.
    """

    def __init__(self) -> None:
        self.count = np.zeros(N_CELLS)
        self.volume = np.zeros(N_CELLS)
        self.delay_days = np.zeros(N_CELLS)
        self.refused = np.zeros(N_CELLS)

    @staticmethod
    def cell(chan: int, origin: np.ndarray, destination: np.ndarray) -> np.ndarray:
        """Flat cell number of each flow."""
        n = len(PLACES)
        return (
            chan * n * n
            + np.asarray(origin, dtype=np.int64) * n
            + np.asarray(destination, dtype=np.int64)
        )

    def record(
        self,
        chan: int,
        origin: np.ndarray,
        destination: np.ndarray,
        approved: np.ndarray,
        volume: np.ndarray | float = 1.0,
        delay_days: np.ndarray | float = 0.0,
    ) -> None:
        """Add a batch of flows: approved ones to count/volume/delay, the others to refusals."""
        cell = self.cell(chan, origin, destination)
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
        """This step's ledger, shape (4 measures, channels, origins, destinations); then reset."""
        n = len(PLACES)
        out = np.stack([self.count, self.volume, self.delay_days, self.refused]).reshape(
            4, len(CHANNELS), n, n
        )
        for arr in (self.count, self.volume, self.delay_days, self.refused):
            arr[:] = 0.0
        return out
