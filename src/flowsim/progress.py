"""Progress of long commands: a tqdm bar on a terminal, plain lines in a log.

A tqdm bar redraws itself with carriage returns many times a second. On a terminal
that is one line; in a batch job's log file (SLURM, nohup, CI) it is thousands. So
:func:`progress_bar` gives a tqdm bar only where the stream is a terminal (or a
notebook's widget under Jupyter), and elsewhere a :class:`PlainProgress` that writes
whole lines, one each time another tenth of the work is done or a minute has passed,
whichever comes first::

    sweep baseline: 40/100 runs (40%), 2m05s elapsed, about 3m08s left

``FLOWSIM_PROGRESS`` overrides the choice: ``plain`` (lines even on a terminal; the
``CI`` variable that CI services set does the same), ``bar`` (a tqdm bar even in a
log) or ``off``.
"""

from __future__ import annotations

import os
import sys
import time
from typing import IO, Any

PLAIN_FRACTION = 0.1
"""A plain line each time this fraction of the total is done (one line per 10%)."""

PLAIN_SECONDS = 60.0
"""... or when this many seconds have passed since the last line, whichever comes first."""


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class PlainProgress:
    """The part of tqdm's interface flowsim uses, written as plain, infrequent lines.

    Args:
        total: the amount of work (None when unknown: then a line a minute).
        desc: what is being done (the line's start).
        unit: the unit of work, singular ("run", "month").
        initial: work already done (a resumed sweep).
        file: the stream written to (default ``sys.stderr``).
        every: a line each time this fraction of ``total`` is done.
        seconds: ... or when this many seconds have passed since the last line.
        clock: the clock, in seconds (a test passes its own).
    """

    def __init__(
        self,
        total: float | None = None,
        desc: str | None = None,
        unit: str = "it",
        initial: float = 0,
        file: IO[str] | None = None,
        every: float = PLAIN_FRACTION,
        seconds: float = PLAIN_SECONDS,
        clock: Any = time.monotonic,
    ):
        self.total = total
        self.desc = desc or ""
        self.unit = unit
        self.n = initial
        self.file = file
        self.every = every
        self.seconds = seconds
        self.postfix = ""
        self._clock = clock
        self._start = clock()
        self._initial = initial
        self._last_time = self._start
        self._last_step = self._step(initial)
        self._last_n: float | None = None
        self._closed = False

    def _step(self, n: float) -> int:
        if not self.total:
            return 0
        return int(n / self.total / self.every + 1e-9)

    def line(self) -> str:
        """The progress line now."""
        elapsed = self._clock() - self._start
        unit = self.unit if self.n == 1 else f"{self.unit}s"
        count = f"{self.n:g}/{self.total:g} {unit}" if self.total else f"{self.n:g} {unit}"
        head = f"{self.desc}: " if self.desc else ""
        parts = [f"{head}{count}"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        parts.append(f"{_duration(elapsed)} elapsed")
        done = self.n - self._initial
        if self.total and 0 < done and self.n < self.total:
            parts.append(f"about {_duration(elapsed / done * (self.total - self.n))} left")
        if self.postfix:
            parts.append(self.postfix)
        return ", ".join(parts)

    def _write(self) -> None:
        stream = self.file if self.file is not None else sys.stderr
        print(self.line(), file=stream, flush=True)
        self._last_time = self._clock()
        self._last_step = self._step(self.n)
        self._last_n = self.n

    def update(self, n: float = 1) -> None:
        """Count ``n`` more units done; write a line at each tenth or after a minute."""
        self.n += n
        now = self._clock()
        if self._step(self.n) > self._last_step or now - self._last_time >= self.seconds:
            self._write()

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        """Change what the next line starts with."""
        self.desc = desc or ""

    def set_postfix(self, ordered_dict: Any = None, refresh: bool = True, **kwargs: Any) -> None:
        """Add ``key=value`` pairs at the end of the next lines."""
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Add a text at the end of the next lines."""
        self.postfix = s

    def close(self) -> None:
        """Write the last line (unless the last written already says it all)."""
        if self._closed:
            return
        self._closed = True
        if self.n != self._last_n and (self.n != self._initial or self._last_n is not None):
            self._write()

    def __enter__(self) -> PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Silent(PlainProgress):
    """Counts, writes nothing (``disable``)."""

    def _write(self) -> None:
        self._last_n = self.n

    def close(self) -> None:
        self._closed = True


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # a closed or a file-less stream
        return False


def _notebook_tqdm() -> Any:
    """Tqdm's notebook widget bar when running under a Jupyter kernel, else None."""
    if "ipykernel" not in sys.modules:
        return None
    from tqdm.auto import tqdm

    return tqdm if tqdm.__module__.startswith("tqdm.notebook") else None


def progress_bar(
    total: float | None = None,
    *,
    desc: str | None = None,
    unit: str = "it",
    initial: float = 0,
    disable: bool | None = False,
    file: IO[str] | None = None,
) -> Any:
    """A tqdm bar on a terminal or in a notebook; plain lines elsewhere (see the module).

    Args:
        total: the amount of work (None when unknown).
        desc: what is being done.
        unit: the unit of work, singular.
        initial: work already done.
        disable: True shows nothing; None shows nothing unless on a terminal (tqdm's rule).
        file: the stream (default ``sys.stderr``).

    Returns:
        An object with tqdm's ``update``, ``set_description``, ``set_postfix``,
        ``set_postfix_str`` and ``close``, usable in a ``with`` block.
    """
    stream = file if file is not None else sys.stderr
    mode = os.environ.get("FLOWSIM_PROGRESS", "").strip().lower()
    terminal = _is_terminal(stream)
    if disable or mode == "off" or (disable is None and not terminal):
        return _Silent(total, desc=desc, unit=unit, initial=initial, file=stream)
    notebook = _notebook_tqdm() if mode != "plain" else None
    if notebook is not None:
        return notebook(total=total, desc=desc, unit=unit, initial=initial)
    plain = mode == "plain" or (mode != "bar" and (not terminal or bool(os.environ.get("CI"))))
    if plain:
        return PlainProgress(total, desc=desc, unit=unit, initial=initial, file=stream)
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, initial=initial, file=stream)
