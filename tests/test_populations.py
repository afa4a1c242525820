"""Populations: the columnar store of agents, and adding counts to its columns."""

from __future__ import annotations

import numpy as np
import pytest

from flowsim.populations import add_counts


def test_add_counts_equals_numpy_add_at_for_integer_columns():
    rng = np.random.default_rng(16)
    for n_rows in (100, 5000):  # below and above the size where one bincount takes over
        rows = rng.integers(0, 300, n_rows)
        counts = rng.integers(0, 9, n_rows)
        want = np.zeros(300, dtype=np.int32)
        np.add.at(want, rows, counts.astype(np.int32))
        got = np.zeros(300, dtype=np.int32)
        add_counts(got, rows, counts)
        assert np.array_equal(got, want), f"{n_rows} rows: counts differ from np.add.at"
        ones = np.zeros(300, dtype=np.int32)
        add_counts(ones, rows)
        assert np.array_equal(ones, np.bincount(rows, minlength=300)), f"{n_rows} rows of 1"
    with pytest.raises(TypeError, match="integer columns"):
        add_counts(np.zeros(3), np.array([0]), 1)
