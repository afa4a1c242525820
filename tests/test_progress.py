"""Progress off a terminal is a few plain lines, not a carriage-return bar (flowsim.progress)."""

from __future__ import annotations

import io

import pytest

from flowsim.progress import PlainProgress, progress_bar


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        """The time now, in seconds."""
        return self.now


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        """Always a terminal."""
        return True


def test_a_log_gets_one_plain_line_per_tenth_and_no_carriage_return(monkeypatch):
    monkeypatch.delenv("FLOWSIM_PROGRESS", raising=False)
    stream = io.StringIO()  # not a terminal, as a batch job's log
    with progress_bar(1000, desc="sweep base", unit="run", file=stream) as bar:
        assert isinstance(bar, PlainProgress), f"off a terminal the bar must be plain: {bar!r}"
        for _ in range(1000):
            bar.update(1)
    text = stream.getvalue()
    lines = text.splitlines()
    assert "\r" not in text, "a log must not receive carriage returns"
    assert len(lines) == 10, f"1000 updates must give 10 lines (one per 10%), got {len(lines)}"
    assert lines[0].startswith("sweep base: 100/1000 runs (10%), "), lines[0]
    assert lines[-1].startswith("sweep base: 1000/1000 runs (100%), "), lines[-1]


def test_a_plain_line_also_comes_each_minute_with_what_is_left():
    clock = Clock()
    stream = io.StringIO()
    bar = PlainProgress(1000, desc="run", unit="month", file=stream, clock=clock)
    for _ in range(30):  # 3% of the work, one minute apart: one line a minute
        clock.now += 60.0
        bar.update(1)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 30, f"one line a minute when a tenth takes longer, got {len(lines)}"
    assert lines[-1] == "run: 30/1000 months (3%), 30m00s elapsed, about 16h10m left", lines[-1]
    bar.set_postfix(failed=2)
    bar.close()
    assert stream.getvalue().splitlines()[-1] == lines[-1], "close repeats nothing already said"
    clock.now += 1.0
    bar.update(0)
    assert len(stream.getvalue().splitlines()) == 30


def test_a_resumed_count_and_postfix_and_close_say_the_end():
    stream = io.StringIO()
    bar = PlainProgress(10, desc="sweep", unit="run", initial=4, file=stream)
    bar.update(1)  # 5/10 crosses 50%: a line
    bar.set_postfix(failed=1)
    bar.update(2)  # 7/10 crosses 70%
    bar.close()
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("sweep: 5/10 runs (50%)"), lines
    assert lines[-1].startswith("sweep: 7/10 runs (70%)") and lines[-1].endswith("failed=1"), lines
    assert len(lines) == 2, lines


@pytest.mark.parametrize(
    ("mode", "ci", "stream", "kind"),
    [
        ("", "", Terminal, "tqdm"),
        ("", "true", Terminal, "PlainProgress"),
        ("plain", "", Terminal, "PlainProgress"),
        ("bar", "", io.StringIO, "tqdm"),
        ("off", "", Terminal, "_Silent"),
    ],
)
def test_the_choice_follows_the_stream_ci_and_flowsim_progress(monkeypatch, mode, ci, stream, kind):
    monkeypatch.setenv("FLOWSIM_PROGRESS", mode)
    monkeypatch.setenv("CI", ci)
    bar = progress_bar(5, desc="x", unit="run", file=stream())
    try:
        assert type(bar).__name__ == kind, f"FLOWSIM_PROGRESS={mode!r} CI={ci!r}: {bar!r}"
    finally:
        bar.close()


def test_disabled_and_unknown_totals_write_nothing_off_a_terminal(monkeypatch):
    monkeypatch.delenv("FLOWSIM_PROGRESS", raising=False)
    stream = io.StringIO()
    for disable in (True, None):  # None: only on a terminal (tqdm's rule, used by plot)
        with progress_bar(desc="figures", unit="figure", disable=disable, file=stream) as bar:
            bar.update(3)
            bar.set_postfix_str("a.png")
    assert stream.getvalue() == ""


def test_flowsim_run_logs_plain_progress_lines_off_a_terminal(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from flowsim.cli import main

    monkeypatch.delenv("FLOWSIM_PROGRESS", raising=False)
    baseline = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
    argv = ["run", str(baseline), "--scale", "0.003", "--steps", "20", "--replications", "2"]
    argv += ["--set", "warmup_steps=2", "--out", str(tmp_path / "r")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if "months (" in line]
    assert "\r" not in err, "flowsim run wrote a carriage-return bar into a log"
    assert len(progress) == 10, f"40 months must log 10 lines (one per 10%):\n{err}"
    assert progress[-1].startswith("baseline replicate 2/2: 40/40 months (100%)"), progress[-1]
