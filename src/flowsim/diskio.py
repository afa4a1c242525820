"""Writing results safely: one writer per folder, whole files, atomic replacement, signals.

Everything flowsim writes goes through here, so that "nothing a user produced is
overwritten or lost without being asked" holds in one place:

- :class:`WriterLock` — a cross-platform lock file (:mod:`filelock`: ``flock`` on
  POSIX, ``msvcrt`` on Windows) beside a record of the writer's pid, host and start
  time, held for as long as a process writes a folder. A second writer is refused with
  :class:`FolderLockedError`, which names the holder. A lock whose process died is
  *stale*: the operating system released it, so the next writer takes it over (and
  says so). On platforms or file systems without such locks an ``O_EXCL`` lock file is
  used, stale when its pid is gone on this host.
- :func:`atomic_path` / :func:`write_text_atomic` / :func:`write_csv_atomic` /
  :func:`save_figure_atomic` — a file is written under a hidden temporary name in the
  same folder, synced to disk, and renamed over its final name only when it is
  complete, so a full disk or a kill leaves the old file or none, never a 0-byte or
  half-written one.
- :func:`atomic_files` — the same for a group of files that belong together (a table
  and its figure): every file is written and synced under its temporary name first,
  and only then are they all renamed into place. Renames need no free space, so a
  full disk (or any error while writing) leaves every previous file as it was and no
  new one: never a CSV without its PNG. :func:`write_error_message` says what went
  wrong in one sentence for the commands' ``exit 1`` message.
- :func:`replace_folder` — a complete new folder takes the place of an old one with
  ``renameat2(RENAME_EXCHANGE)`` on Linux: at every instant the path holds either the
  old or the new complete folder. Where the exchange is not available the two renames
  it needs are done with SIGINT, SIGTERM and SIGHUP held off, and a crash between them
  (SIGKILL, power loss) is repaired by :func:`clean_stale` on the next run.
- :func:`clean_stale` — hidden ``.NAME.partial-*`` / ``.NAME.replaced-*`` folders left
  in a parent folder by killed writers are removed (or, where an old folder is not
  back in place, renamed back), and reported.
- :func:`signals_as_interrupt` — SIGTERM and SIGHUP (a batch job's time limit, a
  closed terminal) raise :class:`Interrupted`, a ``KeyboardInterrupt``, so they clean
  up exactly as Ctrl-C does.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import math
import os
import re
import shutil
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

LOCK_SUFFIX = ".lock"
HOLDER_SUFFIX = ".holder"
_TOKEN = r"[0-9a-f]{8}"


class FolderLockedError(RuntimeError):
    """Another live process is writing the folder; the message names it."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; handled like Ctrl-C."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


# ------------------------------------------------------------------ locks


def _holder_text() -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})


