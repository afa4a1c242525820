"""Append-only result store of a sweep: Parquet parts written as runs finish.

Results are buffered and written in parts (``parts/timeseries-000007.parquet``
then ``parts/runs-000007.parquet``), each file written under a temporary name and
renamed into place, so a part is either whole or absent. The runs part is written
last and is the record that its runs are done: a timeseries part without its runs
part (the process died between the two writes) is deleted when the store is
reopened. Resuming reads the run ids of the runs parts and submits only the rest,
so no run is done twice and none is lost. At the end the parts are consolidated
into ``runs.parquet`` (sorted by run id) and ``timeseries.parquet`` (streamed part
by part, never all in memory) and removed.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

ID_COLUMNS: tuple[str, ...] = ("run_id", "point_id", "replicate", "seed")
"""Columns of ``runs.parquet`` before the factors, outcomes and ``error``."""

TIMESERIES_SCHEMA = pa.schema(
    [
        ("run_id", pa.int64()),
        ("step", pa.int32()),
        ("year", pa.int32()),
        ("variable", pa.string()),
        ("value", pa.float64()),
    ]
)
"""Columns of ``timeseries.parquet`` (long format: one row per run, month and output)."""


class DamagedPartError(ValueError):
    """A Parquet part of an unfinished sweep cannot be read; the message names it."""


_PART = re.compile(r"^(runs|timeseries)-(\d{6})\.parquet$")


def runs_schema(factors: pd.DataFrame, outcomes: list[str] | tuple[str, ...]) -> pa.Schema:
    """The schema of every runs part: ids, factor values (typed as in the design), outcomes."""
    fields = [pa.field(name, pa.int64()) for name in ID_COLUMNS]
    for name in factors.columns:
        column = factors[name]
        if column.dtype == object or pd.api.types.is_string_dtype(column):
            kinds = {type(v) for v in column if v is not None}
            kind = pa.string() if kinds <= {str} else pa.float64()
        else:
            kind = pa.from_numpy_dtype(column.dtype)
        fields.append(pa.field(name, kind))
    fields += [pa.field(name, pa.float64()) for name in outcomes]
    fields.append(pa.field("error", pa.string()))
    return pa.schema(fields)


def _write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:  # a full disk leaves no half-written temporary file
        tmp.unlink(missing_ok=True)


class SweepStore:
    """The result folder of one sweep, seen as a growing set of finished runs.

    Args:
        folder: the sweep's output folder (created if missing).
        schema: the runs schema (:func:`runs_schema`).
        batch_size: runs buffered before a part is written.
        flush_seconds: a part is also written when this long has passed since the last.
    """

    def __init__(
        self,
        folder: str | Path,
        schema: pa.Schema,
        batch_size: int = 50,
        flush_seconds: float = 5.0,
    ):
        self.folder = Path(folder)
        self.parts = self.folder / "parts"
        self.parts.mkdir(parents=True, exist_ok=True)
        self.schema = schema
        self.batch_size = max(1, int(batch_size))
        self.flush_seconds = flush_seconds
        self._buffer: list[dict[str, Any]] = []
        self._last_flush = time.monotonic()
        self._clean()
        self._next_part = max(self._part_numbers("runs"), default=0) + 1

    # ------------------------------------------------------------------ reading
    def _part_numbers(self, kind: str) -> list[int]:
        numbers = []
        for path in self.parts.iterdir():
            match = _PART.match(path.name)
            if match and match.group(1) == kind:
                numbers.append(int(match.group(2)))
        return sorted(numbers)

    def _path(self, kind: str, number: int) -> Path:
        return self.parts / f"{kind}-{number:06d}.parquet"

    def _clean(self) -> None:
        """Remove what an interrupted write left: temporary files, timeseries parts without runs."""
        for path in self.parts.glob("*.tmp"):
            path.unlink()
        committed = set(self._part_numbers("runs"))
        for number in self._part_numbers("timeseries"):
            if number not in committed:
                self._path("timeseries", number).unlink()

    def finished_run_ids(self) -> set[int]:
        """Run ids already recorded (successful or failed)."""
        ids: set[int] = set()
        for number in self._part_numbers("runs"):
            path = self._path("runs", number)
            try:
                column = pq.read_table(path, columns=["run_id"]).column("run_id")
            except Exception as err:  # pyarrow raises several types for damaged files
                raise DamagedPartError(
                    f"{path}: this part of the unfinished sweep is damaged ({err}). Delete it "
                    f"(and {self._path('timeseries', number).name} if present) and resume again: "
                    "the runs it held are then run again"
                ) from None
            ids.update(column.to_pylist())
        return ids

    # ------------------------------------------------------------------ writing
    def add(self, record: dict[str, Any], factors: dict[str, Any]) -> None:
        """Buffer a finished run (a :func:`~flowsim.sweep.tasks.run_task` record), flush if due."""
        self._buffer.append({**record, "factors": factors})
        due = time.monotonic() - self._last_flush >= self.flush_seconds
        if len(self._buffer) >= self.batch_size or due:
            self.flush()

    def flush(self) -> None:
        """Write the buffered runs as one part (timeseries first, runs last)."""
        if not self._buffer:
            return
        number = self._next_part
        frames = []
        for rec in self._buffer:
            ts = rec.get("timeseries")
            if ts is not None and len(ts):
                ts = ts[["step", "year", "variable", "value"]].copy()
                ts.insert(0, "run_id", np.int64(rec["run_id"]))
                frames.append(ts)
        if frames:
            table = pa.Table.from_pandas(
                pd.concat(frames, ignore_index=True), schema=TIMESERIES_SCHEMA, preserve_index=False
            )
            _write_atomic(table, self._path("timeseries", number))
        _write_atomic(self._runs_table(self._buffer), self._path("runs", number))
        self._buffer = []
        self._next_part += 1
        self._last_flush = time.monotonic()

    def _runs_table(self, records: list[dict[str, Any]]) -> pa.Table:
        columns: dict[str, list[Any]] = {f.name: [] for f in self.schema}
        for rec in records:
            for name in ID_COLUMNS:
                columns[name].append(int(rec[name]))
            for field in self.schema:
                name = field.name
                if name in ID_COLUMNS or name == "error":
                    continue
                if name in rec["factors"]:
                    columns[name].append(rec["factors"][name])
                else:
                    columns[name].append(rec["outcomes"].get(name, float("nan")))
            columns["error"].append(rec["error"])
        return pa.table(columns, schema=self.schema)

    # ------------------------------------------------------------------ consolidation
    def consolidate(self) -> tuple[Path, Path]:
        """Write ``runs.parquet`` (sorted by run id) and ``timeseries.parquet`` from the parts."""
        self.flush()
        numbers = self._part_numbers("runs")
        tables = [pq.read_table(self._path("runs", n), schema=self.schema) for n in numbers]
        runs = pa.concat_tables(tables) if tables else self.schema.empty_table()
        runs = runs.sort_by("run_id")
        runs_path = self.folder / "runs.parquet"
        _write_atomic(runs, runs_path)
        ts_path = self.folder / "timeseries.parquet"
        tmp = ts_path.with_name(ts_path.name + ".tmp")
        try:
            with pq.ParquetWriter(tmp, TIMESERIES_SCHEMA) as writer:
                for n in self._part_numbers("timeseries"):
                    writer.write_table(
                        pq.read_table(self._path("timeseries", n), schema=TIMESERIES_SCHEMA)
                    )
            os.replace(tmp, ts_path)
        finally:
            tmp.unlink(missing_ok=True)
        return runs_path, ts_path

    def remove_parts(self) -> None:
        """Delete the parts folder (after consolidation and the final manifest)."""
        shutil.rmtree(self.parts, ignore_errors=True)


__all__ = ["ID_COLUMNS", "TIMESERIES_SCHEMA", "DamagedPartError", "SweepStore", "runs_schema"]
