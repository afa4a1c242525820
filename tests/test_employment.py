"""Employment: who employs a researcher (the shared tool of talent, capital and set-up)."""

from __future__ import annotations

import numpy as np

from flowsim.employment import FIRM, LAB, orphan_rows


def test_orphans_are_the_researchers_here_of_the_marked_firms():
    staffed = np.array([False, True, False, True])  # firms 1 and 3 failed with staff
    employer = np.array([1, 1, 3, 0, 3, 1, 2], dtype=np.int32)
    kind = np.array([FIRM, LAB, FIRM, FIRM, FIRM, FIRM, FIRM], dtype=np.int8)
    away = np.array([4])  # left the region: employed by nobody here
    got = orphan_rows(staffed, employer, kind, away)
    assert got.tolist() == [0, 2, 5], (
        f"rows at firms 1 and 3 (not lab 1, not the row away), got {got.tolist()}"
    )
    none_away = orphan_rows(staffed, employer, kind, np.zeros(0, dtype=np.int64))
    assert none_away.tolist() == [0, 2, 4, 5], "with nobody away, every firm-employed row"
