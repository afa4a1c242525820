"""flowsim imports and answers ``--help`` on a platform without POSIX-only signals."""

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def test_help_without_sighup(tmp_path: Path) -> None:
    """With signal.SIGHUP deleted (as on Windows), ``flowsim --help`` still exits 0."""
    (tmp_path / "sitecustomize.py").write_text("import signal\ndel signal.SIGHUP\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(SRC)]))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import signal; assert not hasattr(signal, 'SIGHUP');"
            "import sys; from flowsim.cli import main; sys.argv=['flowsim','--help']; main()",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"flowsim --help failed without SIGHUP:\n{proc.stderr[-2000:]}"
    assert "usage" in proc.stdout.lower(), proc.stdout[:500]


NO_FCNTL_LOCKS = """
import sys, warnings
warnings.simplefilter("ignore")  # filelock says "only soft file lock is available"
from pathlib import Path
from flowsim.diskio import FolderLockedError, WriterLock, lock_holder
folder = Path(sys.argv[1]) / "sweep"
first = WriterLock(folder, what="sweep folder").acquire()
try:
    WriterLock(folder, what="sweep folder").acquire()
except FolderLockedError as err:
    print("REFUSED", err)
print("HOLDER", lock_holder(folder))
first.release()
print("RELEASED", first.path.exists(), first.holder_path.exists(), lock_holder(folder))
"""


def test_locks_work_on_a_platform_without_fcntl(tmp_path: Path) -> None:
    """With ``fcntl`` missing (as on Windows), flowsim imports, and a second writer is refused."""
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['fcntl'] = None\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(SRC)]))
    check = "import fcntl" + "\n"
    probe = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True)
    assert probe.returncode != 0, "the simulated platform must have no fcntl"
    help_run = subprocess.run(
        [sys.executable, "-m", "flowsim", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert help_run.returncode == 0, f"flowsim --help failed without fcntl:\n{help_run.stderr}"
    proc = subprocess.run(
        [sys.executable, "-c", NO_FCNTL_LOCKS, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"locking failed without fcntl:\n{proc.stderr[-2000:]}"
    out = proc.stdout
    assert f"REFUSED {tmp_path / 'sweep'}: this sweep folder is being written by process" in out, (
        f"a second writer must be refused with the holder named:\n{out}"
    )
    assert "Nothing was changed" in out and "HOLDER process" in out, out
    assert "RELEASED False False None" in out, f"release must remove the lock files:\n{out}"
