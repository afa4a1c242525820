"""Safe writing (flowsim.diskio): one writer per folder, whole files, atomic swaps, signals."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flowsim import diskio
from flowsim.diskio import (
    FolderLockedError,
    Interrupted,
    WriterLock,
    atomic_path,
    clean_stale,
    replace_folder,
    signals_as_interrupt,
    write_text_atomic,
)

HOLD = textwrap.dedent(
    """
    import sys, time
    from flowsim.diskio import WriterLock
    lock = WriterLock(sys.argv[1], what="sweep folder").acquire()
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    lock.release()
    """
)


def _hold_in_child(folder: Path, seconds: float) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held", (
        "the child process did not take the lock"
    )
    return child


def test_a_second_writer_in_another_process_is_refused_with_the_holder_named(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "sweep"
    child = _hold_in_child(folder, 30)
    try:
        with pytest.raises(FolderLockedError) as caught:
            WriterLock(folder, what="sweep folder").acquire()
        text = str(caught.value)
        assert f"process {child.pid}" in text, f"the refusal must name the holder: {text}"
        assert "Nothing was changed" in text, text
        assert diskio.lock_holder(folder) is not None, "lock_holder must see the live holder"
    finally:
        child.kill()
        child.wait()


def test_a_lock_left_by_a_killed_process_is_stale_and_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "sweep"
    child = _hold_in_child(folder, 30)
    child.send_signal(signal.SIGKILL)
    child.wait()
    lock = WriterLock(folder).acquire()
    try:
        assert lock.stale == f"process {child.pid} on host {os.uname().nodename}", (
            f"the takeover must say whose lock was stale, got {lock.stale!r}"
        )
    finally:
        lock.release()
    assert not lock.path.exists(), "releasing removes the lock file"
    assert not lock.holder_path.exists(), "releasing removes the holder record"
    assert diskio.lock_holder(folder) is None


def test_o_excl_fallback_refuses_a_live_holder_and_takes_over_a_dead_one(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    first = WriterLock(folder)._acquire_exclusive()
    with pytest.raises(FolderLockedError, match=f"process {os.getpid()}"):
        WriterLock(folder)._acquire_exclusive()
    first.release()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], text=True, capture_output=True
    ).stdout.strip()
    stale = WriterLock(folder)
    stale.path.write_text("")  # a soft lock file and its holder record left by a dead writer
    stale.holder_path.write_text(json.dumps({"pid": int(dead), "host": os.uname().nodename}))
    again = WriterLock(folder)._acquire_exclusive()
    assert again.stale == f"process {dead} on host {os.uname().nodename}"
    again.release()


def test_atomic_write_on_a_full_disk_leaves_the_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(OSError), atomic_path(target) as tmp:
        tmp.write_text("new, half")
        raise OSError(errno.ENOSPC, "No space left on device")
    assert target.read_text() == "old\n", "the old file must be untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"], "no temporary left"
    fresh = tmp_path / "figure.png"
    with pytest.raises(OSError, match="nothing was written"), atomic_path(fresh) as tmp:
        tmp.write_bytes(b"")  # a writer that wrote nothing (e.g. swallowed ENOSPC)
    assert not fresh.exists(), "a 0-byte result is never put in place"
    write_text_atomic(fresh.with_suffix(".txt"), "ok")
    assert fresh.with_suffix(".txt").read_text() == "ok"


def _folder(path: Path, text: str) -> Path:
    path.mkdir()
    (path / "manifest.json").write_text(text)
    return path


def test_replacement_exchanges_atomically_so_the_path_always_holds_a_whole_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _folder(tmp_path / "out", "old")
    new = _folder(tmp_path / ".out.partial-0000abcd", "new")
    seen: list[str] = []
    real_rename = os.rename

    def watching_rename(a, b):
        seen.append((Path(out) / "manifest.json").read_text())  # out is whole before each step
        real_rename(a, b)
        seen.append((Path(out) / "manifest.json").read_text())  # ... and after

    monkeypatch.setattr(diskio.os, "rename", watching_rename)
    replace_folder(new, out, "0000abcd")
    assert (out / "manifest.json").read_text() == "new"
    assert seen and set(seen) <= {"old", "new"}, f"out was not a whole folder at some step: {seen}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"], "nothing left beside it"


def test_renameat2_exchange_is_used_on_linux(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux only")
    a = _folder(tmp_path / "a", "A")
    b = _folder(tmp_path / "b", "B")
    assert diskio.exchange(a, b), "renameat2(RENAME_EXCHANGE) should work on this file system"
    assert (a / "manifest.json").read_text() == "B" and (b / "manifest.json").read_text() == "A"


def test_without_exchange_a_signal_between_the_two_renames_waits_until_both_are_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _folder(tmp_path / "out", "old")
    new = _folder(tmp_path / ".out.partial-0000abcd", "new")
    monkeypatch.setattr(diskio, "exchange", lambda a, b: False)
    real_rename = os.rename
    calls = []

    def rename_then_signal(a, b):
        real_rename(a, b)
        calls.append(b)
        if len(calls) == 1:  # out is missing right now: a SIGTERM here must not be acted on yet
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(diskio.os, "rename", rename_then_signal)
    with pytest.raises(Interrupted), signals_as_interrupt():
        replace_folder(new, out, "0000abcd")
    assert (out / "manifest.json").read_text() == "new", (
        "the signal arrived between the renames but was held until the new folder was in place"
    )


def test_clean_stale_removes_dead_partials_restores_moved_aside_results_and_spares_live_ones(
    tmp_path: Path,
) -> None:
    dead_partial = _folder(tmp_path / ".run.partial-0000aaaa", "half")
    _folder(tmp_path / ".gone.replaced-0000bbbb", "the only copy")
    live = _folder(tmp_path / ".busy.partial-0000cccc", "being written")
    child = _hold_in_child(live, 30)
    try:
        notes = clean_stale(tmp_path)
    finally:
        child.kill()
        child.wait()
    assert not dead_partial.exists(), "a partial folder nobody writes is removed"
    assert (tmp_path / "gone" / "manifest.json").read_text() == "the only copy", (
        "results moved aside by an interrupted replacement are put back"
    )
    assert live.exists(), "a partial folder a live process writes is left alone"
    assert len(notes) == 2 and any("restored" in n for n in notes), notes


def test_sigterm_and_sighup_raise_interrupted_inside_the_block_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with pytest.raises(Interrupted) as caught, signals_as_interrupt():
            os.kill(os.getpid(), signum)
            time.sleep(1)
        assert caught.value.signum == signum
        assert diskio.interrupt_exit_code(caught.value) == 128 + signum
    assert signal.getsignal(signal.SIGTERM) == before, "the old handler is restored"


def test_signals_are_held_even_when_another_thread_could_take_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)  # a thread that does not block
    other.start()
    try:
        test_without_exchange_a_signal_between_the_two_renames_waits_until_both_are_done(
            tmp_path, monkeypatch
        )
    finally:
        stop.set()
        other.join()