def _read_holder(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process there; assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_holder(holder: dict) -> str:
    """``process 1234 on host h`` (or ``another process`` when the lock file says nothing)."""
    if "pid" not in holder:
        return "another process"
    return f"process {holder['pid']} on host {holder.get('host', '?')}"


class WriterLock:
    """An exclusive, non-blocking lock on a folder, held while one process writes it.

    Use as a context manager or with :meth:`acquire` / :meth:`release`::

        with WriterLock(folder, what="sweep folder"):
            ...  # write the folder

    The lock is a :mod:`filelock` lock (``flock`` on POSIX, ``msvcrt.locking`` on
    Windows; the operating system releases it when its process dies) on the file
    ``.NAME.lock`` beside the folder, so the folder itself can be removed or replaced
    while it is locked. Where the platform or the file system has no such lock (no
    ``fcntl``, some network file systems) filelock's ``O_EXCL`` soft lock is used, and
    a lock whose process is gone on this host is taken over.

    Who holds the lock is written to ``.NAME.lock.holder`` (pid, host, start time),
    which a refused writer reads to name the holder, and which the holder removes
    when it releases: a holder record found on taking the lock is a dead writer's, so
    ``stale`` is then set to its description (else it stays None).

    Raises (from :meth:`acquire`):
        FolderLockedError: a live process holds the lock.
    """

    def __init__(self, folder: str | Path, what: str = "folder"):
        folder = Path(os.path.abspath(folder))
        self.folder = folder
        self.path = folder.with_name(f".{folder.name}{LOCK_SUFFIX}")
        self.holder_path = folder.with_name(f".{folder.name}{LOCK_SUFFIX}{HOLDER_SUFFIX}")
        self.what = what
        self.stale: str | None = None
        self._lock: Any = None

    def _refuse(self, holder: dict) -> FolderLockedError:
        return FolderLockedError(
            f"{self.folder}: this {self.what} is being written by {describe_holder(holder)} "
            f"(lock file {self.path}); wait for it to finish, or stop it, then try again. "
            "Nothing was changed."
        )

    def acquire(self) -> WriterLock:
        """Take the lock or raise :class:`FolderLockedError`."""
        import filelock

        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            lock = filelock.FileLock(str(self.path), timeout=0, thread_local=False)
            try:
                lock.acquire()
            except filelock.Timeout:
                if isinstance(lock, filelock.SoftFileLock) and self._break_dead_soft_lock():
                    continue
                raise self._refuse(_read_holder(self.holder_path)) from None
            except NotImplementedError:  # filelock 3 on a file system without flock
                return self._acquire_exclusive()
            if not self._holds_the_current_file(lock):
                lock.release()  # a releasing holder removed the file between open and lock
                continue
            return self._take(lock)
        raise self._refuse({})  # pragma: no cover - a lock file replaced 20 times in a row

    def _acquire_exclusive(self) -> WriterLock:
        """The soft lock: the lock file's existence is the lock; stale if its pid is gone."""
        import filelock

        for _ in range(2):
            lock = filelock.SoftFileLock(str(self.path), timeout=0, thread_local=False)
            try:
                lock.acquire()
            except filelock.Timeout:
                if self._break_dead_soft_lock():
                    continue
                raise self._refuse(_read_holder(self.holder_path)) from None
            return self._take(lock)
        raise self._refuse(_read_holder(self.holder_path))

    def _break_dead_soft_lock(self) -> bool:
        """Remove a soft lock whose holder (per its holder record) is gone on this host."""
        holder = _read_holder(self.holder_path)
        here = holder.get("host") == socket.gethostname()
        if not (here and isinstance(holder.get("pid"), int) and not _pid_alive(holder["pid"])):
            return False
        self.stale = describe_holder(holder)
        for path in (self.path, self.holder_path):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        return True

    def _holds_the_current_file(self, lock: Any) -> bool:
        """Whether the locked file is still the one at ``self.path`` (True where unknown)."""
        fd = getattr(getattr(lock, "_context", None), "lock_file_fd", None)
        if not isinstance(fd, int):
            return True
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except OSError:
            return False

    def _take(self, lock: Any) -> WriterLock:
        previous = _read_holder(self.holder_path) if self.holder_path.exists() else None
        if previous is not None:
            self.stale = describe_holder(previous)
        try:
            self.holder_path.write_text(_holder_text(), encoding="utf-8")
        except OSError:
            lock.release()
            raise
        self._lock = lock
        return self

    def release(self) -> None:
        """Give the lock back and remove the lock file and the holder record."""
        if self._lock is None:
            return
        with contextlib.suppress(FileNotFoundError):
            self.holder_path.unlink()
        # removed while still held, so no other writer can lock it and then lose it; on
        # Windows a locked file cannot be removed, and filelock removes it on release
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._lock.release()
        self._lock = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._lock is not None

    def __enter__(self) -> WriterLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def output_lock(folder: str | Path, what: str = "folder") -> Iterator[WriterLock | None]:
    """Hold ``folder``'s :class:`WriterLock` while a command writes its outputs there.

    Two commands writing the same outputs at once are refused, not interleaved: the
    second raises :class:`FolderLockedError` (exit 2, naming the first). Where no lock
    file can be made beside the folder (a read-only parent) the block runs unlocked:
    each file is still written atomically. With the lock held, the hidden temporary
    files a killed writer left in the folder are removed
    (:func:`remove_stale_temporaries`).
    """
    lock = WriterLock(folder, what=what)
    try:
        lock.acquire()
    except FolderLockedError:
        raise
    except OSError:
        yield None
        return
    try:
        remove_stale_temporaries(Path(folder))
        yield lock
    finally:
        lock.release()


STALE_TEMPORARY_SECONDS = 600.0
"""Age after which a hidden temporary file of :func:`atomic_path` is a killed writer's."""


def remove_stale_temporaries(
    folder: Path, older_than: float = STALE_TEMPORARY_SECONDS
) -> list[str]:
    """Remove the hidden temporary files a killed writer left in ``folder``; return their names.

    Only files named as :func:`atomic_path` names them and not modified for
    ``older_than`` seconds: no live writer takes that long over one output file.
    """
    removed = []
    now = time.time()
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not TEMP_FILE.match(entry.name):
            continue
        try:
            if entry.is_file() and now - entry.stat().st_mtime > older_than:
                entry.unlink()
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def lock_holder(folder: str | Path) -> str | None:
    """Who holds the writer lock of ``folder`` now (None if nobody does)."""
    probe = WriterLock(folder)
    if not probe.path.exists():
        return None
    try:
        probe.acquire()
    except FolderLockedError:
        return describe_holder(_read_holder(probe.holder_path))
    except OSError:  # a read-only folder: nobody can be writing there
        return None
    probe.release()
    return None


# ------------------------------------------------------------------ whole files


TEMP_FILE = re.compile(r"^\..+\.tmp-[0-9a-f]{8}(\.[A-Za-z0-9]+)?$")
"""Names of the hidden temporary files of :func:`atomic_path` (``.NAME.tmp-<token><suffix>``)."""


def _temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}{path.suffix}")


