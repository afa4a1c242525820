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
