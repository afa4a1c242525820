"""Random streams: one independent numpy Generator per mechanism, all from one seed.

Each mechanism draws only from its own stream, seeded from the run's seed and the
mechanism's name. A lever that changes how many draws one mechanism makes leaves
every other mechanism's draws untouched (common random numbers), so two scenarios
run with the same seed differ only where a lever acts.
"""

from __future__ import annotations

import zlib

import numpy as np

MECHANISMS: tuple[str, ...] = (
    "population",
    "talent",
    "research",
    "data",
    "samples",
    "transfer",
    "capital",
    "commercialization",
    "quota",
    "relocation",
    "data_category",
    "samples_kind",
    "phase_in",
    "growth",
    "exchange",
    "filing",
)
"""Names of the streams a model uses; each is one mechanism."""


def stream(seed: int, name: str, month: int | None = None) -> np.random.Generator:
    """The Generator for mechanism ``name`` in a run with root ``seed`` (in ``month``).

    The stream depends only on (seed, name) — or (seed, name, month) for a month's
    stream: the key is a CRC-32 of the name, so it does not depend on the order in
    which streams are created, and a month's draws do not depend on how many draws the
    mechanism made in earlier months. ``month`` counts simulated months from the start
    of the warm-up (0); the agents are drawn from the month-less streams.
    """
    key = zlib.crc32(name.encode("utf-8"))
    spawn = (key,) if month is None else (key, int(month))
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=spawn)))


def make_streams(
    seed: int, names: tuple[str, ...] = MECHANISMS, month: int | None = None
) -> dict[str, np.random.Generator]:
    """One Generator per mechanism name (for ``month``, if given)."""
    return {name: stream(seed, name, month) for name in names}


def replicate_seeds(root_seed: int, n: int) -> list[int]:
    """``n`` replicate seeds spawned from a root seed (replicate 0 uses the root seed itself).

    Replicate k's seed depends only on the root seed and k, never on how many
    replicates are asked for or in which order they run.
    """
    children = np.random.SeedSequence(int(root_seed)).spawn(max(n - 1, 0))
    return [int(root_seed)] + [
        int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children
    ]


def stochastic_round(values: np.ndarray | float, rng: np.random.Generator) -> np.ndarray:
    """Round to integers up or down at random so that the expectation is unchanged."""
    values = np.asarray(values, dtype=np.float64)
    floor = np.floor(values)
    return (floor + (rng.random(values.shape) < (values - floor))).astype(np.int64)


def bernoulli_rows(n: int, prob: float, rng: np.random.Generator) -> np.ndarray:
    """Rows of ``range(n)`` each chosen independently with probability ``prob``, ascending.

    The gaps between chosen rows are geometric, so the cost is O(n x prob) draws
    instead of one draw per row: drawing the 3% of a million researchers who
    travel this month touches 30,000 numbers, not a million.
    """
    if n <= 0 or prob <= 0.0:
        return np.zeros(0, dtype=np.int64)
    if prob >= 1.0:
        return np.arange(n, dtype=np.int64)
    expected = n * prob
    chunk = int(expected + 6.0 * np.sqrt(expected) + 16)
    parts = [np.cumsum(rng.geometric(prob, chunk)) - 1]
    # rarely, the first chunk ends before row n: keep drawing from where it stopped
    while parts[-1][-1] < n:
        parts.append(parts[-1][-1] + np.cumsum(rng.geometric(prob, chunk)))
    rows = np.concatenate(parts) if len(parts) > 1 else parts[0]
    return rows[rows < n]


def lognormal(mean: float, sigma: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """Lognormal draws with the given mean (not median)."""
    return mean * np.exp(sigma * rng.standard_normal(size) - 0.5 * sigma**2)