def _sync_file(path: Path) -> None:
    """Flush a written file's data to disk (a full disk can surface only here)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    """Make renames in ``folder`` durable (best effort: not every file system allows it)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_written(tmp: Path, path: Path) -> None:
    if not tmp.exists() or tmp.stat().st_size == 0:
        raise OSError(errno.EIO, f"nothing was written for {path}", str(path))
    _sync_file(tmp)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block succeeds.

    The temporary file keeps ``path``'s suffix (so writers that choose a format by
    suffix work) and is synced to disk before the rename. On any error (a full disk
    included) the temporary file is removed and ``path`` is left as it was: the old
    file, or nothing.
    """
    with atomic_files([path]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_files(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporary paths beside each of ``paths``; all renamed into place when the block succeeds.

    The block writes every temporary file; each is then checked (present and not
    empty) and synced to disk, and only when all are does any rename happen. A
    rename takes no space, so a full disk, a kill or any error in the block leaves
    every one of ``paths`` as it was (the old file or none) and removes the temporary
    files: a group of outputs is replaced whole or not at all.

    Example::

        with atomic_files([out / "a.csv", out / "a.png"]) as (csv, png):
            table.to_csv(csv)
            figure.savefig(png)
    """
    finals = [Path(p) for p in paths]
    for folder in dict.fromkeys(p.parent for p in finals):
        folder.mkdir(parents=True, exist_ok=True)
    temps = [_temporary_name(p) for p in finals]
    try:
        yield temps
        for tmp, path in zip(temps, finals, strict=True):
            _check_written(tmp, path)
        for tmp, path in zip(temps, finals, strict=True):
            os.replace(tmp, path)
        for folder in dict.fromkeys(p.parent for p in finals):
            _sync_folder(folder)
    except OSError as err:  # name the file the user asked for, not its temporary name
        final = {str(t): str(f) for t, f in zip(temps, finals, strict=True)}
        if isinstance(err.filename, (str, os.PathLike)) and str(err.filename) in final:
            err.filename = final[str(err.filename)]
        elif not err.filename and len(finals) == 1:
            err.filename = str(finals[0])
        raise
    finally:
        for tmp in temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def write_csv_atomic(frame: Any, path: str | Path, **options: Any) -> Path:
    """``frame.to_csv(path, **options)`` written atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, **options)
    return Path(path)


def save_figure_atomic(fig: Any, path: str | Path, **options: Any) -> Path:
    """``fig.savefig(path, **options)`` written atomically; the suffix chooses the format."""
    path = Path(path)
    options.setdefault("format", path.suffix.lstrip(".").lower() or None)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, **options)
    return path


def write_error_message(err: OSError, what: str = "the outputs", group: bool = True) -> str:
    """One sentence on a failed write, for a command's ``exit 1`` message (no traceback).

    A full disk or quota is named as such, and what to do is said. With ``group`` (the
    outputs were written together by :func:`atomic_files`) the sentence says that
    nothing was replaced; otherwise that each file is whole (the old or the new one).
    """
    where = f" ({err.filename})" if getattr(err, "filename", None) else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = "the disk is full" if err.errno == errno.ENOSPC else "the disk quota is exceeded"
        advice = "free some space and run the command again"
    else:
        reason = err.strerror or str(err) or type(err).__name__
        advice = "check the folder and run the command again"
    state = (
        "nothing was replaced (earlier files are unchanged, no new file is half-written)"
        if group
        else "each file is whole: the earlier one or a complete new one, never half-written"
    )
    return f"cannot write {what}{where}: {reason}; {state}; {advice}"


def finite(value: Any) -> Any:
    """``value`` with every float that is not finite (NaN, +-Infinity) replaced by None.

    Goes through dicts, lists and tuples (tuples become lists, as in JSON).
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(item) for item in value]
    if hasattr(value, "dtype") and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return finite(value.item())  # a numpy scalar
    return value


def strict_json(data: Any, **options: Any) -> str:
    """Strict JSON text of ``data`` (``allow_nan=False``): a non-finite number is ``null``.

    ``NaN`` and ``Infinity`` are not JSON (RFC 8259), and many readers refuse them. In
    flowsim's JSON files ``null`` in place of a number means *undefined*: a ratio whose
    denominator was zero, or a value too large for a float.
    """
    return json.dumps(finite(data), allow_nan=False, **options)


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write a whole text file (UTF-8) atomically; return its path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# ------------------------------------------------------------------ folders

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> object | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    function = _renameat2()
    if function is None:
        return False
    result = function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


# SIGHUP (and on some platforms SIGTERM) does not exist on Windows: read them with getattr.
_HELD = tuple(
    s
    for s in (signal.SIGINT, getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
    if s
)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP arriving in the block are acted on only after it.

    The handlers are swapped for one that notes the signal, and the noted signals are
    raised again once the old handlers are back. (Masking with ``pthread_sigmask`` is
    not enough: a signal sent to the process may be taken by another thread, and
    Python then runs its handler in the main thread all the same.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []

    def note(signum: int, frame: object) -> None:
        pending.append(signum)

    previous = {}
    for signum in _HELD:
        with contextlib.suppress(ValueError, OSError):
            previous[signum] = signal.signal(signum, note)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)


def hidden_sibling(folder: Path, kind: str, token: str) -> Path:
    """``.NAME.<kind>-<token>`` beside ``folder`` (kind: partial or replaced)."""
    return folder.with_name(f".{folder.name}.{kind}-{token}")


def foreign_entries(folder: Path, owned: Callable[[str], bool]) -> list[str]:
    """Names in ``folder`` that flowsim did not write (``owned(name)`` is false), sorted.

    Hidden temporary files of :func:`atomic_path` count as flowsim's.
    """
    try:
        names = [entry.name for entry in folder.iterdir()]
    except OSError:
        return []
    return sorted(n for n in names if not owned(n) and not TEMP_FILE.match(n))


def keep_journal(folder: Path, token: str) -> Path:
    """``.NAME.keep-<token>.json`` beside ``folder``: what :func:`replace_folder` carries over."""
    return folder.with_name(f".{folder.name}.keep-{token}.json")


def _carry_over(old: Path, folder: Path, names: Sequence[str]) -> list[str]:
    """Move ``names`` from ``old`` into ``folder``, never over something; return those moved."""
    moved = []
    for name in names:
        source = old / name
        if not (source.exists() or source.is_symlink()):
            continue
        target = folder / name
        if target.exists() or target.is_symlink():  # never overwrite: keep it under a new name
            target = folder / f"{name}.kept-{uuid.uuid4().hex[:8]}"
        os.rename(source, target)
        moved.append(target.name)
    return moved


def replace_folder(new: Path, folder: Path, token: str, keep: Sequence[str] = ()) -> list[str]:
    """Put the complete folder ``new`` at ``folder``, replacing what is there; keep ``keep``.

    With an existing ``folder`` the two are exchanged atomically and the old one
    (now at ``new``'s name) is renamed to ``.NAME.replaced-<token>``. The entries named
    in ``keep`` (what the user added: notes, figures, a notebook; see
    :func:`foreign_entries`) are then moved from it into the new folder, and the rest
    of the old folder is removed. At every instant ``folder`` holds the old or the new
    complete folder, and the kept entries are in one of the two: a journal
    (:func:`keep_journal`) written before the exchange lets :func:`clean_stale` finish
    the move after a kill.

    Returns:
        the names kept (as they are now called in ``folder``).
    """
    if not folder.exists():
        os.rename(new, folder)
        return []
    old = hidden_sibling(folder, "replaced", token)
    journal = keep_journal(folder, token)
    if keep:
        write_text_atomic(journal, json.dumps({"keep": list(keep)}) + "\n")
    try:
        if exchange(new, folder):
            os.rename(new, old)
        else:  # two renames; signals cannot fall between them (SIGKILL aside: see clean_stale)
            with _signals_held():
                os.rename(folder, old)
                try:
                    os.rename(new, folder)
                except BaseException:
                    os.rename(old, folder)
                    raise
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            journal.unlink()
        raise
    with _signals_held():
        kept = _carry_over(old, folder, keep)
    shutil.rmtree(old, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        journal.unlink()
    return kept


_STALE = re.compile(rf"^\.(?P<name>.+)\.(?P<kind>partial|replaced)-(?P<token>{_TOKEN})$")
_JOURNAL = re.compile(rf"^\.(?P<name>.+)\.keep-(?P<token>{_TOKEN})\.json$")


def _journal_names(journal: Path) -> list[str]:
    try:
        data = json.loads(journal.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    names = data.get("keep") if isinstance(data, dict) else None
    if not isinstance(names, list):
        return []
    return [n for n in names if isinstance(n, str) and n and "/" not in n and n not in (".", "..")]


def clean_stale(parent: str | Path) -> list[str]:
    """Remove what killed writers left in ``parent``; return one sentence per thing done.

    A ``.NAME.partial-T`` or ``.NAME.replaced-T`` folder whose writer lock
    (``..NAME.partial-T.lock``) no live process holds is stale. A stale replaced
    folder whose ``NAME`` is missing holds the only copy of the old results: it is
    renamed back to ``NAME``. One whose ``NAME`` is there first gives ``NAME`` back
    what the user had added (the entries its keep journal lists), then is removed.
    Everything else stale is removed.
    """
    parent = Path(parent)
    notes: list[str] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return notes
    for entry in sorted(entries):
        match = _STALE.match(entry.name)
        if not match or not entry.is_dir() or entry.is_symlink():
            continue
        lock = WriterLock(hidden_sibling(parent / match["name"], "partial", match["token"]))
        try:
            lock.acquire()
        except (FolderLockedError, OSError):
            continue  # a live writer
        try:
            target = parent / match["name"]
            journal = keep_journal(target, match["token"])
            if match["kind"] == "replaced" and not target.exists():
                os.rename(entry, target)
                notes.append(
                    f"{target}: restored the results an interrupted replacement had moved "
                    f"aside ({entry.name})"
                )
            else:
                if match["kind"] == "replaced" and journal.is_file():
                    moved = _carry_over(entry, target, _journal_names(journal))
                    if moved:
                        notes.append(
                            f"{target}: moved back what an interrupted --force kept: "
                            f"{', '.join(moved)}"
                        )
                shutil.rmtree(entry, ignore_errors=True)
                what = "unfinished results" if match["kind"] == "partial" else "replaced results"
                notes.append(f"{entry}: removed {what} left by an interrupted flowsim process")
            with contextlib.suppress(FileNotFoundError):
                journal.unlink()
        finally:
            lock.release()
    for entry in sorted(entries):  # journals whose replacement never started or has finished
        match = _JOURNAL.match(entry.name)
        if not match or hidden_sibling(parent / match["name"], "replaced", match["token"]).exists():
            continue
        lock = WriterLock(hidden_sibling(parent / match["name"], "partial", match["token"]))
        try:
            lock.acquire()
        except (FolderLockedError, OSError):
            continue
        try:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
        finally:
            lock.release()
    return notes


# ------------------------------------------------------------------ signals


@contextlib.contextmanager
def signals_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Interrupted` (like Ctrl-C).

    A SIGHUP already ignored (``nohup``) stays ignored, so a run survives a closed terminal.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {}
    for signum in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)):
        if signum is None:
            continue  # a platform without this signal (Windows has no SIGHUP)
        if signum != signal.SIGTERM and signal.getsignal(signum) is signal.SIG_IGN:
            continue  # started under nohup: a hang-up must not stop the run
        with contextlib.suppress(ValueError, OSError):
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def interrupt_exit_code(err: BaseException) -> int:
    """128 + the signal's number (130 for Ctrl-C)."""
    return 128 + (err.signum if isinstance(err, Interrupted) else signal.SIGINT)


__all__ = [
    "FolderLockedError",
    "Interrupted",
    "WriterLock",
    "atomic_files",
    "atomic_path",
    "clean_stale",
    "exchange",
    "finite",
    "foreign_entries",
    "interrupt_exit_code",
    "lock_holder",
    "output_lock",
    "remove_stale_temporaries",
    "replace_folder",
    "save_figure_atomic",
    "signals_as_interrupt",
    "strict_json",
    "write_csv_atomic",
    "write_error_message",
    "write_text_atomic",
]
